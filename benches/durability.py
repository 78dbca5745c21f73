#!/usr/bin/env python3
"""Durability figures (issue #8), run by benches/durability.sh after it built
the binaries:

  write    the `queue` criterion bench (benches/queue.rs): concurrent puts
           into the redb store with fsync always, batch and never; MB/s and
           items/s from criterion's mean time per iteration.
  replay   e2e_crash `replay_throughput_after_a_restart`: records queued on
           disk for a down endpoint, kill -9, a new process sends them all;
           items/s and MB/s between the first and the last request the
           endpoint received. The store-level replay (open and read every
           batch) comes from the criterion bench.
  kill -9  e2e_crash `kill_9_under_load_*`: three kills under load with a
           live endpoint; records sent twice per kill.
  overload e2e_overload: clients offer far more than the endpoint takes for
           N seconds behind a memory_limiter; peak RSS against the limit.

Writes benches/RESULTS-durability.md (the command, date, build profile,
commit, load average, the figures and the raw lines they came from).
"""

import argparse
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Everything after this line in the results file is kept when it is rewritten.
NOTES_MARKER = "<!-- notes: kept by benches/durability.py -->"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def loadavg():
    return Path("/proc/loadavg").read_text().split()[:3]


def executable(target_dir, profile_dir, name):
    """The newest built test/bench executable `name-<hash>`."""
    found = [
        p
        for p in glob.glob(os.path.join(target_dir, profile_dir, "deps", f"{name}-*"))
        if os.access(p, os.X_OK) and not p.endswith(".d") and os.path.isfile(p)
    ]
    if not found:
        sys.exit(f"no built {name} in {target_dir}/{profile_dir}/deps (run without NO_BUILD=1)")
    return max(found, key=os.path.getmtime)


def run(cmd, env=None, cwd=ROOT):
    log("$", " ".join(cmd))
    full_env = dict(os.environ)
    full_env.update(env or {})
    out = subprocess.run(cmd, env=full_env, cwd=cwd, capture_output=True, text=True)
    text = out.stdout + out.stderr
    if out.returncode != 0:
        log(text[-4000:])
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}")
    return text


def bench_constants():
    src = (ROOT / "benches/queue.rs").read_text()

    def const(name):
        m = re.search(rf"const {name}: usize = ([0-9_ *]+);", src)
        return eval(m.group(1).replace("_", ""))  # simple integer products only

    return const("BATCHES"), const("ITEMS"), const("BATCH_BYTES"), const("REPLAY_BATCHES")


def mean_ns(criterion_home, group, bench):
    path = Path(criterion_home) / group / bench / "new" / "estimates.json"
    return json.loads(path.read_text())["mean"]["point_estimate"]


def write_figures(queue_exe):
    batches, items, batch_bytes, replay_batches = bench_constants()
    home = tempfile.mkdtemp(prefix="weir-criterion-")
    raw = run([queue_exe, "--bench", "--noplot"], env={"CRITERION_HOME": home}, cwd=ROOT / "host")
    rows = []
    for policy in ["always", "batch", "never"]:
        ns = mean_ns(home, "queue_put", f"{policy}_{batches}x{batch_bytes // 1024}KiB")
        secs = ns / 1e9
        rows.append({
            "fsync": policy,
            "batches_per_s": batches / secs,
            "items_per_s": batches * items / secs,
            "mb_per_s": batches * batch_bytes / secs / 1e6,
            "ms_per_round": ns / 1e6,
        })
    ns = mean_ns(home, "queue_replay", f"open_and_read_{replay_batches}_batches")
    secs = ns / 1e9
    store_replay = {
        "batches": replay_batches,
        "items_per_s": replay_batches * items / secs,
        "mb_per_s": replay_batches * batch_bytes / secs / 1e6,
        "ms": ns / 1e6,
    }
    shape = f"{batches} concurrent puts of {items} items / {batch_bytes // 1024} KiB each per round"
    return rows, store_replay, shape, raw


def figure_lines(text):
    return [l for l in text.splitlines() if l.startswith("FIGURE ")]


def fields(line):
    return dict(re.findall(r"(\w+)=([0-9.]+)", line))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-dir", required=True)
    ap.add_argument("--command", default="benches/durability.sh")
    ap.add_argument("--release", action="store_true")
    ap.add_argument("--overload-secs", type=int, default=60)
    ap.add_argument("--replay-records", type=int, default=100_000)
    ap.add_argument("--out", default=str(ROOT / "benches/RESULTS-durability.md"))
    args = ap.parse_args()
    profile_dir = "release" if args.release else "debug"
    load_before = loadavg()
    started = datetime.datetime.now(datetime.timezone.utc)

    queue_exe = executable(args.target_dir, profile_dir, "queue")
    crash_exe = executable(args.target_dir, profile_dir, "e2e_crash")
    overload_exe = executable(args.target_dir, profile_dir, "e2e_overload")

    log("write throughput (criterion, benches/queue.rs)")
    writes, store_replay, shape, _ = write_figures(queue_exe)

    log("replay after a restart (e2e_crash)")
    replay_raw = run(
        [crash_exe, "--ignored", "--exact", "replay_throughput_after_a_restart", "--nocapture"],
        env={"WEIR_REPLAY_RECORDS": str(args.replay_records)},
    )
    replay_lines = figure_lines(replay_raw)
    replay = fields(next(l for l in replay_lines if l.startswith("FIGURE replay")))

    log("kill -9 under load (e2e_crash)")
    kill_raw = run([crash_exe, "kill_9_under_load", "--nocapture", "--test-threads", "1"])
    kill_lines = [l for l in kill_raw.splitlines() if re.match(r"^(kill |test kill_9)", l) or "kill -9 under load" in l]

    log(f"overload for {args.overload_secs}s (e2e_overload)")
    if args.overload_secs == 60:
        overload_cmd = [overload_exe, "--ignored", "--exact", "overload_for_60s", "--nocapture"]
        env = {}
    else:
        overload_cmd = [overload_exe, "--exact", "overload_is_refused_and_memory_stays_bounded", "--nocapture"]
        env = {"WEIR_OVERLOAD_SECS": str(args.overload_secs)}
    overload_raw = run(overload_cmd, env=env)
    overload_lines = [l for l in overload_raw.splitlines() if re.search(r"overload \d+s", l)]
    overload = overload_lines[-1] if overload_lines else "(no figure line found)"
    idle = re.search(r"RSS idle (\d+) MiB", overload)
    peak = re.search(r"peak (\d+) MiB", overload)
    limit = re.search(r"limit (\d+) MiB", overload)
    ratio = re.search(r"\(([0-9.]+)x\)", overload)

    load_after = loadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    out = []
    out.append("# Durability figures (issue #8)\n")
    out.append(f"- command: `{args.command.strip()}`")
    out.append(f"- date: {started:%Y-%m-%d %H:%M} UTC, commit {commit}")
    out.append(f"- build profile: {'release' if args.release else 'debug (dev profile; re-run with --release for the closing note)'}")
    out.append(f"- machine: {os.cpu_count()} CPUs; load average before {' '.join(load_before)}, after {' '.join(load_after)}")
    out.append("")
    out.append("## Persistent queue write throughput (redb store, `benches/queue.rs`)\n")
    out.append(f"{shape}; each round also deletes what it stored (as delivery does).\n")
    out.append("| fsync | MB/s | items/s | batches/s | ms per round |")
    out.append("| --- | ---: | ---: | ---: | ---: |")
    for r in writes:
        out.append(f"| {r['fsync']} | {r['mb_per_s']:.1f} | {r['items_per_s']:,.0f} | {r['batches_per_s']:,.0f} | {r['ms_per_round']:.1f} |")
    ingest = next((fields(l) for l in replay_lines if l.startswith("FIGURE ingest")), None)
    if ingest:
        out.append("")
        out.append(f"End to end, 4 HTTP clients posting 100-record requests into a pipeline whose "
                   f"exporter has a persistent queue (fsync batch, endpoint down): "
                   f"{float(ingest['records_per_s']):,.0f} records/s acknowledged "
                   f"({int(float(ingest['records']))} records in {float(ingest['secs']):.2f} s).")
    out.append("")
    out.append("## Replay after a restart\n")
    out.append("| what | items/s | MB/s | detail |")
    out.append("| --- | ---: | ---: | --- |")
    out.append(
        f"| end to end (`e2e_crash` replay_throughput_after_a_restart) | {float(replay['records_per_s']):,.0f} | "
        f"{float(replay['mb_per_s']):.2f} | {int(float(replay['records']))} records ({int(float(replay['bytes'])) / 1e6:.1f} MB stored) "
        f"killed with the endpoint down, sent by the next process in {float(replay['secs']):.2f} s "
        f"({int(float(replay['requests']))} requests), {replay.get('duplicates', '?')} duplicates |"
    )
    out.append(
        f"| store only (open + read every batch, `benches/queue.rs`) | {store_replay['items_per_s']:,.0f} | "
        f"{store_replay['mb_per_s']:.1f} | {store_replay['batches']} batches in {store_replay['ms']:.0f} ms |"
    )
    out.append("")
    out.append("## kill -9 under load, live endpoint (`e2e_crash`)\n")
    out.append("Three kills in a row on the same storage, clients sending throughout; "
               "every acknowledged record arrived. Records sent twice per kill:\n")
    out.append("```")
    out.extend(kill_lines)
    out.append("```\n")
    out.append(f"## Overload ({args.overload_secs} s, `e2e_overload`)\n")
    if peak and limit:
        out.append(f"Peak RSS **{peak.group(1)} MiB**"
                   + (f" (idle {idle.group(1)} MiB)" if idle else "")
                   + f" with `memory_limiter.limit_mib` {limit.group(1)}"
                   + (f"; offered {ratio.group(1)}x what the endpoint took." if ratio else "."))
        out.append("")
    out.append("```")
    out.append(overload)
    out.append("```\n")
    out.append("Raw figure lines:\n")
    out.append("```")
    out.extend(replay_lines)
    out.append("```")
    previous = Path(args.out).read_text() if Path(args.out).exists() else ""
    notes = previous.split(NOTES_MARKER, 1)[1] if NOTES_MARKER in previous else "\n"
    out.append("")
    out.append(NOTES_MARKER + notes.rstrip("\n"))
    Path(args.out).write_text("\n".join(out) + "\n")
    log(f"wrote {args.out}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
