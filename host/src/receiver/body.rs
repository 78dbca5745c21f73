//! Reading an OTLP/HTTP request body within the size limit: the limit
//! applies to the *decompressed* bytes, and decompression never allocates
//! more than the limit, so a gzip bomb costs at most `max_request_body_size`.

use std::io::Read;

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

use super::status::{Outcome, Rejection};

/// A body's `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    /// zlib-wrapped deflate, as HTTP defines it.
    Deflate,
}

impl Encoding {
    /// Reads `Content-Encoding`; an encoding we cannot decode is a 400.
    pub fn from_headers(headers: &HeaderMap) -> Result<Encoding, Rejection> {
        let Some(value) = headers.get(CONTENT_ENCODING) else {
            return Ok(Encoding::Identity);
        };
        let value = value.to_str().unwrap_or("").trim().to_ascii_lowercase();
        match value.as_str() {
            "" | "identity" | "none" => Ok(Encoding::Identity),
            "gzip" | "x-gzip" => Ok(Encoding::Gzip),
            "deflate" => Ok(Encoding::Deflate),
            other => Err(Rejection::new(
                Outcome::Invalid,
                format!(
                    "unsupported Content-Encoding `{other}`: expected gzip, deflate or identity"
                ),
            )),
        }
    }
}

/// Reads and drops a body that is refused anyway, up to `limit` bytes, so
/// an HTTP/1.1 connection can carry the next request (past the limit, or on
/// a read error, hyper closes it).
pub async fn discard(body: Incoming, limit: usize) {
    let mut body = Limited::new(body, limit);
    while let Some(Ok(_)) = body.frame().await {}
}

/// Reads the whole body, decompressed, refusing it (413) past `limit` bytes.
pub async fn read(
    body: Incoming,
    headers: &HeaderMap,
    encoding: Encoding,
    limit: usize,
) -> Result<Bytes, Rejection> {
    // A declared length over the limit is refused before a byte is read.
    if let Some(length) = content_length(headers)
        && length > limit as u64
    {
        return Err(too_large(format!(
            "request body is {length} bytes, over the limit of {limit} bytes"
        )));
    }
    // A streamed (chunked) body is cut off at the limit as it arrives.
    let raw = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(too_large(format!(
                "request body exceeds the limit of {limit} bytes"
            )));
        }
        Err(e) => {
            return Err(Rejection::new(
                Outcome::Invalid,
                format!("cannot read the request body: {e}"),
            ));
        }
    };
    match encoding {
        Encoding::Identity => Ok(raw),
        // Inflating is CPU work: keep it off the reactor threads.
        Encoding::Gzip => {
            inflate_blocking(raw, limit, "gzip", |r| {
                Box::new(flate2::read::GzDecoder::new(r))
            })
            .await
        }
        Encoding::Deflate => {
            inflate_blocking(raw, limit, "deflate", |r| {
                Box::new(flate2::read::ZlibDecoder::new(r))
            })
            .await
        }
    }
}

pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn too_large(what: String) -> Rejection {
    Rejection::new(Outcome::TooLarge, what)
}

type Decoder = fn(std::io::Cursor<Bytes>) -> Box<dyn Read + Send>;

async fn inflate_blocking(
    raw: Bytes,
    limit: usize,
    name: &'static str,
    decoder: Decoder,
) -> Result<Bytes, Rejection> {
    let compressed = raw.len();
    tokio::task::spawn_blocking(move || {
        inflate(decoder(std::io::Cursor::new(raw)), compressed, limit, name)
    })
    .await
    .map_err(|e| {
        Rejection::new(
            Outcome::Unavailable,
            format!("decompression task failed: {e}"),
        )
    })?
}

/// Inflates into a buffer that grows to at most `limit + 1` bytes: one byte
/// past the limit proves the body is too large.
pub fn inflate(
    reader: impl Read,
    compressed: usize,
    limit: usize,
    name: &str,
) -> Result<Bytes, Rejection> {
    let cap = limit.saturating_add(1);
    let mut reader = reader.take(cap as u64);
    let mut out: Vec<u8> = Vec::with_capacity(compressed.saturating_mul(4).clamp(1024, cap));
    loop {
        if out.len() == out.capacity() {
            let grow = out.capacity().min(cap - out.len());
            if grow == 0 {
                break;
            }
            out.reserve_exact(grow);
        }
        let filled = out.len();
        out.resize(out.capacity(), 0);
        match reader.read(&mut out[filled..]) {
            Ok(0) => {
                out.truncate(filled);
                break;
            }
            Ok(n) => out.truncate(filled + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => out.truncate(filled),
            Err(e) => {
                return Err(Rejection::new(
                    Outcome::Invalid,
                    format!("invalid {name} body: {e}"),
                ));
            }
        }
    }
    if out.len() > limit {
        return Err(too_large(format!(
            "decompressed request body exceeds the limit of {limit} bytes"
        )));
    }
    Ok(Bytes::from(out))
}
