"""Redacts email addresses in log bodies and in
log attribute values (string values, top level), as the Rust `transform`
processor does with

    replace_pattern(log.body, EMAIL, REPLACEMENT)
    replace_all_patterns(log.attributes, "value", EMAIL, REPLACEMENT)

Config (JSON from the component's YAML block, every key optional):
    replacement: the text put in place of each address (default "[redacted]")
    attributes:  also redact attribute values (default true)
"""

import json
import re

import otlp_wire as wire

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

# Field numbers of the OTLP messages walked (opentelemetry/proto/logs/v1).
REQUEST_RESOURCE_LOGS = 1
RESOURCE_LOGS_SCOPE_LOGS = 2
SCOPE_LOGS_LOG_RECORDS = 2
LOG_BODY = 5
LOG_ATTRIBUTES = 6
KEY_VALUE_VALUE = 2
ANY_VALUE_STRING = 1

# One instance serves one configured component: its settings live here.
settings = {"replacement": "[redacted]", "attributes": True}


def configure(config_json):
    """Parses the config; returns an error text or None."""
    try:
        config = json.loads(config_json or "{}")
    except ValueError as e:
        return f"config is not JSON: {e}"
    if not isinstance(config, dict):
        return "config must be a map"
    for key in config:
        if key not in ("replacement", "attributes"):
            return f"unknown key `{key}` (expected `replacement`, `attributes`)"
    replacement = config.get("replacement", "[redacted]")
    if not isinstance(replacement, str):
        return "`replacement` must be a string"
    attributes = config.get("attributes", True)
    if not isinstance(attributes, bool):
        return "`attributes` must be true or false"
    settings["replacement"] = replacement
    settings["attributes"] = attributes
    return None


class Redactor:
    """Rewrites one request; counts what it changed."""

    def __init__(self, replacement, attributes):
        self.replacement = replacement
        self.attributes = attributes
        self.redacted = 0

    def redact(self, text_bytes):
        """The redacted string as bytes, or None when it has no address."""
        if b"@" not in text_bytes:
            return None
        text = text_bytes.decode("utf-8", errors="strict")
        new, n = EMAIL.subn(lambda _m: self.replacement, text)
        if n == 0:
            return None
        self.redacted += n
        return new.encode("utf-8")

    def rewrite(self, buf, start, end, edit):
        """Rewrites the message buf[start:end]: edit(number, wire, vs, ve)
        returns the new value bytes of a LEN field, or None to keep the
        field. Returns the new message bytes, or None when nothing changed."""
        out = None
        copied = start
        for number, wt, fs, vs, ve in wire.fields(buf, start, end):
            if wt != wire.LEN:
                continue
            new = edit(number, vs, ve)
            if new is None:
                continue
            if out is None:
                out = bytearray()
            out += buf[copied:fs]
            wire.write_len(out, number, new)
            copied = ve
        if out is None:
            return None
        out += buf[copied:end]
        return out

    def any_value(self, buf, vs, ve):
        # Only a string AnyValue: a map or list body is left alone, as
        # replace_pattern does.
        return self.rewrite(
            buf,
            vs,
            ve,
            lambda n, s, e: self.redact(bytes(buf[s:e])) if n == ANY_VALUE_STRING else None,
        )

    def key_value(self, buf, vs, ve):
        return self.rewrite(
            buf,
            vs,
            ve,
            lambda n, s, e: self.any_value(buf, s, e) if n == KEY_VALUE_VALUE else None,
        )

    def log_record(self, buf, vs, ve):
        if buf.find(b"@", vs, ve) < 0:
            return None

        def edit(n, s, e):
            if n == LOG_BODY:
                return self.any_value(buf, s, e)
            if n == LOG_ATTRIBUTES and self.attributes:
                return self.key_value(buf, s, e)
            return None

        return self.rewrite(buf, vs, ve, edit)

    def scope_logs(self, buf, vs, ve):
        return self.rewrite(
            buf,
            vs,
            ve,
            lambda n, s, e: self.log_record(buf, s, e) if n == SCOPE_LOGS_LOG_RECORDS else None,
        )

    def resource_logs(self, buf, vs, ve):
        return self.rewrite(
            buf,
            vs,
            ve,
            lambda n, s, e: self.scope_logs(buf, s, e) if n == RESOURCE_LOGS_SCOPE_LOGS else None,
        )

    def request(self, buf):
        """The redacted request, or None when nothing changed."""
        return self.rewrite(
            buf,
            0,
            len(buf),
            lambda n, s, e: self.resource_logs(buf, s, e) if n == REQUEST_RESOURCE_LOGS else None,
        )


def redact_request(payload, replacement="[redacted]", attributes=True):
    """Returns (new payload or None if unchanged, number of addresses)."""
    r = Redactor(replacement, attributes)
    out = r.request(memoryview(payload) if not isinstance(payload, bytes) else payload)
    return (None if out is None else bytes(out)), r.redacted
