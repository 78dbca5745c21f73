//! OTLP/HTTP: accepted requests and every error status.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{Full, StreamBody};
use hyper::body::Frame;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

use super::{gzip, post, send, start_plain, traces_bytes};
use crate::Signal;
use crate::pipeline::{Accepted, Refusal};

const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");
const JSON: (&str, &str) = ("content-type", "application/json");
const LIMIT: u64 = 64 * 1024;

#[tokio::test]
async fn protobuf_is_accepted_as_is() {
    let h = start_plain(LIMIT).await;
    let body = traces_bytes(3);
    let reply = post(h.http(), "/v1/traces", &[PROTOBUF], body.clone()).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.headers["content-type"], "application/x-protobuf");
    assert_eq!(
        ExportTraceServiceResponse::decode(reply.body).unwrap(),
        ExportTraceServiceResponse::default()
    );
    let got = h.ingest.taken();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].signal, Signal::Traces);
    assert_eq!(got[0].payload, body);
    assert_eq!(got[0].items, 3);
    assert_eq!(&*got[0].tenant, "default");
}

#[tokio::test]
async fn gzip_and_deflate_bodies_are_decompressed() {
    let h = start_plain(LIMIT).await;
    let body = traces_bytes(2);
    let reply = post(
        h.http(),
        "/v1/traces",
        &[PROTOBUF, ("content-encoding", "gzip")],
        gzip(&body),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut zlib, &body).unwrap();
    let reply = post(
        h.http(),
        "/v1/traces",
        &[PROTOBUF, ("content-encoding", "deflate")],
        zlib.finish().unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let got = h.ingest.taken();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|r| r.payload == body && r.items == 2));
}

#[tokio::test]
async fn unsupported_encoding_is_400() {
    let h = start_plain(LIMIT).await;
    let reply = post(
        h.http(),
        "/v1/traces",
        &[PROTOBUF, ("content-encoding", "br")],
        traces_bytes(1),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.rpc_status().message.contains("Content-Encoding `br`"),
        "{:?}",
        reply.rpc_status()
    );
}

#[tokio::test]
async fn truncated_protobuf_is_400_with_the_wire_error() {
    let h = start_plain(LIMIT).await;
    let mut body = traces_bytes(3);
    body.truncate(body.len() - 5);
    let reply = post(h.http(), "/v1/traces", &[PROTOBUF], body).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    let status = reply.rpc_status();
    assert_eq!(status.code, tonic::Code::InvalidArgument as i32);
    assert!(
        status.message.contains("malformed traces request"),
        "{status:?}"
    );
    assert!(h.ingest.taken().is_empty());
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let h = start_plain(LIMIT).await;
    let reply = post(
        h.http(),
        "/v1/traces",
        &[("content-type", "text/plain")],
        traces_bytes(1),
    )
    .await;
    assert_eq!(reply.status, 415);
    assert!(reply.rpc_status().message.contains("text/plain"));
    // Parameters are ignored.
    let reply = post(
        h.http(),
        "/v1/traces",
        &[("content-type", "application/x-protobuf; charset=utf-8")],
        traces_bytes(1),
    )
    .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn content_length_over_the_limit_is_413() {
    let h = start_plain(1024).await;
    let reply = post(h.http(), "/v1/traces", &[PROTOBUF], vec![0; 4096]).await;
    assert_eq!(reply.status, 413);
    assert!(
        reply
            .rpc_status()
            .message
            .contains("4096 bytes, over the limit of 1024"),
        "{:?}",
        reply.rpc_status()
    );
}

#[tokio::test]
async fn streamed_body_over_the_limit_is_413() {
    let h = start_plain(1024).await;
    let chunks =
        (0..8).map(|_| Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from(vec![0u8; 512]))));
    let request = http::Request::post("/v1/traces")
        .header("host", "localhost")
        .header(PROTOBUF.0, PROTOBUF.1)
        .body(StreamBody::new(futures_util::stream::iter(chunks)))
        .unwrap();
    let reply = send(h.http(), None, request).await.unwrap();
    assert_eq!(reply.status, 413, "{reply:?}");
}

#[tokio::test]
async fn gzip_bomb_is_413_at_the_decompressed_limit() {
    let h = start_plain(LIMIT).await;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, &vec![0u8; 32 * 1024 * 1024]).unwrap();
    let bomb = encoder.finish().unwrap();
    assert!(
        bomb.len() < LIMIT as usize,
        "the compressed body itself is under the limit"
    );
    let reply = post(
        h.http(),
        "/v1/traces",
        &[PROTOBUF, ("content-encoding", "gzip")],
        bomb,
    )
    .await;
    assert_eq!(reply.status, 413, "{reply:?}");
    assert!(
        reply.rpc_status().message.contains("decompressed"),
        "{:?}",
        reply.rpc_status()
    );
}

#[test]
fn inflate_never_grows_past_the_limit() {
    let data = vec![7u8; 10_000];
    let compressed = gzip(&data);
    let exact = crate::receiver::body::inflate(
        flate2::read::GzDecoder::new(&compressed[..]),
        compressed.len(),
        10_000,
        "gzip",
    );
    assert_eq!(exact.unwrap().len(), 10_000);
    let over = crate::receiver::body::inflate(
        flate2::read::GzDecoder::new(&compressed[..]),
        compressed.len(),
        9_999,
        "gzip",
    );
    assert_eq!(
        over.unwrap_err().outcome,
        crate::receiver::status::Outcome::TooLarge
    );
}

#[tokio::test]
async fn empty_protobuf_is_200_and_ingests_nothing() {
    let h = start_plain(LIMIT).await;
    let reply = post(h.http(), "/v1/logs", &[PROTOBUF], Vec::new()).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());
    assert!(h.ingest.taken().is_empty());
}

#[tokio::test]
async fn empty_and_invalid_json_are_400() {
    let h = start_plain(LIMIT).await;
    let reply = post(h.http(), "/v1/traces", &[JSON], Vec::new()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.headers["content-type"], "application/json");
    let reply = post(
        h.http(),
        "/v1/traces",
        &[JSON],
        b"{\"resourceSpans\": [ }".to_vec(),
    )
    .await;
    assert_eq!(reply.status, 400);
    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["code"], 3);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("line 1 column"), "{message}");
}

#[tokio::test]
async fn exhausted_is_429_with_retry_after_rounded_up() {
    let h = start_plain(LIMIT).await;
    *h.ingest.refuse.lock().unwrap() = Some(Refusal::Exhausted {
        retry_after: Duration::from_millis(2500),
        reason: "memory limit reached".into(),
    });
    let reply = post(h.http(), "/v1/traces", &[PROTOBUF], traces_bytes(1)).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.headers["retry-after"], "3");
    assert_eq!(reply.rpc_status().message, "memory limit reached");
}

#[tokio::test]
async fn invalid_and_unavailable_refusals() {
    let h = start_plain(LIMIT).await;
    *h.ingest.refuse.lock().unwrap() = Some(Refusal::Invalid("bad data".into()));
    let reply = post(h.http(), "/v1/traces", &[PROTOBUF], traces_bytes(1)).await;
    assert_eq!(reply.status, 400);
    *h.ingest.refuse.lock().unwrap() = Some(Refusal::Unavailable("shutting down".into()));
    let reply = post(h.http(), "/v1/traces", &[JSON], b"{}".to_vec()).await;
    assert_eq!(
        reply.status, 200,
        "an empty request is not handed to the pipelines"
    );
    let reply = post(h.http(), "/v1/traces", &[PROTOBUF], traces_bytes(1)).await;
    assert_eq!(reply.status, 503);
    assert!(reply.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn partial_success_is_reported_in_the_request_format() {
    let h = start_plain(LIMIT).await;
    *h.ingest.accept.lock().unwrap() = Accepted {
        rejected_items: 2,
        message: "2 spans dropped".into(),
    };
    let reply = post(h.http(), "/v1/traces", &[PROTOBUF], traces_bytes(3)).await;
    let partial = ExportTraceServiceResponse::decode(reply.body)
        .unwrap()
        .partial_success
        .unwrap();
    assert_eq!(
        (partial.rejected_spans, partial.error_message.as_str()),
        (2, "2 spans dropped")
    );
    let json = super::json::TRACES_JSON.as_bytes().to_vec();
    let reply = post(h.http(), "/v1/traces", &[JSON], json).await;
    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["partialSuccess"]["rejectedSpans"], "2");
}

#[tokio::test]
async fn unknown_path_is_404_and_wrong_method_is_405() {
    let h = start_plain(LIMIT).await;
    let reply = post(h.http(), "/v1/profiles", &[PROTOBUF], traces_bytes(1)).await;
    assert_eq!(reply.status, 404);
    let request = http::Request::get("/v1/traces")
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = send(h.http(), None, request).await.unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.headers["allow"], "POST");
}

#[tokio::test]
async fn outcomes_are_counted() {
    let h = start_plain(LIMIT).await;
    post(h.http(), "/v1/traces", &[PROTOBUF], traces_bytes(4)).await;
    post(
        h.http(),
        "/v1/traces",
        &[("content-type", "text/plain")],
        Vec::new(),
    )
    .await;
    let m = crate::telemetry::metrics();
    let labels = |outcome: &str| crate::telemetry::RequestLabels {
        receiver: h.id.clone(),
        transport: "http".into(),
        signal: "traces".into(),
        outcome: outcome.into(),
    };
    assert_eq!(
        m.receiver_requests.get_or_create(&labels("accepted")).get(),
        1
    );
    assert_eq!(
        m.receiver_requests
            .get_or_create(&labels("unsupported_media_type"))
            .get(),
        1
    );
    let items = crate::telemetry::ReceiverLabels {
        receiver: h.id.clone(),
        transport: "http".into(),
        signal: "traces".into(),
    };
    assert_eq!(m.receiver_accepted_items.get_or_create(&items).get(), 4);
}
