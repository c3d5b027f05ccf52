"""Every encapsulated file of the conformance corpus (RLE, JPEG-LS, JPEG 2000, HTJ2K) through
the file API, against its manifest.

For each entry: ``f.frames()`` reshaped to the manifest's shape has the manifest's SHA-256
(lossy JPEG 2000 too: we decode with OpenJPEG like the reference; should that ever differ,
the entry's ``reference/<file>.npz`` is accepted within its ``tolerance``); ``f[k]`` equals
the stack; ``encoded_frame(k)`` is a zero-copy memoryview of the file when frame k is one
fragment and a gathered ``bytes`` object when it spans several; and
``decode_frame(f.encoded_frame(k), uid, **attributes)`` gives ``f[k]`` again.
Entries with ``expect: "error"`` must raise a DicomFramesError (a test of their own).
"""

from __future__ import annotations

import numpy as np
import pytest

import dicomframes
from dicomframes import decode_frame

from conftest import assert_decoding_fails, manifest_sha256


def frame_attributes(entry: dict) -> dict:
    """The keyword arguments of decode_frame, from the manifest entry."""
    return {
        "rows": entry["rows"],
        "columns": entry["columns"],
        "samples_per_pixel": entry["samples_per_pixel"],
        "bits_allocated": entry["bits_allocated"],
        "bits_stored": entry["bits_stored"],
        "pixel_representation": entry["pixel_representation"],
        "photometric_interpretation": entry["photometric_interpretation"],
        "planar_configuration": entry["planar_configuration"] or 0,
    }


def check_against_manifest(stack: np.ndarray, entry: dict, corpus_dir) -> None:
    expected = entry["expected"]
    name = entry["file"]
    assert stack.dtype == np.dtype(expected["dtype"]), f"{name}: dtype {stack.dtype}"
    assert stack.size == int(np.prod(expected["shape"])), (
        f"{name}: {stack.shape} cannot be {tuple(expected['shape'])}")
    shaped = stack.reshape(expected["shape"])
    if manifest_sha256(shaped) == expected["sha256"]:
        return
    tolerance = entry.get("tolerance", 0)
    reference = entry.get("reference_array")
    probes = ", ".join(f"{tuple(i)}={shaped[tuple(i)]!r} (want {v!r})"
                       for i, v in expected["probes"][:4])
    if not tolerance or not reference:
        pytest.fail(f"{name}: sha256 mismatch; probes: {probes}")
    # Lossy JPEG 2000 decoded by something other than the reference's OpenJPEG build.
    with np.load(corpus_dir / reference) as npz:
        ref = npz["default"]
    assert ref.shape == shaped.shape
    diff = np.abs(shaped.astype(np.int64) - ref.astype(np.int64)).max()
    assert diff <= tolerance, f"{name}: differs from the reference by {diff} > {tolerance}"


@pytest.mark.corpus("compressed", expect="error")
def test_compressed_file_raises(corpus_entry, corpus_dir):
    """A file malformed on purpose: opening or decoding raises a DicomFramesError."""
    assert_decoding_fails(corpus_dir / corpus_entry["file"])


@pytest.mark.corpus("compressed", expect="pixels")
def test_compressed_file(corpus_entry, corpus_dir):
    entry = corpus_entry
    path = corpus_dir / entry["file"]
    uid = entry["transfer_syntax_uid"]
    with dicomframes.open(path) as f:
        assert f.transfer_syntax_uid == uid
        assert len(f) == entry["frames"]
        stack = f.frames()
        assert stack.shape == (entry["frames"], *f.frame_shape)
        check_against_manifest(stack, entry, corpus_dir)

        attributes = frame_attributes(entry)
        for k in range(len(f)):
            frame = f[k]
            assert frame.shape == f.frame_shape and frame.dtype == f.dtype
            np.testing.assert_array_equal(frame, stack[k], err_msg=f"frame {k}")
            encoded = f.encoded_frame(k)
            decoded = decode_frame(encoded, uid, **attributes)
            assert decoded.dtype == f.dtype
            np.testing.assert_array_equal(decoded, frame, err_msg=f"decode_frame, frame {k}")


def fragments_of(f) -> dict[int, int]:
    """Offset -> length of each Pixel Data fragment value (offset table item excluded)."""
    el = f.elements
    pixel = f.dataset.element_index(0x7FE00010)
    items = el[(el["parent"] == pixel) & (el["tag"] == 0xFFFEE000)][1:]
    return {int(o): int(n) for o, n in zip(items["offset"], items["length"])}


def address(buffer) -> int:
    return np.frombuffer(buffer, np.uint8).__array_interface__["data"][0]


@pytest.mark.corpus("compressed", expect="pixels")
def test_encoded_frame_is_zero_copy_for_single_fragments(corpus_entry, corpus_dir):
    """A frame in one fragment: a read-only memoryview of the very bytes the file was opened
    from, exactly that fragment's value (no copy). Over several fragments: their values
    joined, as bytes."""
    entry = corpus_entry
    data = (corpus_dir / entry["file"]).read_bytes()
    with dicomframes.open(data) as f:
        fragments = fragments_of(f)
        assert len(fragments) == entry["fragments"]
        values = list(fragments)
        one_each = entry["fragments"] == entry["frames"]
        for k in range(len(f)):
            encoded = f.encoded_frame(k)
            if isinstance(encoded, memoryview):
                assert encoded.readonly
                assert encoded.obj is data, "the frame's bytes were copied"
                start = address(encoded) - address(data)
                assert start in fragments and len(encoded) == fragments[start]
                if one_each:
                    assert start == values[k]
            else:
                assert isinstance(encoded, bytes), type(encoded)
                assert not one_each, "a single-fragment frame was copied"
                first = next(o for o in values
                             if data[o:o + fragments[o]] == encoded[:fragments[o]])
                assert fragments[first] < len(encoded)  # it did span several fragments
                if entry["frames"] == 1:
                    assert len(encoded) == sum(fragments.values())


def test_encoded_frame_outlives_close(corpus_file):
    """A view of a mapped file stays valid after close(): the mapping goes with the last
    view."""
    path = corpus_file("HTJ2KLossless_08_RGB.dcm")  # > 64 KiB: mapped, one fragment
    f = dicomframes.open(path)
    expected = f[0]
    encoded = f.encoded_frame(0)
    assert isinstance(encoded, memoryview)
    attributes = {"rows": f.rows, "columns": f.columns,
                  "samples_per_pixel": f.samples_per_pixel,
                  "bits_allocated": f.bits_allocated, "bits_stored": f.bits_stored,
                  "pixel_representation": f.pixel_representation,
                  "photometric_interpretation": f.photometric_interpretation}
    uid = f.transfer_syntax_uid
    f.close()
    assert f.closed
    np.testing.assert_array_equal(decode_frame(encoded, uid, **attributes), expected)
    with pytest.raises(ValueError):
        f.encoded_frame(0)
    encoded.release()


@pytest.mark.parametrize("name, frames, fragments_per_frame", [
    ("emri_small_jpeg_ls_lossless_fragmented_bot.dcm", 10, 3),
    ("RG3_J2KR.dcm", 1, 13),
    ("CT1_JLSN.dcm", 1, 2),
])
def test_encoded_frame_gathers_fragments(corpus_file, name, frames, fragments_per_frame):
    """A frame over several fragments comes back as bytes: the fragment values in order."""
    pydicom = pytest.importorskip("pydicom")
    from pydicom.encaps import generate_fragmented_frames

    path = corpus_file(name)
    ds = pydicom.dcmread(path)
    expected = list(generate_fragmented_frames(ds.PixelData, number_of_frames=frames))
    with dicomframes.open(path) as f:
        assert len(f) == frames
        for k in range(frames):
            encoded = f.encoded_frame(k)
            assert isinstance(encoded, bytes), type(encoded)
            assert len(expected[k]) == fragments_per_frame
            assert encoded == b"".join(expected[k])


@pytest.mark.parametrize("name", ["emri_small_RLE.dcm", "emri_small_jpeg_2k_lossless.dcm",
                                  "emri_small_jpeg_2k_lossless_eot.dcm",
                                  "HTJ2KLossless_08_RGB.dcm", "RG3_J2KR.dcm"])
def test_encoded_frame_from_path_matches_pydicom(corpus_file, name):
    """Mapped (or read) from a path: same codestreams as pydicom's frame generator; single
    fragments are views (no copy)."""
    pydicom = pytest.importorskip("pydicom")
    from pydicom.encaps import generate_frames

    path = corpus_file(name)
    ds = pydicom.dcmread(path)
    count = int(ds.get("NumberOfFrames", 1) or 1)
    expected = list(generate_frames(ds.PixelData, number_of_frames=count))
    with dicomframes.open(path) as f:
        for k in range(count):
            encoded = f.encoded_frame(k)
            assert bytes(encoded) == expected[k]
            if f.describe()["fragments"].startswith(f"{count},"):  # one fragment each
                assert isinstance(encoded, memoryview)
            else:
                assert isinstance(encoded, bytes)


@pytest.mark.corpus("compressed", expect="pixels")
def test_compressed_file_without_colour_conversion(corpus_entry, corpus_dir):
    """``as_rgb=False`` keeps the stored colour (YCbCr for YBR_FULL / YBR_FULL_422), as
    pydicom does with ``raw=True``: the manifest's ``sha256_raw`` (lossy files that another
    decoder build may round differently are checked within their tolerance of the RGB
    reference only, in test_compressed_file)."""
    entry = corpus_entry
    expected = entry["expected"]
    with dicomframes.open(corpus_dir / entry["file"]) as f:
        stack = f.frames(as_rgb=False, threads=2).reshape(expected["shape"])
    if expected["sha256_raw"] == expected["sha256"] and entry.get("tolerance"):
        check_against_manifest(stack, entry, corpus_dir)
        return
    assert manifest_sha256(stack) == expected["sha256_raw"], entry["file"]
