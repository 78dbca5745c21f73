"""What {{name}} does with a batch: here, nothing (it passes every batch
on). A batch is the protobuf bytes of one OTLP Export*ServiceRequest; see
the Weir repository's examples/plugins/python-redact-emails for a plugin
that edits log records on the wire format."""

import json

# The processor's YAML block, as JSON, after `configure`.
settings = {}


def configure(config_json):
    """Checks the config; returns an error text, or None when it is good."""
    try:
        config = json.loads(config_json or "{}")
    except ValueError as e:
        return f"config is not JSON: {e}"
    if not isinstance(config, dict):
        return "config must be a map"
    settings.clear()
    settings.update(config)
    return None


def process(signal, payload):
    """Returns the payloads to pass on (none drops the batch)."""
    return [payload]
