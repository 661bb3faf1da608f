"""Decoding throughput of the Python package beside the `droneid` binary, on the same capture.

    python python/bench.py [--sample-rate 61.44M] [--seconds 1] [--drones 3] [--rounds 3]

Writes a capture with `droneid synth` (DRONES drones on random channels, a burst every 100 ms
each, 10 dB in-band SNR, cf32 SigMF), reads it once so that it sits in the page cache, then times,
in ROUNDS interleaved rounds (the order rotated each round, so that a busy machine slows every
path alike):

* `droneid decode X.sigmf-meta` (the binary; wall time of the whole process, and the time of its
  engine run alone as its summary line reports it);
* `droneid.decode_file("X.sigmf-meta")` (the same engine, reading the same file);
* `droneid.decode(array, ...)` on the capture already in memory as a numpy complex64 array.

It checks that the three give the same frames, prints each path's best and median wall time and
least CPU time (user + system, all threads), its throughput and its ratios to the binary's, and (unless --no-bench) the binary's own
`droneid bench` line on an in-memory capture of the same rate, length and drones.
Needs target/release/droneid (or $DRONEID_BIN).
"""

import argparse
import json
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import droneid

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("DRONEID_BIN", str(ROOT / "target" / "release" / "droneid"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample-rate", default="61.44M")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--drones", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-bench", action="store_true", help="skip `droneid bench`")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as d:
        base = pathlib.Path(d) / "bench"
        subprocess.run([BIN, "synth", "--output", str(base), "--sample-rate", args.sample_rate,
                        "--drones", str(args.drones), "--random-offsets", "--duration-s",
                        str(args.seconds), "--interval-ms", "100", "--snr-db", "10", "--seed", "1"],
                       check=True, capture_output=True)
        meta = f"{base}.sigmf-meta"
        data = pathlib.Path(f"{base}.sigmf-data")
        info = json.loads(pathlib.Path(meta).read_text())["global"]
        rate = info["core:sample_rate"]
        with open(data, "rb") as f:  # into the page cache
            while f.read(1 << 24):
                pass
        samples = np.fromfile(data, dtype=np.complex64)
        n = len(samples)

        engine_s = []  # the binary's own timing of its engine run (summary line on stderr)

        def run_cli():
            p = subprocess.run([BIN, "decode", meta, "--no-progress"],
                               capture_output=True, text=True, check=True)
            m = re.search(r"samples \(.*\) in ([0-9.]+) s", p.stderr)
            if m:
                engine_s.append(float(m.group(1)))
            return [json.loads(line) for line in p.stdout.splitlines()]

        paths = [("droneid decode FILE (binary)", run_cli),
                 ("droneid.decode_file(FILE)", lambda: droneid.decode_file(meta)),
                 ("droneid.decode(array)", lambda: droneid.decode(samples, rate))]
        times = {name: [] for name, _ in paths}
        cpu = {name: [] for name, _ in paths}
        frames = {}

        def cpu_s():  # user + system time of this process (every thread) and its children
            return sum(getattr(resource.getrusage(w), f) for w in
                       (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))

        for r in range(args.rounds):
            for name, fn in paths[r % len(paths):] + paths[:r % len(paths)]:
                c0, t0 = cpu_s(), time.perf_counter()
                frames[name] = fn()
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(cpu_s() - c0)
        # The array has no centre frequency and no SigMF time: compare what it can know.
        strip = lambda fs: [{k: v for k, v in f.items() if k not in ("center_freq_hz", "utc")}
                            for f in fs]
        reference = frames[paths[0][0]]
        for name, _ in paths[1:]:
            if strip(frames[name]) != strip(reference):
                sys.exit(f"bench: {name} found other frames than the binary")

    cores = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"capture: {n} samples ({n / rate:.2f} s at {rate / 1e6:.2f} MS/s, cf32 SigMF), "
          f"{args.drones} drones, {len(reference)} frames; {cores} cores, load {load:.1f}; "
          f"{args.rounds} interleaved rounds")
    best_cli = min(times[paths[0][0]])
    med_cli = statistics.median(times[paths[0][0]])
    cpu_cli = min(cpu[paths[0][0]])
    print(f"{'path':<30} {'best s':>7} {'MS/s':>6} {'x real':>6} {'CLI/this':>8} {'median s':>8} "
          f"{'CLI/this':>8} {'CPU s':>6} {'CLI/this':>8}")
    for name, _ in paths:
        best, med, c = min(times[name]), statistics.median(times[name]), min(cpu[name])
        print(f"{name:<30} {best:7.3f} {n / best / 1e6:6.1f} {n / rate / best:6.2f} "
              f"{best_cli / best:8.3f} {med:8.3f} {med_cli / med:8.3f} {c:6.2f} {cpu_cli / c:8.3f}")
    if engine_s:
        print(f"{'  its engine run (own summary)':<30} {min(engine_s):7.3f} {n / min(engine_s) / 1e6:6.1f} "
              f"{n / rate / min(engine_s):6.2f} {best_cli / min(engine_s):8.3f} "
              f"{statistics.median(engine_s):8.3f}")
    print("best/median: wall time of each path over the rounds; CPU s: least user + system time "
          "(every thread; the binary's as a child process); CLI/this > 1: faster than the binary")
    if not args.no_bench:
        cmd = [BIN, "bench", "--sample-rate", args.sample_rate, "--seconds", str(args.seconds),
               "--drones", str(args.drones)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        print(" ".join(["droneid", *cmd[1:]]) + ":")
        print((p.stdout + p.stderr).strip())


if __name__ == "__main__":
    main()
