#!/usr/bin/env python3
"""End-to-end benchmark: weir-loadgen → weir → weir-loadgen --sink, on loopback.

For every pipeline in PIPELINES and every TLS mode, it starts a counting sink,
a `weir` whose pipeline exports to that sink, and a generator sending
stamped spans to weir; then it reads weir's CPU time (/proc/PID/stat utime +
stime) and peak RSS (VmHWM in /proc/PID/status) and the sink's count of
missing/duplicate ids and end-to-end latency, and writes a Markdown report.

A pipeline whose processor types this weir does not know (its
`weir validate` fails) is skipped with the validator's words as the note,
so adding a pipeline here is enough for it to run once its plugin lands.

Exporter to the sink, the first that this weir accepts:
  otlphttp  -> sink listens for OTLP/HTTP;
  otlp      -> sink listens for OTLP/gRPC;
  file      -> `format: proto` into a FIFO that the sink reads (the file
               plugin decodes each batch to check it, a cost a network
               exporter would not have; the report says which was used).

Usage: benches/e2e.sh [options]   (builds release binaries, then runs this)
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (processors block, processor chain). `batch` is the host's.
PIPELINES = {
    "passthrough": ("""
  batch: {timeout: 200ms, send_batch_size: 8192}
""", ["batch"]),
    "attributes": ("""
  batch: {timeout: 200ms, send_batch_size: 8192}
  attributes/insert:
    actions: [{key: org_name, value: weir-bench, action: insert}]
""", ["batch", "attributes/insert"]),
    "transform": ("""
  batch: {timeout: 200ms, send_batch_size: 8192}
  transform/five:
    error_mode: ignore
    trace_statements:
      - context: span
        statements:
          - set(attributes["bench.env"], "e2e")
          - set(attributes["bench.copy"], attributes["attr.0"])
          - delete_key(attributes, "attr.1")
          - set(name, "renamed") where attributes["attr.2"] == "value-2-3"
          - set(attributes["bench.kind"], "server") where kind == 2
""", ["batch", "transform/five"]),
    "tail_sampling": ("""
  batch: {timeout: 200ms, send_batch_size: 8192}
  tail_sampling:
    decision_wait: 1s
    num_traces: 100000
    policies:
      - {name: keep-all, type: always_sample}
""", ["batch", "tail_sampling"]),
}

TLS_MODES = ["plain", "mtls"]

# Everything after this line in RESULTS.md is kept when the tables are rewritten.
NOTES_MARKER = "<!-- notes: kept by benches/e2e.py -->"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Proc:
    """A child process whose stderr lines are collected (and matched)."""

    def __init__(self, args, cwd=None, env=None, stdout=subprocess.PIPE):
        self.args = args
        self.p = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                  stdout=stdout, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, pattern, timeout):
        """The first stderr line matching `pattern` (a regex), or an error."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        seen = 0
        with self.cond:
            while True:
                for line in self.lines[seen:]:
                    if rx.search(line):
                        return line
                seen = len(self.lines)
                if self.p.poll() is not None:
                    raise RuntimeError(f"{self.args[0]} exited ({self.p.returncode}):\n" + "\n".join(self.lines[-30:]))
                left = deadline - time.time()
                if left <= 0:
                    raise RuntimeError(f"timed out waiting for {pattern!r}:\n" + "\n".join(self.lines[-30:]))
                self.cond.wait(min(left, 0.5))

    def stop(self, timeout=60):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def cpu_seconds(pid):
    """utime + stime of `pid`, in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_mib(pid, key):
    """A `/proc/PID/status` memory line (`VmHWM`, `VmRSS`) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib(pid):
    return status_mib(pid, "VmHWM")


class RssSampler(threading.Thread):
    """Samples VmRSS every 0.25 s while the load runs: the largest sample is
    the resident set under load, which VmHWM hides behind start-up (plugin
    compilation) when that peak is higher."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.max_mib, self.done = pid, 0.0, threading.Event()

    def run(self):
        while not self.done.wait(0.25):
            try:
                self.max_mib = max(self.max_mib, status_mib(self.pid, "VmRSS"))
            except OSError:
                return

    def stop(self):
        self.done.set()
        self.join()
        try:
            self.max_mib = max(self.max_mib, status_mib(self.pid, "VmRSS"))
        except OSError:
            pass
        return self.max_mib


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Bench:
    def __init__(self, opts):
        self.o = opts
        bin_dir = Path(opts.target_dir) / opts.profile
        self.weir = str(bin_dir / "weir")
        self.loadgen = str(bin_dir / "weir-loadgen")
        self.work = Path(tempfile.mkdtemp(prefix="weir-e2e-"))
        self.certs = self.work / "certs"
        subprocess.run([self.weir, "certs", "generate", "--out", str(self.certs)], check=True,
                       stdout=subprocess.DEVNULL)
        self.exporter = None

    # --- config -------------------------------------------------------------
    def receivers(self, tls):
        if tls == "plain":
            t = ""
        else:
            c = self.certs
            t = f", tls: {{cert_file: {c}/server.crt, key_file: {c}/server.key, client_ca_file: {c}/ca.crt}}"
        return f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0{t}}}
      http: {{endpoint: 127.0.0.1:0{t}}}
"""

    def exporter_block(self, kind, sink):
        if kind == "otlphttp":
            return f"  otlphttp/sink: {{endpoint: http://{sink}, compression: none}}\n", "otlphttp/sink"
        if kind == "otlp":
            return f"  otlp/sink: {{endpoint: {sink}, compression: none, tls: {{insecure: true}}}}\n", "otlp/sink"
        return f"  file/sink: {{path: {sink}, format: proto}}\n", "file/sink"

    def config(self, pipeline, tls, exporter, sink):
        processors, chain = PIPELINES[pipeline]
        block, exp_id = self.exporter_block(exporter, sink)
        return (self.receivers(tls) + "processors:" + processors + "exporters:\n" + block +
                f"""service:
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [{", ".join(chain)}], exporters: [{exp_id}]}}
""")

    def validate(self, text, name):
        path = self.work / f"{name}.yaml"
        path.write_text(text)
        r = subprocess.run([self.weir, "validate", "--config", str(path)], capture_output=True, text=True)
        return r.returncode == 0, (r.stdout + r.stderr).strip()

    def pick_exporter(self):
        if self.o.exporter != "auto":
            return self.o.exporter
        for kind in ["otlphttp", "otlp"]:
            ok, _ = self.validate(self.config("passthrough", "plain", kind, "127.0.0.1:9"), f"probe-{kind}")
            if ok:
                return kind
        return "file"

    # --- one run ------------------------------------------------------------
    def run(self, pipeline, tls, count, rate=None, duration=None):
        """Runs one measurement; returns a dict of figures, or a skip note."""
        name = f"{pipeline}-{tls}" + (f"-{int(rate)}ps" if rate else "")
        exporter = self.exporter
        ok, why = self.validate(self.config(pipeline, tls, exporter, "127.0.0.1:9"), f"check-{name}")
        if not ok:
            first = why.splitlines()[0] if why else "invalid config"
            return {"name": name, "skipped": re.sub(r"^\S+\.yaml:\d+: ", "", first), "detail": why}
        expect = count
        sink_args = [self.loadgen, "--sink", "--json", "--expect", str(expect),
                     "--idle-exit", str(self.o.idle_exit)]
        fifo = None
        if exporter == "file":
            fifo = self.work / f"{name}.fifo"
            if fifo.exists():
                fifo.unlink()
            os.mkfifo(fifo)
            sink = Proc(sink_args + ["--from-file", str(fifo), "--signal", "traces"])
            sink_target = str(fifo)
        else:
            sink = Proc(sink_args + ["--listen", "127.0.0.1:0", "--http" if exporter == "otlphttp" else "--grpc"])
            sink_target = sink.wait_line(r"listening on", 30).rsplit(" ", 1)[1]
        cfg = self.work / f"{name}.yaml"
        cfg.write_text(self.config(pipeline, tls, exporter, sink_target))
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "info"))
        weir = Proc([self.weir, "--config", str(cfg)], cwd=self.work, env=env, stdout=subprocess.DEVNULL)
        try:
            weir.wait_line(r" ready", 180)
            transport = "http" if self.o.protocol == "http" else "grpc"
            line = next(l for l in weir.lines if "listening" in l and re.search(f'transport="?{transport}"?', l))
            target = re.search(r"address=(\S+)", line).group(1)
            gen_args = [self.loadgen, "--target", target, "--json", f"--{self.o.protocol}",
                        "--batch", str(self.o.batch), "--connections", str(self.o.connections),
                        "--attributes", str(self.o.attributes), "--retries", "20"]
            if rate:
                gen_args += ["--rate", str(rate)]
            gen_args += ["--count", str(count)]
            if tls == "mtls":
                c = self.certs
                gen_args += ["--ca", f"{c}/ca.crt", "--cert", f"{c}/client.crt", "--key", f"{c}/client.key"]
            time.sleep(0.5)  # let start-up work (plugin compilation) settle
            cpu0, tools0, t0 = cpu_seconds(weir.p.pid), children_cpu(), time.time()
            start_rss = status_mib(weir.p.pid, "VmRSS")
            sampler = RssSampler(weir.p.pid)
            sampler.start()
            gen = subprocess.run(gen_args, capture_output=True, text=True)
            if gen.returncode != 0 and not gen.stdout.strip():
                raise RuntimeError(f"generator failed: {gen.stderr}")
            gen_report = json.loads(gen.stdout)
            out, _ = sink.p.communicate(timeout=self.o.idle_exit + 120)
            wall = time.time() - t0
            cpu = cpu_seconds(weir.p.pid) - cpu0
            rss = peak_rss_mib(weir.p.pid)
            load_rss = sampler.stop()
            tools = children_cpu() - tools0
            sink_report = json.loads(out)
        finally:
            weir.stop()
            sink.stop()
        traces = next((s for s in sink_report["signals"] if s["signal"] == "traces"), {})
        delivered = traces.get("distinct_ids", 0)
        return {
            "name": name, "pipeline": pipeline, "tls": tls, "rate": rate, "exporter": exporter,
            "sent": gen_report["items_sent"], "accepted": gen_report["items_accepted"],
            "refused": sum(gen_report["refused"].values()), "failed": gen_report["items_failed"],
            "delivered": delivered, "duplicates": traces.get("duplicate_ids", 0),
            "missing": traces.get("missing_ids", count), "wall_s": wall,
            "gen_s": gen_report["elapsed_s"], "weir_cpu_s": cpu, "tools_cpu_s": tools,
            "rss_mib": rss, "load_rss_mib": load_rss, "start_rss_mib": start_rss, "p50_ms": traces.get("latency", {}).get("p50_ms"),
            "p99_ms": traces.get("latency", {}).get("p99_ms"),
            "request_p99_ms": gen_report["latency"]["p99_ms"],
            "stopped_by": sink_report["stopped_by"],
        }


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def markdown(opts, results, steady, exporter, command):
    cpu_model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                      if l.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    lines = [
        "# End-to-end benchmark results",
        "",
        f"Made by `{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}"
        f"{' + local changes' if dirty else ''}).",
        f"Machine: {os.cpu_count()} cores ({cpu_model}), load average before the run "
        f"{opts.loadavg}; generator and sink run on the same cores as weir.",
        "",
        f"Path: `weir-loadgen` → weir (OTLP/{opts.protocol.upper() if opts.protocol == 'http' else 'gRPC'}, "
        f"{opts.batch}-span requests, {opts.attributes} attributes per span, {opts.connections} connections, "
        f"{f'{opts.rate:,.0f} spans/s' if opts.rate else 'as fast as accepted'}) → exporter `{exporter}` → "
        "`weir-loadgen --sink`.",
        "",
        "| pipeline | TLS | spans delivered / sent | missing | dup | refused | wall s | spans/s (e2e) "
        "| weir CPU s | spans/s per weir core | weir CPU s per M spans | peak RSS MiB | p50 ms | p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    skipped = []
    for r in results:
        if "skipped" in r:
            skipped.append(r)
            continue
        per_core = r["delivered"] / r["weir_cpu_s"] if r["weir_cpu_s"] else None
        per_m = r["weir_cpu_s"] / r["delivered"] * 1e6 if r["delivered"] else None
        lines.append(
            f"| {r['pipeline']} | {r['tls']} | {r['delivered']:,} / {r['sent']:,} | {r['missing']} | "
            f"{r['duplicates']} | {r['refused']} | {r['wall_s']:.2f} | {r['delivered'] / r['wall_s']:,.0f} | "
            f"{r['weir_cpu_s']:.2f} | {fmt(per_core, ',.0f')} | {fmt(per_m, '.2f')} | {r['rss_mib']:.1f} | "
            f"{fmt(r['p50_ms'], '.1f')} | {fmt(r['p99_ms'], '.1f')} |")
    if steady:
        lines += ["", f"Steady load: {steady['rate']:,.0f} spans/s for {steady['wall_s']:.0f} s, "
                      f"pipeline {steady['pipeline']}, {steady['tls']}:", "",
                  "| weir CPU (% of one core) | RSS under load MiB | RSS at start MiB | peak RSS MiB | p50 ms "
                  "| p99 ms | delivered / sent | missing |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        if "skipped" in steady:
            lines[-2:] = [f"skipped: {steady['skipped']}"]
        else:
            lines.append(f"| {100 * steady['weir_cpu_s'] / steady['wall_s']:.2f} | {steady['load_rss_mib']:.1f} | "
                         f"{steady['start_rss_mib']:.1f} | {steady['rss_mib']:.1f} | "
                         f"{fmt(steady['p50_ms'], '.1f')} | {fmt(steady['p99_ms'], '.1f')} | "
                         f"{steady['delivered']:,} / {steady['sent']:,} | {steady['missing']} |")
    if skipped:
        lines += ["", "Skipped (their processors are not in this build; they run once they land):", ""]
        lines += [f"- {r['name']}: {r['skipped']}" for r in skipped]
    lines += [
        "",
        "How each figure is taken:",
        "",
        "- *spans/s (e2e)*: spans delivered to the sink / wall time from the generator's start to the "
        "sink's last expected span.",
        "- *weir CPU s*: utime + stime of the weir process (/proc/PID/stat) over the same window "
        "(start-up, i.e. plugin compilation, excluded); *per weir core* = delivered / CPU s.",
        "- *peak RSS*: VmHWM of weir (/proc/PID/status), start-up (plugin compilation) included; "
        "*RSS under load*: the largest VmRSS sampled every 0.25 s while the load runs; "
        "*RSS at start*: VmRSS when the load begins.",
        "- *p50/p99*: end-to-end, from the generator stamping `loadgen.sent_ns` on a request to the sink "
        "receiving each span (includes the batch processor's wait, up to its 200 ms timeout).",
        "- *missing/dup*: from the sink's exact set of `loadgen.id` stamps; the generator retries "
        "refused requests (up to 20 times), so refusals are not losses.",
    ]
    if exporter == "file":
        lines += [
            "",
            "Exporter note: this build has no network exporter (`otlphttp`/`otlp`), so weir exports "
            "with `file` (`format: proto`) into a FIFO the sink reads. The `file` plugin decodes every "
            "batch with prost inside wasm to check it before writing, so these CPU figures include one "
            "full decode per span that a network exporter passing bytes through would not pay. Re-run "
            "`benches/e2e.sh` once `otlphttp` lands; it picks it up by itself.",
        ]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    ap.add_argument("--profile", default="release", help="the build profile's folder in the target dir")
    ap.add_argument("--pipelines", default=",".join(PIPELINES), help="comma-separated, from: " + ", ".join(PIPELINES))
    ap.add_argument("--tls", default=",".join(TLS_MODES), help="plain,mtls")
    ap.add_argument("--count", type=int, default=2_000_000, help="spans per throughput run")
    ap.add_argument("--protocol", choices=["http", "grpc"], default="http")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--attributes", type=int, default=10)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--exporter", choices=["auto", "otlphttp", "otlp", "file"], default="auto")
    ap.add_argument("--rate", type=float, default=None,
                    help="spans/s of the pipeline runs (default: as fast as accepted)")
    ap.add_argument("--steady-rate", type=float, default=10_000, help="spans/s of the steady mTLS run (0: none)")
    ap.add_argument("--steady-seconds", type=float, default=30)
    ap.add_argument("--idle-exit", type=float, default=15, help="sink gives up after this long without spans")
    ap.add_argument("--out", default=str(ROOT / "benches" / "RESULTS.md"))
    ap.add_argument("--command", default=None, help="the command line to write into the report")
    opts = ap.parse_args()
    opts.loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    bench = Bench(opts)
    bench.exporter = bench.pick_exporter()
    log(f"exporter to the sink: {bench.exporter}; work dir {bench.work}")
    results = []
    for pipeline in opts.pipelines.split(","):
        for tls in opts.tls.split(","):
            log(f"--- {pipeline} / {tls}")
            r = bench.run(pipeline, tls, opts.count, rate=opts.rate)
            log(json.dumps(r))
            results.append(r)
    steady = None
    if opts.steady_rate > 0:
        log(f"--- steady {opts.steady_rate}/s over mTLS")
        n = int(opts.steady_rate * opts.steady_seconds)
        steady = bench.run("passthrough", "mtls", n, rate=opts.steady_rate)
        log(json.dumps(steady))
    command = opts.command or "benches/e2e.sh " + " ".join(sys.argv[1:])
    report = markdown(opts, results, steady, bench.exporter, command.strip())
    # Notes written by hand below the marker survive a re-run.
    out = Path(opts.out)
    if out.exists() and NOTES_MARKER in out.read_text():
        report += "\n" + NOTES_MARKER + out.read_text().split(NOTES_MARKER, 1)[1]
    out.write_text(report)
    (Path(opts.out).with_suffix(".json")).write_text(json.dumps({"results": results, "steady": steady}, indent=2))
    print(report)
    shutil.rmtree(bench.work, ignore_errors=True)
    bad = [r for r in results + ([steady] if steady else []) if "skipped" not in r and (r["missing"] or r["duplicates"])]
    if bad:
        log("LOSS OR DUPLICATES in: " + ", ".join(r["name"] for r in bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
