//! Value, id and time formatting shared by the normal and detailed output,
//! following the Go collector's `pcommon` string forms.

use weir_plugin_sdk::otlp::{AnyValue, KeyValue, any_value::Value};

/// Lower-case hex of an id (empty for an empty id).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value as Go's `Value.AsString()` writes it.
pub fn as_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BytesValue(b)) => base64(b),
        Some(Value::StringValueStrindex(i)) => format!("strindex:{i}"),
        Some(Value::ArrayValue(a)) => {
            let items: Vec<String> = a.values.iter().map(|v| json(Some(v))).collect();
            format!("[{}]", items.join(","))
        }
        Some(Value::KvlistValue(kv)) => json_map(&kv.values),
    }
}

fn json(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => "null".to_owned(),
        Some(Value::StringValue(s)) => serde_json::Value::from(s.as_str()).to_string(),
        Some(Value::BytesValue(b)) => serde_json::Value::from(base64(b)).to_string(),
        Some(_) => as_string(value),
    }
}

fn json_map(kvs: &[KeyValue]) -> String {
    let items: Vec<String> = kvs
        .iter()
        .map(|kv| {
            format!(
                "{}:{}",
                serde_json::Value::from(kv.key.as_str()),
                json(kv.value.as_ref())
            )
        })
        .collect();
    format!("{{{}}}", items.join(","))
}

/// The value with its type, as Go's debug exporter writes it: `Str(x)`, `Int(1)`.
pub fn typed(value: Option<&AnyValue>) -> String {
    let kind = match value.and_then(|v| v.value.as_ref()) {
        None => "Empty",
        Some(Value::StringValue(_)) | Some(Value::StringValueStrindex(_)) => "Str",
        Some(Value::BoolValue(_)) => "Bool",
        Some(Value::IntValue(_)) => "Int",
        Some(Value::DoubleValue(_)) => "Double",
        Some(Value::BytesValue(_)) => "Bytes",
        Some(Value::ArrayValue(_)) => "Slice",
        Some(Value::KvlistValue(_)) => "Map",
    };
    format!("{kind}({})", as_string(value))
}

/// `key=value` pairs, as the normal verbosity writes attributes.
pub fn pairs(attrs: &[KeyValue]) -> Vec<String> {
    attrs
        .iter()
        .map(|kv| format!("{}={}", kv.key, as_string(kv.value.as_ref())))
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A Unix-nanosecond time as Go's `time.Time.String()` in UTC:
/// `2020-02-11 20:26:12.000000321 +0000 UTC` (trailing zeros trimmed).
pub fn time(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if frac != 0 {
        out.push_str(format!(".{frac:09}").trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

/// Days since 1970-01-01 to a (year, month, day) civil date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_plugin_sdk::otlp::{int_value, string_value};

    #[test]
    fn formats_like_go() {
        assert_eq!(
            time(1_581_452_772_000_000_321),
            "2020-02-11 20:26:12.000000321 +0000 UTC"
        );
        assert_eq!(time(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            time(1_581_452_773_500_000_000),
            "2020-02-11 20:26:13.5 +0000 UTC"
        );
        assert_eq!(typed(Some(&string_value("x"))), "Str(x)");
        assert_eq!(typed(Some(&int_value(-3))), "Int(-3)");
        assert_eq!(typed(None), "Empty()");
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(hex(&[0x01, 0xab]), "01ab");
    }
}
