//! Appending exporter output to a file.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::TransportError;

/// A file opened for appending, shared by an exporter's deliveries.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    file: Mutex<File>,
}

impl FileSink {
    /// Opens (creating if needed) `path` for appending.
    pub fn open(path: &Path) -> Result<Self, TransportError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| TransportError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(FileSink {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// The sink for `path`, shared with every exporter writing it (old and
    /// new pipelines during a reload), so their records never interleave.
    pub fn shared(path: &Path) -> Result<Arc<Self>, TransportError> {
        static OPEN: OnceLock<Mutex<HashMap<PathBuf, Weak<FileSink>>>> = OnceLock::new();
        let key = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut open = OPEN
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        open.retain(|_, sink| sink.strong_count() > 0);
        if let Some(sink) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(sink);
        }
        let sink = Arc::new(FileSink::open(path)?);
        open.insert(key, Arc::downgrade(&sink));
        Ok(sink)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the bodies in one locked write, so records of concurrent
    /// deliveries never interleave.
    pub fn append(&self, bodies: &[Vec<u8>]) -> Result<(), TransportError> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let write = |file: &mut File| -> std::io::Result<()> {
            for body in bodies {
                file.write_all(body)?;
            }
            file.flush()
        };
        write(&mut file).map_err(|source| TransportError::Write {
            target: self.path.display().to_string(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_in_order_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        FileSink::open(&path)
            .unwrap()
            .append(&[b"a\n".to_vec(), b"b\n".to_vec()])
            .unwrap();
        FileSink::open(&path)
            .unwrap()
            .append(&[b"c\n".to_vec()])
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nb\nc\n");
    }

    #[test]
    fn shared_sinks_are_one_per_path() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileSink::shared(&dir.path().join("x")).unwrap();
        let b = FileSink::shared(&dir.path().join("x")).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = FileSink::shared(&dir.path().join("y")).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn open_failure_names_the_path() {
        let err = FileSink::open(Path::new("/nonexistent-dir/x.json")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/x.json"), "{err}");
    }
}
