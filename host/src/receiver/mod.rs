//! OTLP receivers (placeholder until the receiver branch lands).
use std::net::SocketAddr;
use std::sync::Arc;
use crate::config::receiver::OtlpReceiverConfig;
use crate::pipeline::Ingest;

pub struct RunningReceiver { pub grpc_addr: Option<SocketAddr>, pub http_addr: Option<SocketAddr> }
impl RunningReceiver { pub async fn join(self) {} }
#[derive(Debug, thiserror::Error)]
#[error("not yet")]
pub struct ReceiverError;
pub async fn start(_id: &str, _c: &OtlpReceiverConfig, _i: Arc<dyn Ingest>, _s: tokio::sync::watch::Receiver<bool>) -> Result<RunningReceiver, ReceiverError> { Err(ReceiverError) }
