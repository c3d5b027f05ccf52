"""dicomframes against pydicom's ``pixel_array`` on pydicom's own bundled test files.

Every file of ``pydicom.data.get_testdata_files()`` that pydicom reads, whose transfer
syntax is native (implicit / explicit little endian, deflated, explicit big endian) and
that holds Pixel Data, Float Pixel Data or Double Float Pixel Data:

* when pydicom's ``pixel_array`` succeeds, dicomframes gives the same values with the same
  shape (pydicom drops the frame axis of single-frame data) and the same dtype up to byte
  order (pydicom returns big endian data as ``>u2`` etc.; dicomframes always returns native
  byte order);
* when pydicom fails, dicomframes must raise a DicomFramesError, except for the files in
  ``DECODED_WHERE_PYDICOM_FAILS`` (documented there), where we compare what we can.

The selection is made at collection time (about half a second).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import dicomframes
from dicomframes import DicomFramesError

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file, get_testdata_files  # noqa: E402

# The files bundled in the pydicom wheel. (get_testdata_files() may also list files of
# locally cached external data sources; only the bundled ones are used, and only the
# default pattern is passed: other patterns make pydicom try to download pydicom-data.)
TEST_FILES = Path(get_testdata_file("CT_small.dcm")).parent

NATIVE_UIDS = {
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2",
}
PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")

# Files pydicom cannot decode but dicomframes does, and why. The callable checks what
# can be checked (it gets the open DicomFile). badVR.dcm (rtdose.dcm with Number of
# Frames "1A") used to be one, read as 1 frame; since issue 11 it raises MalformedError
# as pydicom's int("1A") fails (test_bad_vr_number_of_frames_is_malformed).
DECODED_WHERE_PYDICOM_FAILS: dict = {}


def test_bad_vr_number_of_frames_is_malformed():
    path = _testdata_path("badVR.dcm")
    with dicomframes.open(path) as f:
        with pytest.raises(dicomframes.MalformedError, match=r"\(0028,0008\).*1A"):
            f.frames()


def _testdata_path(name: str) -> str:
    path = TEST_FILES / name
    if not path.is_file():
        pytest.skip(f"{name} is not among pydicom's test files")
    return str(path)


def _transfer_syntax(ds) -> str | None:
    uid = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if uid:
        return str(uid)
    # No file meta: the encoding pydicom found the data set in.
    encoding = getattr(ds, "original_encoding", (None, None))
    if encoding == (True, True):
        return "1.2.840.10008.1.2"
    if encoding == (False, True):
        return "1.2.840.10008.1.2.1"
    if encoding == (False, False):
        return "1.2.840.10008.1.2.2"
    return None


def _collect() -> tuple[list, list]:
    """(decodable, failing): pytest params for native pixel files pydicom decodes and for
    those whose pixel_array raises."""
    decodable, failing = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(get_testdata_files()):
            path = Path(name)
            try:
                # Ids relative to the test_files folder, e.g. dicomdirtests/.../6154.
                relative = path.relative_to(TEST_FILES).as_posix()
            except ValueError:
                continue  # not a bundled file
            if not path.is_file():
                continue
            try:
                ds = pydicom.dcmread(path, force=True)
            except Exception:  # not DICOM at all (txt, json, gz, ...)
                continue
            if not any(k in ds for k in PIXEL_KEYWORDS):
                continue
            if _transfer_syntax(ds) not in NATIVE_UIDS:
                continue
            try:
                ds.pixel_array  # noqa: B018 - decoding is the point
            except Exception as exc:
                failing.append(pytest.param(str(path), f"{type(exc).__name__}: {exc}",
                                            id=relative))
            else:
                decodable.append(pytest.param(str(path), id=relative))
    return decodable, failing


DECODABLE, FAILING = _collect()


def _params(params: list, reason: str) -> list:
    return params or [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="none")]


@pytest.mark.parametrize("path", _params(DECODABLE, "no native pydicom test file found"))
def test_matches_pydicom(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = pydicom.dcmread(path, force=True).pixel_array
    with dicomframes.open(path) as f:
        stack = f.frames()
        frames = len(f)
        assert stack.shape == (frames, *f.frame_shape)
        ours = stack[0] if frames == 1 and reference.ndim == stack.ndim - 1 else stack
        assert ours.shape == reference.shape
        # Same type; pydicom keeps big endian data big endian, dicomframes is native.
        assert ours.dtype == reference.dtype.newbyteorder("=")
        assert ours.dtype.isnative
        assert np.array_equal(ours, reference)
        # One frame at a time, as views or copies, gives the same.
        for k in range(frames):
            np.testing.assert_array_equal(f[k], stack[k])
            np.testing.assert_array_equal(f.frame(k, copy=True), stack[k])


@pytest.mark.parametrize("path, pydicom_error",
                         _params(FAILING, "pydicom decodes every native test file"))
def test_pydicom_failures_raise(path, pydicom_error):
    name = Path(path).name
    if name in DECODED_WHERE_PYDICOM_FAILS:
        with dicomframes.open(path) as f:
            f.frames()
            DECODED_WHERE_PYDICOM_FAILS[name](f)
        return
    with pytest.raises(DicomFramesError):
        with dicomframes.open(path) as f:
            f.frames()


def test_selection_is_meaningful():
    """Guard against a silently empty selection (e.g. a pydicom without its test files)."""
    if not DECODABLE:
        pytest.skip("pydicom ships no native test files here")
    assert len(DECODABLE) >= 20
    assert any("BigEnd" in p.id or "bigendian" in p.id or "expb" in p.id for p in DECODABLE)
