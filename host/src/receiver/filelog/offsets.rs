//! Read offsets kept in a `file_storage` folder, so a restart resumes where
//! the last run's accepted records ended. A file is known again by its
//! device and inode and by the first bytes it had (an inode can be reused by
//! a new file; its first bytes then differ).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How many leading bytes identify a file.
pub const FINGERPRINT_BYTES: usize = 64;

/// Where one file was read up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offset {
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
    /// The file's first bytes (up to [`FINGERPRINT_BYTES`]), hex.
    pub fingerprint: String,
    pub offset: u64,
}

/// The offsets file of one receiver.
#[derive(Debug, Clone)]
pub struct OffsetStore {
    file: PathBuf,
}

impl OffsetStore {
    /// The store of receiver `id` in `directory`.
    pub fn new(directory: &Path, id: &str) -> OffsetStore {
        let name: String = id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        OffsetStore {
            file: directory.join(format!("filelog_{name}.json")),
        }
    }

    /// What the last run saved; nothing when it saved nothing.
    pub fn load(&self) -> std::io::Result<Vec<Offset>> {
        match std::fs::read(&self.file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Replaces the saved offsets (write to a temporary file, then rename, so
    /// a crash leaves the old or the new list, never half of one).
    pub fn save(&self, offsets: &[Offset]) -> std::io::Result<()> {
        let tmp = self.file.with_extension("json.tmp");
        let bytes = serde_json::to_vec(offsets).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &self.file)
    }
}

/// The fingerprint of the file at `path`: its first bytes, hex.
pub fn fingerprint(path: &Path) -> std::io::Result<String> {
    let mut head = Vec::with_capacity(FINGERPRINT_BYTES);
    std::fs::File::open(path)?
        .take(FINGERPRINT_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(head.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether a file whose fingerprint is now `now` is the one saved with `saved`
/// (it may have grown since: the saved one is a prefix).
pub fn same_file(saved: &str, now: &str) -> bool {
    !saved.is_empty() && (now.starts_with(saved) || saved.starts_with(now) && !now.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = OffsetStore::new(dir.path(), "filelog/app");
        assert_eq!(store.load().unwrap(), vec![]);
        let offsets = vec![Offset {
            path: "/var/log/a.log".into(),
            dev: 1,
            ino: 2,
            fingerprint: "6162".into(),
            offset: 42,
        }];
        store.save(&offsets).unwrap();
        assert_eq!(store.load().unwrap(), offsets);
        assert!(dir.path().join("filelog_filelog_app.json").exists());
    }

    #[test]
    fn a_grown_file_is_the_same_file() {
        assert!(same_file("6162", "616263"));
        assert!(!same_file("6162", "7a7a"));
        assert!(!same_file("", "6162"));
    }
}
