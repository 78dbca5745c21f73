//! Appending exporter output to a file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    fn open_failure_names_the_path() {
        let err = FileSink::open(Path::new("/nonexistent-dir/x.json")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/x.json"), "{err}");
    }
}
