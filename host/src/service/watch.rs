//! Watches the files a config depends on (the config itself, its `.wasm`
//! plugins, its TLS files) and asks for a reload when one changes. The
//! folders are watched, not the files, so an editor's write-then-rename and a
//! certificate rotated by replacing the file are both seen.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::ReloadRequest;

/// The watcher and what it watches.
pub struct FileWatcher {
    watcher: notify::RecommendedWatcher,
    files: std::sync::Arc<std::sync::Mutex<BTreeSet<PathBuf>>>,
    dirs: BTreeSet<PathBuf>,
}

impl FileWatcher {
    /// Starts watching nothing yet; `None` (with a warning) where the
    /// platform's file notification is unavailable.
    pub fn start(reloads: mpsc::Sender<ReloadRequest>) -> Option<Self> {
        let files: std::sync::Arc<std::sync::Mutex<BTreeSet<PathBuf>>> = Default::default();
        let watched = files.clone();
        let handler = move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            let files = watched.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(path) = event.paths.iter().find(|p| files.contains(&absolute(p))) {
                let reason = format!("{} changed", path.display());
                let _ = reloads.try_send(ReloadRequest {
                    reason,
                    reply: None,
                });
            }
        };
        match notify::recommended_watcher(handler) {
            Ok(watcher) => Some(FileWatcher {
                watcher,
                files,
                dirs: BTreeSet::new(),
            }),
            Err(e) => {
                tracing::warn!("cannot watch files ({e}); reload with SIGHUP or POST /reload");
                None
            }
        }
    }

    /// Watches exactly `paths` from now on.
    pub fn watch(&mut self, paths: Vec<PathBuf>) {
        let files: BTreeSet<PathBuf> = paths.iter().map(|p| absolute(p)).collect();
        let dirs: BTreeSet<PathBuf> = files
            .iter()
            .filter_map(|f| f.parent().map(Path::to_path_buf))
            .collect();
        for gone in self.dirs.difference(&dirs) {
            let _ = self.watcher.unwatch(gone);
        }
        for dir in dirs.difference(&self.dirs) {
            if let Err(e) = self.watcher.watch(dir, RecursiveMode::NonRecursive) {
                tracing::warn!(folder = %dir.display(), "cannot watch for changes: {e}");
            }
        }
        self.dirs = dirs;
        *self.files.lock().unwrap_or_else(|p| p.into_inner()) = files;
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
