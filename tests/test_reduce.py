"""``reduce=r``: JPEG 2000 / HTJ2K frames decoded at 1/2**r of their size.

Reference: OpenJPEG's own reduced decode through another binding, glymur (``Jp2k[::2**r,
::2**r]``), on the same codestream, for every decomposition level the codestream has and
for every J2K/HTJ2K corpus file whose full-size glymur decode equals ours (files whose
Pixel Representation or Bits Stored disagree with the codestream are converted the pydicom
way by us and not by glymur, so they cannot be compared). imagecodecs' OpenJPH
(``htj2k_decode(skipres=r)``) is not used: at reduced sizes it wraps values that leave the
sample range (differences of 255 on the RGB HTJ2K file) where OpenJPEG clips.
One level too many, or reduce= on a syntax without resolution levels, raises.
"""

from __future__ import annotations

import numpy as np
import pytest

import dicomframes
from dicomframes import DicomFramesError, UnsupportedError, read_frames

from conftest import manifest_entries

glymur = pytest.importorskip("glymur")

J2K_ENTRIES = [e for e in manifest_entries("pixels", max_size=1 << 20)
               if e["codec"] in ("j2k", "htj2k")]


def glymur_decoder(tmp_path, data: bytes):
    """A glymur Jp2k over `data` (a raw codestream or a JP2 file) and its decomposition levels."""
    suffix = ".jp2" if data[4:8] == b"jP  " else ".j2k"
    path = tmp_path / f"frame{suffix}"
    path.write_bytes(data)
    jp2 = glymur.Jp2k(str(path))
    cod = next(s for s in jp2.get_codestream().segment if s.marker_id == "COD")
    return jp2, cod.num_res


@pytest.mark.parametrize("entry", J2K_ENTRIES or [None], ids=[e["file"] for e in J2K_ENTRIES]
                         or ["no-corpus"])
def test_reduced_equals_openjpeg(entry, corpus_dir, tmp_path):
    if entry is None:
        pytest.skip("no conformance corpus")
    with dicomframes.open(corpus_dir / entry["file"]) as f:
        data = bytes(f.encoded_frame(0))
        jp2, levels = glymur_decoder(tmp_path, data)
        full = jp2[:]
        if full.shape != f.frame_shape or not np.array_equal(full.astype(f.dtype), f[0]):
            pytest.skip("glymur's full-size decode differs (sign/precision conversion)")
        for r in range(1, levels + 1):
            ours = f.frame(0, reduce=r)
            step = 1 << r
            reference = jp2[::step, ::step]
            assert ours.shape == f.output_shape(reduce=r) == reference.shape
            np.testing.assert_array_equal(ours, reference.astype(f.dtype),
                                          err_msg=f"reduce={r}")
        with pytest.raises(DicomFramesError, match="resolutions"):
            f.frame(0, reduce=levels + 1)


def test_multi_frame_reduce_batches(corpus_file, tmp_path):
    path = corpus_file("emri_small_jpeg_2k_lossless.dcm")
    with dicomframes.open(path) as f:
        expected = []
        for k in range(len(f)):
            jp2, _ = glymur_decoder(tmp_path, bytes(f.encoded_frame(k)))
            expected.append(jp2[::4, ::4].astype(f.dtype))
        expected = np.stack(expected)
        for threads in (1, 2, 8):
            np.testing.assert_array_equal(f.frames(reduce=2, threads=threads), expected)
        np.testing.assert_array_equal(f.frames([3], reduce=2, threads=4), expected[[3]])
        out = np.empty((len(f), 16, 16), f.dtype)
        assert f.frames(reduce=2, out=out) is out
        with pytest.raises(ValueError, match="shape"):
            f.frames(reduce=1, out=out)
        np.testing.assert_array_equal(read_frames([path, path], reduce=2),
                                      np.concatenate([expected, expected]))
        rescaled = f.frame(1, reduce=2, rescale=True)
        assert rescaled.dtype == np.float32 and rescaled.shape == (16, 16)


@pytest.mark.parametrize("name", ["emri_small_RLE.dcm", "emri_small_jpeg_ls_lossless.dcm",
                                  "emri_small.dcm"])
def test_syntaxes_without_resolution_levels(corpus_file, name):
    with dicomframes.open(corpus_file(name)) as f:
        with pytest.raises(UnsupportedError, match="resolution levels"):
            f.frame(0, reduce=1)
        f.frame(0, reduce=0)


def test_bad_reduce_values(corpus_file):
    with dicomframes.open(corpus_file("emri_small_jpeg_2k_lossless.dcm")) as f:
        for bad in (-1, 33):
            with pytest.raises(ValueError):
                f.frame(0, reduce=bad)
