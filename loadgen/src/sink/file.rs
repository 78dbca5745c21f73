//! Records read from a file or FIFO as Weir's `file` exporter writes them
//! with `format: proto`: a 4-byte big-endian length, then one request. This
//! lets the sink check a path through `weir` that ends in a file.

use std::io::{ErrorKind, Read};
use std::path::Path;

use anyhow::Context;
use weir_wire::Signal;

use super::counts::Counts;

/// Reads records from `path` until end of file (a FIFO: until the writer
/// closes it), counting each; a malformed record is counted as bad.
pub fn read_records(path: &Path, signal: Signal, counts: &Counts) -> anyhow::Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut record = Vec::new();
    loop {
        let mut len = [0u8; 4];
        match reader.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e).context("reading a record length"),
        }
        record.resize(u32::from_be_bytes(len) as usize, 0);
        reader
            .read_exact(&mut record)
            .with_context(|| format!("{}: record cut short", path.display()))?;
        // A malformed record is counted in `bad_requests`; keep reading.
        let _ = counts.record(signal, &record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{Shape, synthetic};
    use crate::stamp::stamp_request;

    #[test]
    fn reads_every_record_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.pb");
        let shape = Shape {
            items: 50,
            resources: 2,
            attributes: 1,
            payload_bytes: 0,
        };
        let template = synthetic(Signal::Logs, &shape);
        let mut bytes = Vec::new();
        for k in 0..4 {
            let (request, _) = stamp_request(Signal::Logs, &template, 50, k * 50, 1).unwrap();
            bytes.extend_from_slice(&(request.len() as u32).to_be_bytes());
            bytes.extend_from_slice(&request);
        }
        std::fs::write(&path, &bytes).unwrap();
        let counts = Counts::default();
        read_records(&path, Signal::Logs, &counts).unwrap();
        let report = counts.report(Some(200));
        assert_eq!(
            (
                report[0].requests,
                report[0].distinct_ids,
                report[0].missing_ids
            ),
            (4, 200, 0)
        );

        // Cut inside the last record: an error, the complete records counted.
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        let counts = Counts::default();
        let err = read_records(&path, Signal::Logs, &counts).unwrap_err();
        assert!(format!("{err:#}").contains("cut short"), "{err:#}");
        assert_eq!(counts.report(None)[0].distinct_ids, 150);
    }
}
