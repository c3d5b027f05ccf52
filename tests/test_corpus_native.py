"""Every native (uncompressed / deflated) file of the conformance corpus against its manifest.

For each entry: decode all frames, reshape to the manifest's shape (it drops singleton
frame / sample axes, as pydicom does), check the dtype and the SHA-256 of the
little-endian C-order values: ``sha256`` for the default output (YBR_FULL converted to
RGB) and ``sha256_raw`` for ``as_rgb=False``. Frames read one at a time must equal the
stack. Entries with ``expect: "error"`` must raise a DicomFramesError (a test of their own).
"""

from __future__ import annotations

import numpy as np
import pytest

import dicomframes

from conftest import assert_decoding_fails, manifest_sha256


def _check(array: np.ndarray, expected: dict, key: str, name: str) -> None:
    dtype = np.dtype(expected["dtype"])
    assert array.dtype == dtype, f"{name}: dtype {array.dtype}, expected {dtype}"
    assert array.size == int(np.prod(expected["shape"])), (
        f"{name}: {array.shape} cannot be {tuple(expected['shape'])}")
    shaped = array.reshape(expected["shape"])
    assert manifest_sha256(shaped) == expected[key], (
        f"{name}: {key} mismatch; probes: "
        + ", ".join(f"{tuple(i)}={shaped[tuple(i)]!r} (want {v!r})"
                    for i, v in expected.get("probes", [])[:4]))


@pytest.mark.corpus("native", expect="error")
def test_native_file_raises(corpus_entry, corpus_dir):
    """A file malformed on purpose: opening or decoding raises a DicomFramesError."""
    assert_decoding_fails(corpus_dir / corpus_entry["file"])


@pytest.mark.corpus("native", expect="pixels")
def test_native_file(corpus_entry, corpus_dir):
    entry = corpus_entry
    path = corpus_dir / entry["file"]
    expected = entry["expected"]
    with dicomframes.open(path) as f:
        assert f.transfer_syntax_uid == entry["transfer_syntax_uid"]
        assert len(f) == entry["frames"]
        stack = f.frames()
        assert stack.shape == (entry["frames"], *f.frame_shape)
        assert stack.dtype == f.dtype
        _check(stack, expected, "sha256", entry["file"])

        raw = f.frames(as_rgb=False)
        _check(raw, expected, "sha256_raw", entry["file"])
        if not expected.get("raw_differs_from_default", False):
            np.testing.assert_array_equal(raw, stack)

        for k in range(len(f)):
            frame = f[k]
            assert frame.shape == f.frame_shape
            np.testing.assert_array_equal(frame, stack[k], err_msg=f"frame {k}")
            np.testing.assert_array_equal(f.frame(k, as_rgb=False), raw[k])
            np.testing.assert_array_equal(f[k - len(f)], stack[k])
        np.testing.assert_array_equal(np.stack(list(f)), stack)


@pytest.mark.corpus("native", expect="pixels")
def test_native_probes(corpus_entry, corpus_dir):
    """The manifest's probe pixels, read through single-frame access (a readable
    message when a hash does not match)."""
    entry = corpus_entry
    expected = entry["expected"]
    with dicomframes.open(corpus_dir / entry["file"]) as f:
        for index, value in expected["probes"]:
            if entry["frames"] > 1:
                k, rest = index[0], tuple(index[1:])
            else:
                k, rest = 0, tuple(index)
            assert f[k][rest] == value, f"pixel {tuple(index)}"


@pytest.mark.corpus("native", expect="pixels")
def test_native_frames_from_bytes(corpus_entry, corpus_dir):
    """Opening the bytes instead of the path gives the same frames."""
    entry = corpus_entry
    data = (corpus_dir / entry["file"]).read_bytes()
    with dicomframes.open(data) as f:
        _check(f.frames(), entry["expected"], "sha256", entry["file"])
