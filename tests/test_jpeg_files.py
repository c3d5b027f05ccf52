"""The JPEG transfer syntaxes through the file API: frames routed by their frame header
(8-bit DCT to libjpeg-turbo, lossless and 12-bit to our own decoder), reduced-size decodes
of 8-bit frames, and reduce refused where JPEG has no scaled decode. Pixel values of every
corpus file are checked against the manifest in test_corpus_compressed.py."""

from __future__ import annotations

import numpy as np
import pytest

import dicomframes
from dicomframes import _codecs


@pytest.mark.parametrize("name", ["examples_ybr_color.dcm", "SC_rgb_jpeg_dcmtk.dcm",
                                  "JPEGBaseline_1s_1f_u_08_08.dcm"])
@pytest.mark.parametrize("reduce", [1, 2, 3])
def test_reduce_equals_libjpeg_scaled_decode(corpus_file, name, reduce):
    with dicomframes.open(corpus_file(name)) as f:
        shape = f.output_shape(reduce=reduce)
        assert shape[:2] == (-(-f.rows // 2**reduce), -(-f.columns // 2**reduce))
        got = f.frames(reduce=reduce, threads=2)
        assert got.shape == (len(f), *shape)
        for k in range(len(f)):
            engine = np.empty(shape, f.dtype)
            _codecs.decode_jpeg8(f.encoded_frame(k), engine, shape[0], shape[1],
                                 f.samples_per_pixel, 8, f.bits_stored,
                                 f.pixel_representation, f.photometric_interpretation,
                                 reduce=reduce)
            np.testing.assert_array_equal(got[k], engine)
            np.testing.assert_array_equal(f.frame(k, reduce=reduce), engine)


@pytest.mark.parametrize("name", ["JPEG-LL.dcm", "JPGExtended.dcm"])
def test_reduce_is_refused_for_lossless_and_12_bit(corpus_file, name):
    with dicomframes.open(corpus_file(name)) as f:
        with pytest.raises(dicomframes.UnsupportedError, match="reduce"):
            f.frame(0, reduce=1)


def test_reduce_beyond_libjpeg_scales_is_an_error(corpus_file):
    with dicomframes.open(corpus_file("JPEGBaseline_1s_1f_u_08_08.dcm")) as f:
        with pytest.raises(ValueError, match="reduce"):
            f.frame(0, reduce=4)


def test_routing_by_frame_header(corpus_file):
    """The engines agree with the file API frame by frame: the SOF picks the decoder."""
    cases = {"JPEG-LL.dcm": _codecs.decode_jpeg_own, "JPGExtended.dcm": _codecs.decode_jpeg_own,
             "JPEGBaseline_1s_1f_u_08_08.dcm": _codecs.decode_jpeg8}
    for name, engine in cases.items():
        with dicomframes.open(corpus_file(name)) as f:
            want = np.empty(f.frame_shape, f.dtype)
            engine(f.encoded_frame(0), want, f.rows, f.columns, f.samples_per_pixel,
                   f.bits_allocated, f.bits_stored, f.pixel_representation,
                   f.photometric_interpretation)
            np.testing.assert_array_equal(f[0], want)
            sof = _codecs.jpeg_info(f.encoded_frame(0))["sof"]
            assert (sof == 0xC3) == (name == "JPEG-LL.dcm")
