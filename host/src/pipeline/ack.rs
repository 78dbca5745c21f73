//! Acknowledgement after a durable enqueue: a request whose pipeline sends
//! to an exporter with a persistent queue is answered only once every batch
//! cut from it is on disk there (or was dropped by a processor).
//!
//! The [`Ack`] rides in each [`Batch`](super::Batch) like the memory
//! permits do, through merges and splits; the exporter fan-out takes it out
//! before queueing and drops it once the persistent queues have stored the
//! batch. When the last holder drops it, the waiting receiver is answered.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// One waiting request's acknowledgement.
#[derive(Debug)]
pub struct Ack {
    tx: Mutex<Option<oneshot::Sender<Result<(), String>>>>,
    failure: Mutex<Option<String>>,
}

/// The receiver's side: resolves when every part was stored (or failed).
pub struct AckWait(oneshot::Receiver<Result<(), String>>);

impl Ack {
    pub fn new() -> (Arc<Ack>, AckWait) {
        let (tx, rx) = oneshot::channel();
        let ack = Ack {
            tx: Mutex::new(Some(tx)),
            failure: Mutex::new(None),
        };
        (Arc::new(ack), AckWait(rx))
    }

    /// A part could not be stored: the request will be refused (the client
    /// retries; parts stored elsewhere may then arrive twice).
    pub fn fail(&self, reason: &str) {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        failure.get_or_insert_with(|| reason.to_string());
    }
}

impl Drop for Ack {
    fn drop(&mut self) {
        let failure = self
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(tx) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(failure.map_or(Ok(()), Err));
        }
    }
}

impl AckWait {
    /// Waits for every part; `Err` says why one was not stored.
    pub async fn wait(self) -> Result<(), String> {
        self.0
            .await
            .unwrap_or_else(|_| Err("the pipeline stopped".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_when_the_last_part_is_gone() {
        let (ack, mut wait) = Ack::new();
        let parts = [ack.clone(), ack.clone()];
        drop(ack);
        drop(parts[0].clone());
        assert!(futures_util::poll!(&mut wait.0).is_pending());
        parts[1].fail("disk full");
        drop(parts);
        assert_eq!(wait.wait().await, Err("disk full".into()));
    }
}
