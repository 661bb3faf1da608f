"""The droneid Python package against the `droneid` binary: same frames on the bundled signals and on
synthesised captures, every accepted dtype, errors with the CLI's messages, the push-driven Receiver
and synth.

The binary is taken from $DRONEID_BIN, else target/release/droneid of this checkout (built by
`cargo build --release -p droneid-cli` or by the workspace tests); it must exist.
"""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import droneid

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIGNALS = ROOT / "signals"
BIN = pathlib.Path(os.environ.get("DRONEID_BIN", ROOT / "target" / "release" / "droneid"))


def cli(*args):
    """Runs the binary; returns (exit status, frames as dicts, stderr)."""
    assert BIN.exists(), f"{BIN} not found: build it with cargo build --release -p droneid-cli"
    p = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True)
    frames = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return p.returncode, frames, p.stderr


def cli_error(*args):
    code, frames, err = cli(*args)
    assert code == 2 and not frames, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("droneid: ")
    return line[len("droneid: "):]


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """3 drones on random channels at 30.72 MS/s, 10 dB, written as raw cf32."""
    samples, truth = droneid.synth(30.72e6, drones=3, random_offsets=True, bursts=2,
                                   interval_ms=15, snr_db=10, seed=7)
    path = tmp_path_factory.mktemp("cap") / "cap.cf32"
    samples.tofile(path)
    return samples, truth, path


@pytest.mark.parametrize("name", ["real-0x11-15m36", "synthetic-kz-8sym-15m36"])
def test_bundled_signals_equal_cli(name):
    meta = SIGNALS / f"{name}.sigmf-meta"
    code, expected, err = cli("decode", meta, "--quiet")
    assert code == 0, err
    got = droneid.decode_file(str(meta))
    assert len(got) == 1
    assert got == expected
    assert droneid.decode_file(meta) == expected  # a pathlib.Path works too


def test_real_signal_fields():
    (f,) = droneid.decode_file(str(SIGNALS / "real-0x11-15m36.sigmf-meta"))
    assert f["serial_number"] == "3NZCHCQ0043XV1"
    assert f["crc24_ok"] and f["crc16_ok"] and f["msg_type"] == 0x11


def test_synthesised_capture_equals_cli_and_truth(capture):
    samples, truth, path = capture
    code, expected, err = cli("decode", path, "--sample-rate", "30.72M", "--quiet")
    assert code == 0, err
    assert len(expected) == len(truth) == 6
    assert droneid.decode(samples, 30.72e6) == expected
    assert droneid.decode_file(str(path), sample_rate=30.72e6) == expected
    assert sorted(f["block_hex"] for f in expected) == sorted(t["block_hex"] for t in truth)
    # Options as the CLI's flags.
    code, expected_c, _ = cli("decode", path, "--sample-rate", "30.72M", "--center-freq",
                              "2.4445G", "--iterations", "4", "--all", "--quiet")
    got = droneid.decode(samples, 30.72e6, 2.4445e9, iterations=4, all=True, decode_threads=1)
    assert got == expected_c
    assert all(abs(f["center_freq_hz"] - 2.4445e9 - f["freq_offset_hz"]) < 1 for f in got)


def test_complex128_and_non_contiguous(capture):
    samples, _, _ = capture
    expected = droneid.decode(samples, 30.72e6)
    assert droneid.decode(samples.astype(np.complex128), 30.72e6) == expected
    doubled = np.repeat(samples, 2)  # a strided view of every other sample is the capture
    view = doubled[::2]
    assert not view.flags["C_CONTIGUOUS"]
    assert droneid.decode(view, 30.72e6) == expected


@pytest.mark.parametrize("dtype,fmt,scale", [(np.int16, "ci16", 2000.0), (np.int8, "ci8", 12.0),
                                             (np.uint8, "cu8", 12.0)])
def test_interleaved_integers_equal_cli(capture, tmp_path, dtype, fmt, scale):
    samples, _, _ = capture
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
    assert len(expected) >= 5, "quantised capture still decodes"
    assert droneid.decode(iq, 30.72e6) == expected
    assert droneid.decode(iq.reshape(-1, 2), 30.72e6) == expected
    assert droneid.decode_file(path, sample_rate=30.72e6, format=fmt) == expected


@pytest.mark.parametrize("bad,needle", [
    (np.zeros((10, 2), np.complex64), "1-D array of shape (N,), got shape (10, 2)"),
    (np.zeros(11, np.int16), "even length"),
    (np.zeros((10, 3), np.int16), "shape (10, 3)"),
    (np.zeros(10, np.float32), "unsupported sample dtype float32"),
    ([1 + 1j, 2 + 2j], "must be a numpy array"),
])
def test_wrong_shapes_and_dtypes_raise_value_error(bad, needle):
    with pytest.raises(ValueError) as e:
        droneid.decode(bad, 15.36e6)
    assert needle in str(e.value)
    with pytest.raises(ValueError):
        droneid.Receiver(15.36e6).push(bad)


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
    with pytest.raises(ValueError) as e:
        droneid.decode_file(str(raw))
    assert str(e.value) == cli_error("decode", raw)
    with pytest.raises(ValueError) as e:
        droneid.decode_file(str(raw), sample_rate=10e6)
    assert str(e.value) == cli_error("decode", raw, "--sample-rate", "10M")
    with pytest.raises(ValueError) as e:
        droneid.decode_file(str(raw), sample_rate=15.36e6, format="cs32")
    assert str(e.value) == cli_error("decode", raw, "--sample-rate", "15.36M", "--format", "cs32")
    with pytest.raises(ValueError):
        droneid.decode(np.zeros(10, np.complex64), float("nan"))
    with pytest.raises(ValueError):
        droneid.decode(np.zeros(10, np.complex64), 15.36e6, iterations=0)
    # Empty input: nothing found, no error (as the CLI on an empty file).
    assert droneid.decode(np.zeros(0, np.complex64), 15.36e6) == []


def test_receiver_in_odd_blocks_gives_the_same_frames(capture):
    samples, _, _ = capture
    expected = droneid.decode(samples, 30.72e6)
    rx = droneid.Receiver(30.72e6)
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


def test_synth_equals_cli_synth(tmp_path):
    base = tmp_path / "s"
    code, _, err = cli("synth", "--output", base, "--sample-rate", "61.44M", "--bursts", "2",
                       "--interval-ms", "5", "--snr-db", "3", "--freq-offset-hz=-7e6", "--seed", "5")
    assert code == 0, err
    samples, truth = droneid.synth(61.44e6, bursts=2, interval_ms=5, snr_db=3,
                                   freq_offset_hz=-7e6, seed=5)
    assert samples.dtype == np.complex64
    assert np.array_equal(samples, np.fromfile(f"{base}.sigmf-data", dtype=np.complex64))
    with open(f"{base}.truth.jsonl") as f:
        assert truth == [json.loads(line) for line in f]
    # Round trip: every synthesised burst decodes to its transmitted block.
    got = droneid.decode(samples, 61.44e6)
    assert [f["block_hex"] for f in got] == [t["block_hex"] for t in truth]
    with pytest.raises(ValueError) as e:
        droneid.synth(10e6)
    assert "sample_rate" in str(e.value)


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
