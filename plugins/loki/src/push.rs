//! Loki's push request: `logproto.PushRequest` (hand-written prost structs
//! with the field numbers of Loki's `push.proto`) or its JSON form.

use std::collections::BTreeMap;

use serde_json::json;

/// `logproto.PushRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`: one label set and its entries.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamAdapter {
    /// `{a="x", b="y"}`.
    #[prost(string, tag = "1")]
    pub labels: String,
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.EntryAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    pub line: String,
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPairAdapter>,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `logproto.LabelPairAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelPairAdapter {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// One entry before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub unix_nanos: u64,
    pub line: String,
}

/// Streams by label set, entries in arrival order.
pub type Streams = BTreeMap<BTreeMap<String, String>, Vec<Entry>>;

/// The protobuf push request, snappy-compressed (block format).
pub fn protobuf(streams: &Streams) -> Result<Vec<u8>, String> {
    let request = PushRequest {
        streams: streams
            .iter()
            .map(|(labels, entries)| StreamAdapter {
                labels: crate::labels::label_text(labels),
                entries: entries
                    .iter()
                    .map(|e| EntryAdapter {
                        timestamp: Some(Timestamp {
                            seconds: (e.unix_nanos / 1_000_000_000) as i64,
                            nanos: (e.unix_nanos % 1_000_000_000) as i32,
                        }),
                        line: e.line.clone(),
                        structured_metadata: Vec::new(),
                    })
                    .collect(),
                hash: 0,
            })
            .collect(),
    };
    snap::raw::Encoder::new()
        .compress_vec(&prost::Message::encode_to_vec(&request))
        .map_err(|e| format!("snappy: {e}"))
}

/// The JSON push request.
pub fn json(streams: &Streams) -> Vec<u8> {
    let streams: Vec<serde_json::Value> = streams
        .iter()
        .map(|(labels, entries)| {
            json!({
                "stream": labels,
                "values": entries
                    .iter()
                    .map(|e| json!([e.unix_nanos.to_string(), e.line]))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "streams": streams }).to_string().into_bytes()
}
