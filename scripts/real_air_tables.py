#!/usr/bin/env python3
"""Real-air sensitivity tables (issue 11, item 6): decode rate versus in-band SNR for narrow
captures, a DC spike, narrowband interferers, back-to-back and time-overlapping pairs.

Every point is one capture written by `droneid synth` (N bursts, ground truth beside it) and
decoded by `droneid decode` -- the same code path users run. A burst counts as decoded when a
CRC24-valid frame carries exactly its transport block and starts within 3 us of it; any other
CRC24-valid frame is a false frame. Standard library only.

Usage: scripts/real_air_tables.py DRONEID_BINARY OUT.md [--bursts 200] [--only NAME,...]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

# (name, description, sample rate, synth flags, SNR points, bursts are pairs)
SNR_LOW = [-4, -3, -2, -1, 0, 2, 4]
SNR_NARROW = [-3, -1, 0, 1, 2, 3, 5]


def sixty_percent_offset(fs):
    """Channel offset that leaves 60 % of the 9.015 MHz burst inside +-Fs/2."""
    return fs / 2 + 9.015e6 / 2 - 0.6 * 9.015e6


CONDITIONS = []
for rate in (4e6, 5e6, 8e6, 10e6, 12e6):
    CONDITIONS.append((f"narrow-{rate/1e6:g}M-centred",
                       f"{rate/1e6:g} MS/s capture, burst centred", rate, [], SNR_NARROW, False))
    if rate * 1.0 >= 0.6 * 9.015e6:
        off = sixty_percent_offset(rate)
        CONDITIONS.append((f"narrow-{rate/1e6:g}M-60pct",
                           f"{rate/1e6:g} MS/s capture, burst {off/1e6:.2f} MHz off centre "
                           "(60 % of its band captured)", rate,
                           [f"--freq-offset-hz={off:.0f}"], SNR_NARROW, False))
CONDITIONS += [
    ("ci8-clean", "20 MS/s ci8, no DC spike (reference for the DC rows)", 20e6,
     ["--format", "ci8"], SNR_LOW, False),
]
for off in (0.0, 1e6, 2.5e6):
    CONDITIONS.append((f"dc-{off/1e6:g}M", f"20 MS/s ci8, DC spike 10 dB over the noise power, "
                       f"burst {off/1e6:g} MHz from the spike", 20e6,
                       ["--format", "ci8", "--dc-db", "10", f"--freq-offset-hz={off:.0f}"],
                       SNR_LOW, False))
CONDITIONS += [
    ("clean-30.72M", "30.72 MS/s, AWGN only (reference for the interference rows)", 30.72e6, [],
     SNR_LOW, False),
    ("cw-tone", "CW tone 1.2 MHz from the burst centre, 20 dB over the noise in one subcarrier",
     30.72e6, ["--tone", "1.2e6:20"], SNR_LOW, False),
    ("bt-hopper", "Bluetooth-like hopper over the channel (-5..5 MHz), 20 dB over the noise in "
     "1 MHz", 30.72e6, ["--hopper-db", "20", "--hopper-channels-mhz=-5,-4,-3,-2,-1,0,1,2,3,4,5"],
     SNR_LOW, False),
    ("wifi-edge-1.5M", "Wi-Fi frames (1 ms on in 2.5 ms) over 1.5 MHz of the channel, 20 dB over "
     "the noise in their band", 30.72e6,
     ["--wifi-db", "20", "--wifi-overlap-hz", "1.5e6", "--wifi-on-ms", "1", "--wifi-period-ms",
      "2.5"], [-2, 0, 2, 4, 6, 8, 10], False),
    ("wifi-edge-3M", "the same over 3 MHz (a third) of the channel", 30.72e6,
     ["--wifi-db", "20", "--wifi-overlap-hz", "3e6", "--wifi-on-ms", "1", "--wifi-period-ms",
      "2.5"], [-2, 0, 2, 4, 6, 8, 10], False),
]
for delay in (660, 720, 800, 900):
    CONDITIONS.append((f"pair-{delay}us", f"back-to-back pairs on one channel, second starts "
                       f"{delay} us after the first", 30.72e6,
                       ["--pair-delay-us", str(delay)], SNR_LOW, True))
for sep in (5e6, 6e6, 7e6, 9e6):
    CONDITIONS.append((f"overlap-{sep/1e6:g}M", f"pairs {sep/1e6:g} MHz apart overlapping in time "
                       "(second starts 200 us after the first)", 30.72e6,
                       [f"--freq-offset-hz={-sep/2:.0f}", "--pair-delay-us", "200",
                        f"--pair-offset-hz={sep:.0f}"], [0, 3, 5, 8], True))


def run_point(binary, tmp, fs, flags, snr, bursts, pairs, seed):
    out = os.path.join(tmp, "cap")
    n = bursts // 2 if pairs else bursts
    cfo = random.Random(seed).uniform(-20e3, 20e3)
    cmd = [binary, "synth", "-o", out, "--sample-rate", f"{fs:.0f}", "--snr-db", str(snr),
           "--bursts", str(n), "--interval-ms", "3", "--seed", str(seed),
           f"--cfo-hz={cfo:.0f}"] + flags
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    truth = [json.loads(line) for line in open(out + ".truth.jsonl")]
    dec = subprocess.run([binary, "decode", out + ".sigmf-meta"], check=True,
                         capture_output=True, text=True)
    frames = [json.loads(line) for line in dec.stdout.splitlines() if line.strip()]
    frames = [f for f in frames if f.get("crc24_ok", True)]
    tol = 3e-6 * fs
    used = set()
    ok = 0
    for t in truth:
        for i, f in enumerate(frames):
            if i in used:
                continue
            if (f.get("block_hex") == t["block_hex"]
                    and abs(f["start_sample"] - t["start_sample_exact"]) <= tol):
                used.add(i)
                ok += 1
                break
    blocks = {t["block_hex"] for t in truth}
    mistimed = sum(1 for i, f in enumerate(frames)
                   if i not in used and f.get("block_hex") in blocks)
    for ext in (".sigmf-data", ".sigmf-meta", ".truth.jsonl"):
        try:
            os.remove(out + ext)
        except FileNotFoundError:
            pass
    return len(truth), ok, len(frames) - len(used) - mistimed, mistimed


def point90(rows):
    """Lowest SNR from which every point (at and above it) decodes >= 90 %."""
    best = None
    for snr, total, ok, *_ in sorted(rows, key=lambda r: -r[0]):
        if ok >= 0.9 * total:
            best = snr
        else:
            break
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("output")
    ap.add_argument("--bursts", type=int, default=200)
    ap.add_argument("--only", default="")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    only = set(filter(None, a.only.split(",")))
    conds = [c for c in CONDITIONS if not only or c[0] in only]
    md = ["", "## Real air (scripts/real_air_tables.py)", "",
          f"{a.bursts} bursts per point, one `droneid synth` capture per point (bursts 3 ms "
          "apart, CFO uniform in ±20 kHz per capture), decoded by `droneid decode`. Decoded = a "
          "CRC24-valid frame with exactly the burst's transport block, starting within 3 µs. "
          "False = a CRC24-valid frame whose block is no burst's; mistimed = a burst's block "
          "reported more than 3 µs from its start. 90 % point = lowest SNR from which every point "
          "up decodes ≥ 90 %.", ""]
    summary = []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for ci, (name, desc, fs, flags, snrs, pairs) in enumerate(conds):
            rows = []
            for k, snr in enumerate(sorted(snrs, reverse=True)):
                seed = a.seed * 1_000_003 + ci * 1009 + k
                total, ok, false, late = run_point(a.binary, tmp, fs, flags, snr, a.bursts, pairs,
                                                   seed)
                rows.append((snr, total, ok, false, late))
                print(f"{name:22s} {snr:+5.1f} dB  {ok:4d}/{total}  false {false} mistimed {late}  "
                      f"[{time.time() - t0:.0f} s]", file=sys.stderr, flush=True)
            p90 = point90(rows)
            summary.append((name, p90, sum(r[3] for r in rows)))
            md += [f"### {name}", "", desc + f" ({fs/1e6:g} MS/s).", "",
                   "| in-band SNR (dB) | decoded | rate | false frames | mistimed |",
                   "|---:|---:|---:|---:|---:|"]
            for snr, total, ok, false, late in rows:
                md.append(f"| {snr:+g} | {ok}/{total} | {100*ok/total:.1f} % | {false} | {late} |")
            md += ["", f"90 % point: {'%+g dB' % p90 if p90 is not None else 'not reached'}", ""]
    md[5:5] = ["| condition | 90 % point (dB) | false frames |", "|---|---:|---:|"] + [
        f"| {n} | {'%+g' % p if p is not None else 'not reached'} | {f} |" for n, p, f in summary
    ] + [""]
    with open(a.output, "a") as f:
        f.write("\n".join(md) + "\n")
    print(f"appended to {a.output} in {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
