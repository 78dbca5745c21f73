//! The contenders shared by the `plugin_call` and `plugin_call_latency`
//! benches: the `attributes` plugin's config, and its `insert` done
//! natively on the wire format (the plugin's algorithm without the sandbox).

use prost::Message;

/// The `attributes` config both benches run the plugin with.
pub const CONFIG: &str =
    r#"{"actions":[{"key":"org_name","value":"XPLG-benchmarker-dev-tag-test","action":"insert"}]}"#;

/// The encoded `AnyValue` the insert adds.
pub fn inserted_value() -> Vec<u8> {
    weir::test_util::kv("org_name", "XPLG-benchmarker-dev-tag-test")
        .value
        .unwrap()
        .encode_to_vec()
}

/// The attributes processor's `insert` on the wire format, natively.
pub fn native_wire_insert(payload: &[u8], value: &[u8]) -> Vec<u8> {
    let edited = weir_wire::edit_items(weir_wire::Signal::Traces, payload, |kind, item, out| {
        let field = kind.attributes_field();
        let present = weir_wire::FieldReader::new(item, 0).flatten().any(|f| {
            f.number == field
                && weir_wire::key_value(f.value)
                    .map(|(k, _)| k == b"org_name")
                    .unwrap_or(false)
        });
        if present {
            return weir_wire::ItemEdit::Keep;
        }
        out.extend_from_slice(item);
        weir_wire::put_key_value(out, field, b"org_name", value);
        weir_wire::ItemEdit::Replaced
    })
    .expect("valid request");
    edited.unwrap_or_else(|| payload.to_vec())
}
