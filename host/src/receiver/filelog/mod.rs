//! The `filelog` receiver: tails the files matching `include` (minus
//! `exclude`) and sends their new lines as log records.
//!
//! Nothing accepted is lost and nothing is skipped: each poll reads from the
//! last *accepted* offset; offsets advance only when the pipelines accepted
//! the records (a refusal — memory full — means the same bytes are read
//! again next poll), and with `storage` they are saved after each accepted
//! request, so a restart resumes there (records accepted but not yet saved
//! when the process died are sent again: at least once).

mod offsets;
mod records;

use std::collections::HashMap;
use std::future::Future;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;
use tokio::task::JoinSet;

use super::RunningReceiver;
use crate::Signal;
use crate::config::filelog::{FileLogConfig, StartAt};
use crate::pipeline::{Ingest, IngestRequest};
use crate::telemetry::{ReceiverLabels, metrics};
use offsets::{Offset, OffsetStore};
use records::Splitter;

/// Most bytes read from one file in one poll.
const READ_PER_POLL: u64 = 1024 * 1024;

/// Starts tailing until `shutdown` completes. `storage` is the folder of the
/// `file_storage` extension the config names, if any.
pub fn start(
    id: &str,
    config: &FileLogConfig,
    storage: Option<&Path>,
    ingest: Arc<dyn Ingest>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> RunningReceiver {
    let mut tailer = Tailer::new(id, config, storage);
    let interval = config.poll_interval;
    let mut tasks = JoinSet::new();
    tasks.spawn(async move {
        tokio::pin!(shutdown);
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = ticks.tick() => {}
            }
            tailer.poll(ingest.as_ref()).await;
        }
    });
    RunningReceiver {
        grpc_addr: None,
        http_addr: None,
        tls: Vec::new(),
        tasks,
    }
}

/// (device, inode): a file's identity while it is open under any name.
type FileKey = (u64, u64);

struct Tracked {
    path: PathBuf,
    fingerprint: String,
    /// Bytes before this were accepted by the pipelines.
    offset: u64,
    /// Since when an unfinished tail of `len` bytes has waited, unchanged.
    waiting: Option<(Instant, u64)>,
}

struct Tailer {
    id: String,
    config: FileLogConfig,
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
    splitter: Splitter,
    store: Option<OffsetStore>,
    files: HashMap<FileKey, Tracked>,
    /// The first poll applies `start_at` (or the saved offsets).
    first_poll: bool,
    saved: Vec<Offset>,
}

impl Tailer {
    fn new(id: &str, config: &FileLogConfig, storage: Option<&Path>) -> Tailer {
        // Patterns and regexes were checked when the config loaded.
        let patterns = |list: &[String]| {
            list.iter()
                .filter_map(|p| glob::Pattern::new(p).ok())
                .collect::<Vec<_>>()
        };
        let regex = |p: &Option<String>| p.as_deref().and_then(|p| regex::Regex::new(p).ok());
        let splitter = match &config.multiline {
            Some(m) => match (regex(&m.line_start_pattern), regex(&m.line_end_pattern)) {
                (Some(start), _) => Splitter::StartPattern(start),
                (None, Some(end)) => Splitter::EndPattern(end),
                (None, None) => Splitter::Lines,
            },
            None => Splitter::Lines,
        };
        let store = storage.map(|dir| OffsetStore::new(dir, id));
        let saved = match store.as_ref().map(OffsetStore::load) {
            Some(Ok(saved)) => saved,
            Some(Err(e)) => {
                tracing::warn!(
                    receiver = id,
                    "cannot read saved offsets ({e}); using start_at"
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        Tailer {
            id: id.to_string(),
            config: config.clone(),
            include: patterns(&config.include),
            exclude: patterns(&config.exclude),
            splitter,
            store,
            files: HashMap::new(),
            first_poll: true,
            saved,
        }
    }

    /// The files matching now, with their identity and size.
    fn matching(&self) -> Vec<(PathBuf, FileKey, u64)> {
        let mut found = Vec::new();
        for pattern in &self.include {
            let Ok(paths) = glob::glob(pattern.as_str()) else {
                continue;
            };
            for path in paths.filter_map(Result::ok) {
                if self.exclude.iter().any(|e| e.matches_path(&path)) {
                    continue;
                }
                if let Ok(meta) = std::fs::metadata(&path)
                    && meta.is_file()
                {
                    found.push((path, (meta.dev(), meta.ino()), meta.len()));
                }
            }
        }
        found.sort();
        found.dedup_by(|a, b| a.1 == b.1);
        found
    }

    /// Where reading starts in a file seen for the first time.
    fn first_offset(&self, path: &Path, key: FileKey, size: u64, fingerprint: &str) -> u64 {
        let saved = self
            .saved
            .iter()
            .find(|s| (s.dev, s.ino) == key && offsets::same_file(&s.fingerprint, fingerprint));
        match saved {
            Some(s) => {
                tracing::info!(receiver = self.id, file = %path.display(), offset = s.offset, "resuming");
                s.offset
            }
            None if self.first_poll && self.config.start_at == StartAt::End => size,
            None => 0,
        }
    }

    async fn poll(&mut self, ingest: &dyn Ingest) {
        let found = self.matching();
        // Forget files that are gone.
        self.files
            .retain(|key, _| found.iter().any(|(_, k, _)| k == key));
        let mut log_records = Vec::new();
        let mut advanced: Vec<(FileKey, u64)> = Vec::new();
        for (path, key, size) in found {
            if !self.files.contains_key(&key) {
                let fingerprint = offsets::fingerprint(&path).unwrap_or_default();
                let offset = self.first_offset(&path, key, size, &fingerprint);
                self.files.insert(
                    key,
                    Tracked {
                        path: path.clone(),
                        fingerprint,
                        offset,
                        waiting: None,
                    },
                );
            }
            let tracked = self.files.get_mut(&key).expect("inserted above");
            tracked.path = path;
            if size < tracked.offset {
                tracing::info!(receiver = self.id, file = %tracked.path.display(), "file was truncated; reading from its start");
                tracked.offset = 0;
            }
            if tracked.fingerprint.len() < 2 * offsets::FINGERPRINT_BYTES {
                tracked.fingerprint = offsets::fingerprint(&tracked.path).unwrap_or_default();
            }
            match read_records(tracked, &self.splitter, self.config.force_flush_period) {
                Ok((records, to)) => {
                    let attrs = file_attributes(&self.config, &tracked.path);
                    log_records.extend(
                        records.into_iter().map(|body| {
                            log_record(body, &attrs, self.config.max_log_size as usize)
                        }),
                    );
                    if to > tracked.offset {
                        advanced.push((key, to));
                    }
                }
                Err(e) => {
                    tracing::warn!(receiver = self.id, file = %tracked.path.display(), "cannot read: {e}")
                }
            }
        }
        self.first_poll = false;
        if advanced.is_empty() {
            return;
        }
        if !log_records.is_empty() && !self.deliver(ingest, log_records).await {
            return; // Refused: read the same bytes again next poll.
        }
        for (key, to) in advanced {
            if let Some(tracked) = self.files.get_mut(&key) {
                tracked.offset = to;
            }
        }
        self.save();
    }

    /// Sends the records; true when the pipelines accepted them.
    async fn deliver(&self, ingest: &dyn Ingest, log_records: Vec<LogRecord>) -> bool {
        let items = log_records.len();
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Default::default()),
                scope_logs: vec![ScopeLogs {
                    log_records,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let outcome = ingest
            .ingest(IngestRequest {
                signal: Signal::Logs,
                payload: request.encode_to_vec().into(),
                items,
                tenant: Arc::from("default"),
                metadata: Vec::new(),
                principal: Default::default(),
                permits: Vec::new(),
            })
            .await;
        let labels = ReceiverLabels {
            receiver: self.id.clone(),
            transport: "file".into(),
            signal: Signal::Logs.as_str().into(),
        };
        match outcome {
            Ok(_) => {
                metrics()
                    .receiver_accepted_items
                    .get_or_create(&labels)
                    .inc_by(items as u64);
                true
            }
            Err(refusal) => {
                tracing::warn!(
                    receiver = self.id,
                    "records refused, will read them again: {refusal:?}"
                );
                metrics()
                    .receiver_refused_items
                    .get_or_create(&labels)
                    .inc_by(items as u64);
                false
            }
        }
    }

    fn save(&self) {
        let Some(store) = &self.store else { return };
        let offsets: Vec<Offset> = self
            .files
            .iter()
            .map(|(&(dev, ino), t)| Offset {
                path: t.path.clone(),
                dev,
                ino,
                fingerprint: t.fingerprint.clone(),
                offset: t.offset,
            })
            .collect();
        if let Err(e) = store.save(&offsets) {
            tracing::warn!(receiver = self.id, "cannot save offsets: {e}");
        }
    }
}

/// Reads from the accepted offset and cuts records; returns them and the
/// offset after the last one. An unfinished tail is sent once it has waited
/// `flush_after` without growing.
fn read_records(
    tracked: &mut Tracked,
    splitter: &Splitter,
    flush_after: std::time::Duration,
) -> std::io::Result<(Vec<String>, u64)> {
    let mut file = std::fs::File::open(&tracked.path)?;
    file.seek(SeekFrom::Start(tracked.offset))?;
    let mut buf = Vec::new();
    file.take(READ_PER_POLL).read_to_end(&mut buf)?;
    let split = splitter.split(&buf, false);
    let rest = (buf.len() - split.consumed) as u64;
    let now = Instant::now();
    let flush = match tracked.waiting {
        Some((since, len)) if len == rest => now.duration_since(since) >= flush_after,
        _ => false,
    };
    tracked.waiting = match tracked.waiting {
        _ if rest == 0 => None,
        Some((since, len)) if len == rest => Some((since, len)),
        _ => Some((now, rest)),
    };
    let split = if flush && rest > 0 {
        tracked.waiting = None;
        splitter.split(&buf, true)
    } else {
        split
    };
    Ok((split.records, tracked.offset + split.consumed as u64))
}

fn file_attributes(config: &FileLogConfig, path: &Path) -> Vec<KeyValue> {
    let mut attrs = Vec::new();
    let string = |key: &str, value: String| KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    };
    if config.include_file_name
        && let Some(name) = path.file_name()
    {
        attrs.push(string("log.file.name", name.to_string_lossy().into_owned()));
    }
    if config.include_file_path {
        attrs.push(string("log.file.path", path.display().to_string()));
    }
    attrs
}

fn log_record(mut body: String, attrs: &[KeyValue], max_len: usize) -> LogRecord {
    if body.len() > max_len {
        let mut cut = max_len;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    LogRecord {
        observed_time_unix_nano: now,
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body)),
        }),
        attributes: attrs.to_vec(),
        ..Default::default()
    }
}
