"""Decoding throughput of the Python package beside the `droneid` binary, on the same capture.

    python python/bench.py [SAMPLE_RATE_HZ] [SECONDS]

Synthesises a capture (2 drones on random channels, a burst every 100 ms each, 10 dB), writes it
as raw cf32 (read once so it sits in the page cache), then times, best of 3 each:
`droneid decode FILE` (the binary, process start included), `droneid.decode_file(FILE)` and
`droneid.decode(array)`; and prints `droneid bench` (the pipeline on an in-memory capture) for
reference. Needs target/release/droneid (or $DRONEID_BIN).
"""

import os
import pathlib
import subprocess
import sys
import tempfile
import time

import droneid

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("DRONEID_BIN", str(ROOT / "target" / "release" / "droneid"))


def best_of(n, fn):
    times, result = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main():
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 61.44e6
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    samples, truth = droneid.synth(rate, drones=2, random_offsets=True, interval_ms=100,
                                   duration_s=seconds, snr_db=10, seed=1)
    n = len(samples)
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d) / "bench.cf32"
        samples.tofile(path)
        path.read_bytes()  # into the page cache
        args = [BIN, "decode", str(path), "--sample-rate", str(rate), "--quiet", "--no-progress"]

        def run_cli():
            out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
            return len(out.splitlines())

        t_cli, f_cli = best_of(3, run_cli)
        t_file, f_file = best_of(3, lambda: len(droneid.decode_file(path, sample_rate=rate)))
        t_arr, f_arr = best_of(3, lambda: len(droneid.decode(samples, rate)))
    print(f"capture: {n} samples ({n / rate:.2f} s at {rate / 1e6:.2f} MS/s), {len(truth)} bursts")
    print(f"{'path':<32} {'best s':>8} {'MS/s':>8} {'x real time':>12} {'frames':>7} {'vs CLI':>7}")
    for name, t, f in [("droneid decode FILE (binary)", t_cli, f_cli),
                       ("droneid.decode_file(FILE)", t_file, f_file),
                       ("droneid.decode(array)", t_arr, f_arr)]:
        print(f"{name:<32} {t:8.3f} {n / t / 1e6:8.1f} {n / rate / t:12.2f} {f:7d} {t_cli / t:7.2f}")
    bench = subprocess.run([BIN, "bench", "--sample-rate", str(rate)], capture_output=True, text=True)
    print("droneid bench --sample-rate", rate, ":")
    print((bench.stdout + bench.stderr).strip())


if __name__ == "__main__":
    main()
