"""A Weir processor in Python: redacts email addresses in log bodies and
log attribute values. The logic is in redact.py (plain Python, testable
without the sandbox); this file binds it to the processor-plugin world."""

from wit_world import exports
from componentize_py_types import Err
from wit_world.imports import host, types

import otlp_wire as wire
from redact import configure, redact_request, settings


class Processor(exports.Processor):
    def init(self, config_json):
        error = configure(config_json)
        if error is not None:
            raise Err(types.PluginError_InvalidConfig(error))
        return types.ProcessorInfo(signals=types.Signals.LOGS, stateful=False)

    def process(self, ctx, batch):
        if batch.signal != types.Signal.LOGS:
            return [batch]
        try:
            new, count = redact_request(
                batch.payload, settings["replacement"], settings["attributes"]
            )
        except (wire.WireError, UnicodeDecodeError) as e:
            raise Err(types.PluginError_Rejected(f"cannot decode ExportLogsServiceRequest: {e}"))
        if count:
            host.counter_add("redacted_emails", count)
        if new is None:
            return [batch]
        return [types.Batch(signal=types.Signal.LOGS, payload=new)]

    def tick(self, now_unix_nanos):
        return []

    def flush(self):
        return []
