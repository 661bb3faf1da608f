"""The droneid Python package against the `droneid` binary: same frames on the bundled signals and on
synthesised captures, every accepted dtype, errors with the CLI's messages, the push-driven Receiver
and synth.

The binary is taken from $DRONEID_BIN, else target/release/droneid of this checkout (built by
`cargo build --release -p droneid-cli` or by the workspace tests); it must exist.
"""

import json
import os
import pathlib
import re
import subprocess
import threading
import warnings

import numpy as np
import pytest

import droneid

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIGNALS = ROOT / "signals"
BIN = pathlib.Path(os.environ.get("DRONEID_BIN", ROOT / "target" / "release" / "droneid"))
BUNDLED = sorted(SIGNALS.glob("*.sigmf-meta"))
FS = 30.72e6


def cli(*args):
    """Runs the binary; returns (exit status, frames as dicts, stderr)."""
    assert BIN.exists(), f"{BIN} not found: build it with cargo build --release -p droneid-cli"
    p = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True)
    frames = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return p.returncode, frames, p.stderr


def cli_error(*args):
    """The one-line message of a refused command (exit 2, nothing on stdout)."""
    code, frames, err = cli(*args)
    assert code == 2 and not frames, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("droneid: ")
    return line[len("droneid: "):]


def min_gap_ms(truth, fs):
    starts = sorted(t["start_sample"] for t in truth)
    return min(b - a for a, b in zip(starts, starts[1:])) / fs * 1e3


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """3 drones on random channels at 30.72 MS/s, 10 dB, written as raw cf32. Seed 2 leaves
    every burst at least 1 ms from every other (no collisions), so all 6 must decode."""
    samples, truth = droneid.synth(FS, drones=3, random_offsets=True, bursts=2,
                                   interval_ms=15, snr_db=10, seed=2)
    assert len(truth) == 6 and min_gap_ms(truth, FS) > 1.0
    assert len({t["drone"] for t in truth}) == 3
    path = tmp_path_factory.mktemp("cap") / "cap.cf32"
    samples.tofile(path)
    return samples, truth, path


def test_bundled_signals_are_there():
    assert len(BUNDLED) >= 2, BUNDLED


@pytest.mark.parametrize("meta", BUNDLED, ids=lambda p: p.stem)
def test_bundled_signals_equal_cli(meta):
    code, expected, err = cli("decode", meta, "--quiet")
    assert code == 0, err
    assert len(expected) >= 1
    assert droneid.decode_file(str(meta)) == expected
    assert droneid.decode_file(meta) == expected  # a pathlib.Path works too


def test_real_signal_fields():
    (f,) = droneid.decode_file(str(SIGNALS / "real-0x11-15m36.sigmf-meta"))
    assert f["serial_number"] == "3NZCHCQ0043XV1"
    assert f["crc24_ok"] and f["crc16_ok"] and f["msg_type"] == 0x11


def test_real_signal_as_a_complex128_array_equals_cli():
    meta = json.loads((SIGNALS / "real-0x11-15m36.sigmf-meta").read_text())
    assert meta["global"]["core:datatype"] == "cf64_le"
    rate = meta["global"]["core:sample_rate"]
    center = meta["captures"][0].get("core:frequency")
    samples = np.fromfile(SIGNALS / "real-0x11-15m36.cf64", dtype=np.complex128)
    raw = SIGNALS / "real-0x11-15m36.cf64"
    args = ["decode", raw, "--format", "cf64", "--sample-rate", rate, "--quiet"]
    if center is not None:
        args += ["--center-freq", center]
    code, expected, err = cli(*args)
    assert code == 0, err
    assert len(expected) == 1
    assert droneid.decode(samples, rate, center) == expected


def test_synthesised_capture_equals_cli_and_truth(capture):
    samples, truth, path = capture
    code, expected, err = cli("decode", path, "--sample-rate", "30.72M", "--quiet")
    assert code == 0, err
    assert len(expected) == len(truth) == 6
    assert droneid.decode(samples, FS) == expected
    assert droneid.decode_file(str(path), sample_rate=FS) == expected
    # Every transmitted block, in time order, each from its drone's channel.
    assert [f["block_hex"] for f in expected] == [t["block_hex"] for t in truth]
    for f, t in zip(expected, truth):
        assert abs(f["start_sample"] - t["start_sample"]) <= 3
        assert abs(f["freq_offset_hz"] - t["freq_offset_hz"]) < 2e3
        assert f["serial_number"] == t["serial_number"]
    # Options as the CLI's flags.
    code, expected_c, _ = cli("decode", path, "--sample-rate", "30.72M", "--center-freq",
                              "2.4445G", "--iterations", "4", "--all", "--quiet")
    got = droneid.decode(samples, FS, 2.4445e9, iterations=4, all=True, decode_threads=1)
    assert got == expected_c
    assert len(got) >= 6
    assert all(abs(f["center_freq_hz"] - 2.4445e9 - f["freq_offset_hz"]) < 1 for f in got)


def test_complex128_and_non_contiguous(capture):
    samples, _, _ = capture
    expected = droneid.decode(samples, FS)
    assert len(expected) == 6
    assert droneid.decode(samples.astype(np.complex128), FS) == expected
    doubled = np.repeat(samples, 2)  # a strided view of every other sample is the capture
    view = doubled[::2]
    assert not view.flags["C_CONTIGUOUS"]
    assert droneid.decode(view, FS) == expected
    assert droneid.decode(view.astype(np.complex128), FS) == expected
    # A read-only array is fine (nothing is written to it).
    ro = samples.copy()
    ro.flags.writeable = False
    assert droneid.decode(ro, FS) == expected


@pytest.mark.parametrize("dtype,fmt,scale", [(np.int16, "ci16", 2000.0), (np.int8, "ci8", 12.0),
                                             (np.uint8, "cu8", 12.0)])
def test_interleaved_integers_equal_cli(capture, tmp_path, dtype, fmt, scale):
    samples, truth, _ = capture
    iq = np.empty(2 * len(samples), dtype=np.float64)
    iq[0::2], iq[1::2] = samples.real, samples.imag
    iq = np.round(iq * scale)
    if dtype == np.uint8:
        iq = iq + 127.5
    info = np.iinfo(dtype)
    iq = np.clip(iq, info.min, info.max).astype(dtype)
    path = tmp_path / f"cap.{fmt}"
    iq.tofile(path)
    code, expected, err = cli("decode", path, "--format", fmt, "--sample-rate", "30.72M", "--quiet")
    assert code == 0, err
    assert len(expected) == len(truth), "the quantised capture still decodes every burst"
    assert droneid.decode(iq, FS) == expected
    assert droneid.decode(iq.reshape(-1, 2), FS) == expected
    assert droneid.decode(iq.reshape(-1, 2)[:, ::-1][:, ::-1], FS) == expected  # not contiguous
    assert droneid.decode_file(path, sample_rate=FS, format=fmt) == expected
    rx = droneid.Receiver(FS)
    assert rx.push(iq) + rx.flush() == expected


@pytest.mark.parametrize("bad,needle", [
    (np.zeros((10, 2), np.complex64), "1-D array of shape (N,), got shape (10, 2)"),
    (np.zeros((10, 1), np.complex128), "1-D array of shape (N,), got shape (10, 1)"),
    (np.zeros(11, np.int16), "1-D of even length (I0, Q0, I1, Q1, ...) or of shape (N, 2), got shape (11,)"),
    (np.zeros((10, 3), np.int8), "interleaved ci8 I/Q samples must be 1-D of even length"),
    (np.zeros((2, 5, 2), np.uint8), "got shape (2, 5, 2)"),
    (np.zeros(10, np.float32), "unsupported sample dtype float32: use complex64, complex128, or interleaved I/Q as int16, int8 or uint8"),
    (np.zeros(10, np.float64), "unsupported sample dtype float64"),
    (np.zeros(10, np.int32), "unsupported sample dtype int32"),
    (np.zeros(10, ">c8"), "unsupported sample dtype >c8"),
    ([1 + 1j, 2 + 2j], "samples must be a numpy array (complex64, complex128, or interleaved int16/int8/uint8), got list"),
])
def test_wrong_shapes_and_dtypes_raise_value_error(bad, needle):
    with pytest.raises(ValueError) as e:
        droneid.decode(bad, 15.36e6)
    assert needle in str(e.value)
    with pytest.raises(ValueError) as e:
        droneid.Receiver(15.36e6).push(bad)
    assert needle in str(e.value)


def test_errors_carry_the_cli_messages(tmp_path):
    missing = tmp_path / "nope.sigmf-meta"
    with pytest.raises(FileNotFoundError) as e:
        droneid.decode_file(str(missing))
    assert str(e.value) == cli_error("decode", missing)
    with pytest.raises(IsADirectoryError) as e:
        droneid.decode_file(str(tmp_path), sample_rate=15.36e6)
    assert str(e.value) == cli_error("decode", tmp_path, "--sample-rate", "15.36M")
    raw = tmp_path / "x.cf32"
    np.zeros(1000, np.complex64).tofile(raw)
    with pytest.raises(ValueError) as e:  # raw input without a rate
        droneid.decode_file(str(raw))
    assert str(e.value) == cli_error("decode", raw)
    with pytest.raises(ValueError) as e:  # below 4 MS/s
        droneid.decode_file(str(raw), sample_rate=3e6)
    assert str(e.value) == cli_error("decode", raw, "--sample-rate", "3M")
    with pytest.raises(ValueError) as e:
        droneid.decode_file(str(raw), sample_rate=15.36e6, format="cs32")
    assert str(e.value) == cli_error("decode", raw, "--sample-rate", "15.36M", "--format", "cs32")
    fast = tmp_path / "fast.sigmf-meta"  # above 10 GS/s (the CLI's flag parser words it its own way)
    fast.write_text(json.dumps({"global": {"core:datatype": "cf32_le", "core:sample_rate": 20e9,
                                           "core:version": "1.0.0"}, "captures": [], "annotations": []}))
    (tmp_path / "fast.sigmf-data").write_bytes(b"")
    with pytest.raises(ValueError) as e:
        droneid.decode_file(fast)
    assert str(e.value) == cli_error("decode", fast)
    assert "above 10 GS/s" in str(e.value)
    bad_meta = tmp_path / "bad.sigmf-meta"
    bad_meta.write_text("{ not json")
    (tmp_path / "bad.sigmf-data").write_bytes(b"")
    with pytest.raises(ValueError) as e:
        droneid.decode_file(bad_meta)
    assert str(e.value) == cli_error("decode", bad_meta)
    # The same checks on arrays, the message naming 'samples' where the CLI names the file.
    with pytest.raises(ValueError) as e:
        droneid.decode(np.zeros(10, np.complex64), 3e6)
    assert str(e.value) == cli_error("decode", raw, "--sample-rate", "3M").replace(str(raw), "samples")
    with pytest.raises(ValueError):
        droneid.decode(np.zeros(10, np.complex64), float("nan"))
    with pytest.raises(ValueError) as e:
        droneid.decode(np.zeros(10, np.complex64), 15.36e6, iterations=0)
    assert "iterations: 0 is not in 1..=16" in str(e.value)
    with pytest.raises(ValueError) as e:
        droneid.Receiver(3e6)
    assert "below 4 MS/s" in str(e.value)
    # Empty input: nothing found, no error (as the CLI on an empty file).
    assert droneid.decode(np.zeros(0, np.complex64), 15.36e6) == []
    empty = tmp_path / "empty.cf32"
    empty.write_bytes(b"")
    assert cli("decode", empty, "--sample-rate", "15.36M", "--quiet")[:2] == (0, [])
    assert droneid.decode_file(empty, sample_rate=15.36e6) == []


def test_nan_samples_are_erasures_with_the_cli_warning(capture, tmp_path):
    samples, truth, _ = capture
    x = samples.copy()
    x[100:150] = np.nan  # noise before the first burst
    x[200] = complex(np.inf, 0)
    path = tmp_path / "nan.cf32"
    x.tofile(path)
    code, expected, err = cli("decode", path, "--sample-rate", "30.72M")
    assert code == 0, err
    assert "warning: 51 NaN/Inf samples treated as erasures" in err
    with pytest.warns(UserWarning, match="warning: 51 NaN/Inf samples treated as erasures"):
        got = droneid.decode(x, FS)
    assert got == expected and len(got) == len(truth)
    with pytest.warns(UserWarning, match="warning: 51 NaN/Inf samples treated as erasures"):
        assert droneid.decode_file(path, sample_rate=FS) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert droneid.decode(samples, FS) == droneid.decode(samples, FS)  # no warning when clean
    rx = droneid.Receiver(FS)
    assert rx.push(x) + rx.flush() == expected


def test_multi_segment_sigmf_frequency_and_time_per_segment(tmp_path):
    """A retune halfway: each frame takes the centre and UTC time of its own capture segment."""
    base = tmp_path / "scan"
    code, _, err = cli("synth", "--output", base, "--sample-rate", "15.36M", "--bursts", "4",
                       "--interval-ms", "20", "--snr-db", "10", "--freq-offset-hz", "1M",
                       "--center-freq", "2414.5M", "--seed", "3")
    assert code == 0, err
    meta_path = pathlib.Path(f"{base}.sigmf-meta")
    meta = json.loads(meta_path.read_text())
    n = (tmp_path / "scan.sigmf-data").stat().st_size // 8
    half = n // 2
    meta["captures"] = [
        {"core:sample_start": 0, "core:frequency": 2414.5e6,
         "core:datetime": "2024-05-01T12:00:00Z"},
        {"core:sample_start": half, "core:frequency": 2444.5e6,
         "core:datetime": "2024-05-01T12:00:05Z"},
    ]
    meta_path.write_text(json.dumps(meta))
    code, expected, err = cli("decode", meta_path, "--quiet")
    assert code == 0, err
    got = droneid.decode_file(meta_path)
    assert got == expected
    assert len(got) >= 3
    first = [f for f in got if f["start_sample"] < half]
    second = [f for f in got if f["start_sample"] >= half]
    assert first and second
    assert all(abs(f["center_freq_hz"] - 2415.5e6) < 5e3 for f in first)
    assert all(abs(f["center_freq_hz"] - 2445.5e6) < 5e3 for f in second)
    assert all(f["utc"].startswith("2024-05-01T12:00:0") for f in got)
    assert all(f["utc"] >= "2024-05-01T12:00:05" for f in second)


def test_receiver_in_odd_blocks_gives_the_same_frames(capture):
    samples, truth, _ = capture
    expected = droneid.decode(samples, FS)
    assert len(expected) == len(truth)
    rx = droneid.Receiver(FS)
    got, pos, sizes = [], 0, [1, 4095, 77777, 3, 123457, 65536]
    i = 0
    while pos < len(samples):
        n = sizes[i % len(sizes)]
        got += rx.push(samples[pos:pos + n])
        pos += n
        i += 1
    got += rx.flush()
    assert got == expected
    assert rx.stats["samples"] == len(samples)
    assert rx.stats["crc24_ok"] == len(expected)
    assert rx.flush() == []
    with pytest.raises(RuntimeError):
        rx.push(samples[:10])
    # Frames come out while pushing, not only at flush(): the bursts of the first half at least.
    rx = droneid.Receiver(FS)
    early = [f for i in range(0, len(samples), 65536) for f in rx.push(samples[i:i + 65536])]
    assert len(early) >= 3 and early == expected[:len(early)]
    assert early + rx.flush() == expected
    # Options as decode's.
    rx = droneid.Receiver(FS, 2.4445e9, all=True, iterations=4)
    assert rx.push(samples) + rx.flush() == droneid.decode(samples, FS, 2.4445e9, all=True,
                                                           iterations=4)


def test_gil_is_released_while_decoding(capture):
    samples, _, _ = capture
    big = np.tile(samples, 4)
    done = threading.Event()
    result = []

    def work():
        result.append(droneid.decode(big, FS, decode_threads=1))
        done.set()

    t = threading.Thread(target=work)
    ticks = 0
    t.start()
    while not done.is_set():
        ticks += 1  # only runs while the decoding thread does not hold the GIL
        done.wait(0.001)
    t.join()
    assert len(result[0]) == 24
    assert ticks >= 10


SYNTH_CASES = [
    # (CLI flags, the same as keywords)
    (["--sample-rate", "61.44M", "--bursts", "2", "--interval-ms", "5", "--snr-db", "3",
      "--freq-offset-hz=-7e6", "--seed", "5"],
     dict(sample_rate=61.44e6, bursts=2, interval_ms=5, snr_db=3, freq_offset_hz=-7e6, seed=5)),
    (["--sample-rate", "30.72M", "--drones", "3", "--random-offsets", "--bursts", "2",
      "--interval-ms", "15", "--snr-db", "10", "--seed", "2", "--center-freq", "2.4445G",
      "--symbols", "8", "--cp-schedule", "rub", "--ppm", "20", "--multipath", "0:0,0.8:-6:90",
      "--cfo-hz", "1.5k", "--identity-every", "2", "--zero-phase"],
     dict(sample_rate="30.72M", drones=3, random_offsets=True, bursts=2, interval_ms=15,
          snr_db=10, seed=2, center_freq=2.4445e9, symbols=8, cp_schedule="rub", ppm=20,
          multipath="0:0,0.8:-6:90", cfo_hz="1.5k", identity_every=2, zero_phase=True)),
    (["--sample-rate", "20M", "--snr-db", "5", "--bursts", "2", "--interval-ms", "3",
      "--format", "ci8", "--dc-db", "10", "--dc-drift-hz", "300", "--tone", "1.2M:20",
      "--tone", "-3M:10", "--hopper-db", "20", "--hopper-channels-mhz=-1,0,1",
      "--freq-offset-hz", "1M", "--iq-swap"],
     dict(sample_rate=20e6, snr_db=5, bursts=2, interval_ms=3, format="ci8", dc_db=10,
          dc_drift_hz=300, tones=["1.2M:20", (-3e6, 10)], hopper_db=20,
          hopper_channels_mhz=[-1, 0, 1], freq_offset_hz="1M", iq_swap=True)),
    (["--sample-rate", "30.72M", "--snr-db", "8", "--bursts", "2", "--interval-ms", "4",
      "--wifi-db", "20", "--wifi-overlap-hz", "1.5M", "--wifi-on-ms", "1", "--wifi-period-ms", "3",
      "--pair-delay-us", "700", "--clip-db", "40", "--duration-s", "0.012"],
     dict(sample_rate=30.72e6, snr_db=8, bursts=2, interval_ms=4, wifi_db=20,
          wifi_overlap_hz=1.5e6, wifi_on_ms=1, wifi_period_ms=3, pair_delay_us=700, clip_db=40,
          duration_s=0.012)),
    (["--sample-rate", "5M", "--snr-db", "3", "--bursts", "2", "--interval-ms", "5",
      "--lead-in-ms", "2", "--tail-ms", "3", "--jitter-ms", "0.5"],
     dict(sample_rate=5e6, snr_db=3, bursts=2, interval_ms=5, lead_in_ms=2, tail_ms=3,
          jitter_ms=0.5)),
]


@pytest.mark.parametrize("flags,kwargs", SYNTH_CASES, ids=range(len(SYNTH_CASES)))
def test_synth_equals_cli_synth(tmp_path, flags, kwargs):
    base = tmp_path / "s"
    code, _, err = cli("synth", "--output", base, *flags)
    assert code == 0, err
    samples, truth = droneid.synth(**kwargs)
    meta = json.loads(pathlib.Path(f"{base}.sigmf-meta").read_text())
    if kwargs.get("format") == "ci8":
        assert meta["global"]["core:datatype"] == "ci8"
        assert samples.dtype == np.int8 and samples.shape[1] == 2
        written = np.fromfile(f"{base}.sigmf-data", dtype=np.int8).reshape(-1, 2)
    else:
        assert samples.dtype == np.complex64 and samples.ndim == 1
        written = np.fromfile(f"{base}.sigmf-data", dtype=np.complex64)
    assert np.array_equal(samples, written)
    with open(f"{base}.truth.jsonl") as f:
        assert truth == [json.loads(line) for line in f]
    assert len(truth) >= 2


def test_synth_round_trip_and_records(tmp_path):
    samples, truth = droneid.synth(61.44e6, bursts=2, interval_ms=5, snr_db=3,
                                   freq_offset_hz=-7e6, seed=5)
    got = droneid.decode(samples, 61.44e6)
    assert [f["block_hex"] for f in got] == [t["block_hex"] for t in truth]
    # --record: a RecordSpec as JSON text or as a dict, the same as the CLI's file.
    spec = [{"type": "cryp", "session_id": "1a2b3c4d"}, {"type": "infp", "session_id": "1a2b3c4d"}]
    rec = tmp_path / "rec.json"
    rec.write_text(json.dumps(spec))
    base = tmp_path / "r"
    code, _, err = cli("synth", "--output", base, "--bursts", "2", "--interval-ms", "3",
                       "--snr-db", "10", "--record", rec)
    assert code == 0, err
    for record in (spec, json.dumps(spec)):
        s, t = droneid.synth(bursts=2, interval_ms=3, snr_db=10, record=record)
        assert np.array_equal(s, np.fromfile(f"{base}.sigmf-data", dtype=np.complex64))
        with open(f"{base}.truth.jsonl") as f:
            assert t == [json.loads(line) for line in f]
    frames = droneid.decode(s, 15.36e6)
    assert [f["packet_marker"] for f in frames] == ["CRYP", "INFP"]
    assert all(f["encrypted"] and "drone_lat_deg" not in f for f in frames)


SYNTH_KEYWORDS = {"sample_rate", "cp_schedule", "snr_db", "cfo_hz", "freq_offset_hz",
                  "random_offsets", "interval_ms", "jitter_ms", "duration_s", "lead_in_ms",
                  "tail_ms", "center_freq", "identity_every", "zero_phase", "clip_db", "dc_db",
                  "dc_drift_hz", "hopper_db", "hopper_channels_mhz", "wifi_db", "wifi_center_hz",
                  "wifi_overlap_hz", "wifi_on_ms", "wifi_period_ms", "iq_swap", "pair_delay_us",
                  "pair_offset_hz"}


def as_cli_message(msg):
    """A synth keyword error as `droneid synth` words it: each keyword named as its flag."""
    head, rest = msg.split(": ", 1)
    flag = lambda k: "--" + {"tones": "tone"}.get(k, k).replace("_", "-")
    head = "/".join(flag(k) for k in head.split("/"))
    rest = re.sub(r"\b[a-z]+(?:_[a-z0-9]+)+\b",
                  lambda m: flag(m.group(0)) if m.group(0) in SYNTH_KEYWORDS else m.group(0), rest)
    return f"{head}: {rest}"


@pytest.mark.parametrize("flags,kwargs", [
    (["--sample-rate", "3M"], dict(sample_rate=3e6)),
    (["--sample-rate", "fast"], dict(sample_rate="fast")),
    (["--symbols", "7"], dict(symbols=7)),
    (["--drones", "0"], dict(drones=0)),
    (["--bursts", "20000000"], dict(bursts=20_000_000)),
    (["--interval-ms=-1"], dict(interval_ms=-1)),
    (["--duration-s", "0"], dict(duration_s=0)),
    (["--snr-db", "300"], dict(snr_db=300)),
    (["--center-freq", "x"], dict(center_freq="x")),
    (["--random-offsets", "--freq-offset-hz", "1M"], dict(random_offsets=True, freq_offset_hz=1e6)),
    (["--freq-offset-hz", "30M"], dict(freq_offset_hz=30e6)),
    (["--ppm", "2000"], dict(ppm=2000)),
    (["--multipath", "0:0,2000:-6"], dict(multipath="0:0,2000:-6")),
    (["--multipath", "0"], dict(multipath="0")),
    (["--tone", "1M"], dict(tones=["1M"])),
    (["--tone", "1M:x"], dict(tones=["1M:x"])),
    (["--dc-db", "500"], dict(dc_db=500)),
    (["--clip-db", "-50"], dict(clip_db=-50)),
    (["--hopper-db", "10", "--hopper-channels-mhz", "1,x"], dict(hopper_db=10, hopper_channels_mhz="1,x")),
    (["--wifi-db", "10"], dict(wifi_db=10)),
    (["--wifi-db", "10", "--random-offsets", "--drones", "2", "--wifi-overlap-hz", "1M"],
     dict(wifi_db=10, random_offsets=True, drones=2, wifi_overlap_hz=1e6)),
    (["--pair-delay-us=-5"], dict(pair_delay_us=-5)),
])
def test_synth_errors_are_the_cli_messages(tmp_path, flags, kwargs):
    """The same message as `droneid synth`, naming the keyword where the CLI names the flag."""
    line = cli_error("synth", "--output", tmp_path / "x", *flags)
    with pytest.raises(ValueError) as e:
        droneid.synth(**kwargs)
    assert as_cli_message(str(e.value)) == line


def test_synth_keyword_errors():
    for kwargs, needle in [(dict(format="cu8"), "format: 'cu8' is not cf32 or ci8"),
                           (dict(cp_schedule="xx", symbols=8), "cp_schedule: 'xx' is not kz or rub"),
                           (dict(dc_drift_hz=5), "dc_drift_hz: needs dc_db"),
                           (dict(record={"type": "nope"}), "record: "),
                           (dict(duration_s=0), "duration_s: 0")]:
        with pytest.raises(ValueError) as e:
            droneid.synth(**kwargs)
        assert needle in str(e.value)


def test_extracted_bursts_decode_to_the_same_frames(tmp_path):
    samples, truth = droneid.synth(61.44e6, drones=2, random_offsets=True, bursts=2,
                                   interval_ms=10, snr_db=8, seed=21)
    raw = tmp_path / "wide.cf32"
    samples.tofile(raw)
    original = droneid.decode(samples, 61.44e6)
    assert len(original) == 4
    out = tmp_path / "bursts"
    out.mkdir()
    p = subprocess.run([str(BIN), "extract", str(raw), "--sample-rate", "61.44M", "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    metas = p.stdout.split()
    assert len(metas) == 4
    got = [droneid.decode_file(m) for m in metas]
    assert all(len(g) == 1 for g in got)
    assert sorted(g[0]["block_hex"] for g in got) == sorted(f["block_hex"] for f in original)
    assert all(abs(g[0]["freq_offset_hz"]) < 5e3 for g in got)
    for m, g in zip(metas, got):
        code, expected, err = cli("decode", m, "--quiet")
        assert code == 0 and expected == g, err
