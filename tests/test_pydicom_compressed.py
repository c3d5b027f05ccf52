"""pydicom's bundled test files in the syntaxes dicomframes decodes (RLE Lossless, JPEG-LS,
JPEG 2000, HTJ2K), against pydicom's own pixel_array.

The reference decoder is chosen explicitly, as in the corpus manifest: pydicom's pure-Python
RLE decoder, pyjpegls (CharLS) for JPEG-LS and pylibjpeg + pylibjpeg-openjpeg (OpenJPEG) for
JPEG 2000 and HTJ2K. Where pydicom decodes, the values must be equal; where it cannot, we
must raise a DicomFramesError (or the file is listed in DECODED_WHERE_PYDICOM_FAILS, with the
reason we decode it).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import dicomframes
from dicomframes import DicomFramesError

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_files  # noqa: E402
from pydicom.pixels import pixel_array  # noqa: E402

REFERENCE_PLUGIN = {
    "1.2.840.10008.1.2.5": "pydicom",       # RLE Lossless
    "1.2.840.10008.1.2.4.80": "pyjpegls",   # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81": "pyjpegls",   # JPEG-LS Near-Lossless
    "1.2.840.10008.1.2.4.90": "pylibjpeg",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.91": "pylibjpeg",  # JPEG 2000
    "1.2.840.10008.1.2.4.201": "pylibjpeg",  # HTJ2K Lossless
    "1.2.840.10008.1.2.4.202": "pylibjpeg",  # HTJ2K Lossless RPCL
    "1.2.840.10008.1.2.4.203": "pylibjpeg",  # HTJ2K
}
PLUGIN_MODULES = {"pydicom": None, "pyjpegls": "jpeg_ls", "pylibjpeg": "openjpeg"}

# Files pydicom cannot decode that dicomframes decodes, with the reason (none so far).
DECODED_WHERE_PYDICOM_FAILS: dict[str, str] = {}


def _files() -> list[tuple[str, str]]:
    found = []
    for path in sorted(get_testdata_files(), key=os.path.basename):
        if not os.path.isfile(path):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
            uid = str(ds.file_meta.get("TransferSyntaxUID", "")).rstrip("\x00 ")
        except Exception:  # not DICOM at all: nothing to compare
            continue
        if uid in REFERENCE_PLUGIN:
            found.append((path, uid))
    return found


FILES = _files()


@pytest.mark.skipif(not FILES, reason="pydicom has no bundled files in these syntaxes")
@pytest.mark.parametrize("path, uid", FILES, ids=[os.path.basename(p) for p, _ in FILES])
def test_matches_pydicom(path, uid):
    plugin = REFERENCE_PLUGIN[uid]
    if PLUGIN_MODULES[plugin]:
        pytest.importorskip(PLUGIN_MODULES[plugin])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = pixel_array(path, decoding_plugin=plugin)
    except Exception as exc:  # pydicom cannot decode it: we must say so too
        name = os.path.basename(path)
        if name in DECODED_WHERE_PYDICOM_FAILS:
            with dicomframes.open(path) as f:
                f.frames()
            return
        with pytest.raises(DicomFramesError) as info:
            with dicomframes.open(path) as f:
                f.frames()
        print(f"{name}: pydicom ({plugin}): {exc!s:.200}; dicomframes: {info.value!s:.200}")
        return

    with dicomframes.open(path) as f:
        assert f.transfer_syntax_uid == uid
        stack = f.frames()
        assert stack.dtype == reference.dtype, (stack.dtype, reference.dtype)
        # pydicom drops the frame axis of single frames and the sample axis of 1 sample
        assert stack.size == reference.size, (stack.shape, reference.shape)
        np.testing.assert_array_equal(stack.reshape(reference.shape), reference)
        frames = reference.reshape(len(f), *f.frame_shape)
        for k in range(len(f)):
            np.testing.assert_array_equal(f[k], frames[k], err_msg=f"frame {k}")


def test_some_files_were_found():
    """The bundled test data is part of the pydicom wheel: an empty list means the lookup
    broke, not that there is nothing to test."""
    uids = {uid for _, uid in FILES}
    assert len(FILES) >= 15, [os.path.basename(p) for p, _ in FILES]
    assert {"1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90"} <= uids
