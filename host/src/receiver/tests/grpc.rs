//! OTLP/gRPC through a tonic client that uses the same raw codec.

use std::time::Duration;

use bytes::Bytes;
use http::uri::PathAndQuery;
use tonic::Code;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use tonic_types::StatusExt;

use super::{start_plain, start_with, traces_bytes};
use crate::pipeline::Refusal;
use crate::receiver::grpc::RawCodec;

pub(super) const TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

async fn client(addr: std::net::SocketAddr) -> tonic::client::Grpc<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connects");
    tonic::client::Grpc::new(channel)
}

/// A receiver whose gRPC messages may be up to `mib` MiB.
async fn start_with_max_recv_mib(mib: u64) -> super::Harness {
    let mut config = super::config(0, None);
    config
        .protocols
        .grpc
        .as_mut()
        .unwrap()
        .max_recv_msg_size_mib = Some(mib);
    start_with(config).await
}

pub(super) async fn export(
    client: &mut tonic::client::Grpc<Channel>,
    path: &'static str,
    body: Vec<u8>,
) -> Result<Bytes, tonic::Status> {
    client.ready().await.expect("ready");
    let response = client
        .unary(
            tonic::Request::new(Bytes::from(body)),
            PathAndQuery::from_static(path),
            RawCodec,
        )
        .await?;
    Ok(response.into_inner())
}

#[tokio::test]
async fn export_is_accepted_as_is() {
    let h = start_plain(1024 * 1024).await;
    let mut c = client(h.grpc()).await;
    let body = traces_bytes(5);
    let response = export(&mut c, TRACES, body.clone())
        .await
        .expect("accepted");
    assert!(response.is_empty(), "an empty ExportTraceServiceResponse");
    let got = h.ingest.taken();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].payload.clone(), got[0].items),
        (Bytes::from(body), 5)
    );
}

#[tokio::test]
async fn gzip_requests_are_accepted() {
    let h = start_plain(1024 * 1024).await;
    let mut c = client(h.grpc())
        .await
        .send_compressed(CompressionEncoding::Gzip);
    let body = traces_bytes(2);
    export(&mut c, TRACES, body.clone())
        .await
        .expect("accepted");
    assert_eq!(h.ingest.taken()[0].payload, body);
}

#[tokio::test]
async fn truncated_is_invalid_argument() {
    let h = start_plain(1024 * 1024).await;
    let mut c = client(h.grpc()).await;
    let mut body = traces_bytes(3);
    body.truncate(body.len() - 3);
    let status = export(&mut c, TRACES, body).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("malformed traces request"),
        "{status:?}"
    );
}

#[tokio::test]
async fn exhausted_is_resource_exhausted_with_retry_info() {
    let h = start_plain(1024 * 1024).await;
    *h.ingest.refuse.lock().unwrap() = Some(Refusal::Exhausted {
        retry_after: Duration::from_secs(2),
        reason: "memory limit reached".into(),
    });
    let mut c = client(h.grpc()).await;
    let status = export(&mut c, TRACES, traces_bytes(1)).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    let retry = status.get_details_retry_info().expect("RetryInfo detail");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(2)));
}

#[tokio::test]
async fn over_the_limit_is_resource_exhausted_without_retry_info() {
    let h = start_with_max_recv_mib(1).await;
    let mut c = client(h.grpc()).await;
    let status = export(&mut c, TRACES, vec![0; 2 * 1024 * 1024])
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("1048576"), "{status:?}");
    assert!(status.get_details_retry_info().is_none());
    // A gzip bomb: small on the wire, far past the limit once inflated.
    let mut c = client(h.grpc())
        .await
        .send_compressed(CompressionEncoding::Gzip);
    let status = export(&mut c, TRACES, vec![0; 32 * 1024 * 1024])
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(h.ingest.taken().is_empty());
}

#[tokio::test]
async fn a_message_without_room_is_refused_by_its_length_prefix() {
    let h = start_with_max_recv_mib(64).await;
    let mut c = client(h.grpc()).await;
    // Room: the declared length was asked about, then the message taken.
    let body = traces_bytes(3);
    export(&mut c, TRACES, body.clone())
        .await
        .expect("accepted");
    assert_eq!(*h.ingest.prechecked.lock().unwrap(), vec![body.len()]);
    assert_eq!(h.ingest.taken().len(), 1);
    // No room: RESOURCE_EXHAUSTED with RetryInfo, the message never read.
    *h.ingest.precheck.lock().unwrap() = Some(Refusal::Exhausted {
        retry_after: Duration::from_secs(3),
        reason: "no room for it".into(),
    });
    let status = export(&mut c, TRACES, vec![0x0a; 32 * 1024 * 1024])
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("no room for it"), "{status:?}");
    let retry = status.get_details_retry_info().expect("RetryInfo detail");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(3)));
    assert_eq!(
        h.ingest.prechecked.lock().unwrap().last(),
        Some(&(32 * 1024 * 1024))
    );
    assert!(h.ingest.taken().is_empty());
    // Larger than the budget could ever hold: no retry hint.
    *h.ingest.precheck.lock().unwrap() = Some(Refusal::TooLarge("never fits".into()));
    let status = export(&mut c, TRACES, traces_bytes(1)).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.get_details_retry_info().is_none());
    // The connection is still good once there is room again.
    *h.ingest.precheck.lock().unwrap() = None;
    export(&mut c, TRACES, traces_bytes(2))
        .await
        .expect("accepted");
    assert_eq!(h.ingest.taken().len(), 1);
}

#[tokio::test]
async fn unknown_method_is_unimplemented() {
    let h = start_plain(1024 * 1024).await;
    let mut c = client(h.grpc()).await;
    let status = export(
        &mut c,
        "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export",
        vec![],
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}
