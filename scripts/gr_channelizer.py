#!/usr/bin/env python3
"""Time GNU Radio's polyphase channelizer on a cf32 capture (used by compare-gnuradio.sh).

Flowgraph: blocks.file_source (cf32) -> filter.pfb.channelizer_ccf (the gr-filter hier block:
stream_to_streams + pfb_channelizer_ccf) -> one blocks.null_sink per channel. Nothing else
runs, so the figure is GNU Radio's channelizer alone (plus reading the file from the page cache).

Defaults match droneid's channel grid (crates/channelizer, ChannelizerConfig::droneid):
  * channels M = rate / 15.36 MHz (4 at 61.44 MS/s, 8 at 122.88 MS/s);
  * oversample_rate 2: every channel comes out at 30.72 MS/s like droneid's (with 1 it would
    be 15.36 MS/s, which cannot hold a 9 MHz burst sitting between two channel centres);
  * taps as in gr-filter's examples/filter/channelize.py: firdes.low_pass_2 with a
    Blackman-harris window, here cutoff 15.36 MHz (= R/2, droneid's -6 dB point), transition
    5.3 MHz (droneid's 12.7 -> 18.0 MHz), 80 dB -> 43 taps at 61.44 MS/s, 85 at 122.88 MS/s
    (11 per branch; droneid uses 15, so if anything this favours GNU Radio).
    --ntaps N uses a Kaiser-windowed sinc of exactly N taps instead (e.g. droneid's 15*M).

The graph runs --runs times, each with a fresh top block; every run's wall time of tb.run()
(scheduler start to end of file, not Python start-up or tap design) goes to stderr, the best
one to stdout as `best_s <seconds>`.
"""

import argparse
import math
import os
import sys
import time

try:
    from gnuradio import blocks, filter, gr
    from gnuradio.fft import window
except ImportError:
    sys.stderr.write(
        "gr_channelizer.py: GNU Radio's Python modules are missing; on Debian/Ubuntu:\n"
        "  apt-get install -y --no-install-recommends gnuradio\n"
        "and run this with the system python3 (/usr/bin/python3).\n"
    )
    sys.exit(3)


def kaiser_taps(ntaps, fs, cutoff, atten_db):
    """Unit-DC-gain Kaiser-windowed sinc, cutoff in Hz (what droneid's prototype is)."""
    beta = firdes_kaiser_beta(atten_db)
    w = filter.firdes.window(window.WIN_KAISER, ntaps, beta)
    fc = cutoff / fs
    mid = (ntaps - 1) / 2.0
    h = []
    for i in range(ntaps):
        x = i - mid
        s = 2.0 * fc if x == 0 else math.sin(2.0 * math.pi * fc * x) / (math.pi * x)
        h.append(s * w[i])
    g = sum(h)
    return [v / g for v in h]


def firdes_kaiser_beta(a):
    if a > 50:
        return 0.1102 * (a - 8.7)
    if a >= 21:
        return 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21)
    return 0.0


class Graph(gr.top_block):
    def __init__(self, path, nchans, taps, osr):
        gr.top_block.__init__(self, "pfb channelizer timing")
        self.src = blocks.file_source(gr.sizeof_gr_complex, path, False)
        self.pfb = filter.pfb.channelizer_ccf(nchans, taps, osr)
        self.sinks = [blocks.null_sink(gr.sizeof_gr_complex) for _ in range(nchans)]
        self.connect(self.src, self.pfb)
        for i, s in enumerate(self.sinks):
            self.connect((self.pfb, i), s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", help="cf32 capture (interleaved little-endian float32 I/Q)")
    ap.add_argument("--rate", type=float, required=True, help="sample rate, Hz")
    ap.add_argument("--spacing", type=float, default=15.36e6, help="channel spacing, Hz")
    ap.add_argument("--oversample", type=float, default=2.0, help="oversample_rate (default 2)")
    ap.add_argument("--cutoff", type=float, default=15.36e6, help="prototype cutoff, Hz")
    ap.add_argument("--transition", type=float, default=5.3e6, help="transition width, Hz")
    ap.add_argument("--atten", type=float, default=80.0, help="stopband attenuation, dB")
    ap.add_argument("--ntaps", type=int, default=0, help="Kaiser prototype of exactly N taps")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()

    nchans = int(round(a.rate / a.spacing))
    if nchans < 2 or abs(nchans * a.spacing - a.rate) > 1e-6 * a.rate:
        sys.exit("rate %g is not a multiple >= 2 of the spacing %g" % (a.rate, a.spacing))
    if a.ntaps > 0:
        taps = kaiser_taps(a.ntaps, a.rate, a.cutoff, a.atten + 1.0)
        design = "Kaiser windowed sinc, %d taps" % a.ntaps
    else:
        taps = filter.firdes.low_pass_2(
            1.0, a.rate, a.cutoff, a.transition, a.atten, window.WIN_BLACKMAN_hARRIS
        )
        design = "firdes.low_pass_2 Blackman-harris"
    nsamp = os.path.getsize(a.path) // 8
    sys.stderr.write(
        "GNU Radio %s: %d channels, oversample_rate %g (%.2f MS/s per channel), "
        "%d taps (%s, %.1f per branch), %d samples\n"
        % (gr.version(), nchans, a.oversample, a.rate * a.oversample / nchans / 1e6,
           len(taps), design, len(taps) / nchans, nsamp)
    )
    best = None
    for run in range(a.runs):
        tb = Graph(a.path, nchans, taps, a.oversample)
        t0 = time.perf_counter()
        tb.run()
        dt = time.perf_counter() - t0
        got = tb.sinks[0].nitems_read(0)
        expect = nsamp * a.oversample / nchans
        if abs(got - expect) > 1 + 0.001 * expect:
            sys.exit("channel 0 produced %d samples, expected about %d" % (got, expect))
        sys.stderr.write(
            "  run %d: %.3f s, %.1f MS/s, %d samples per channel\n"
            % (run + 1, dt, nsamp / dt / 1e6, got)
        )
        best = dt if best is None else min(best, dt)
        del tb
    print("taps %d" % len(taps))
    print("best_s %.6f" % best)
    sys.stdout.flush()
    # GNU Radio 3.10's Python bindings can crash while tearing down at interpreter exit;
    # the measurement is printed, so leave without running the finalisers.
    os._exit(0)


if __name__ == "__main__":
    main()
