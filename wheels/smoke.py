"""Smoke test of an installed dicomframes (a wheel): import it, decode one RLE, one JPEG-LS and
one JPEG 2000 frame (and one JPEG baseline frame where imagecodecs can encode it), and say
which codec libraries the process mapped. Run it from outside the source tree:

    cd /tmp && python /path/to/wheels/smoke.py

Needs pydicom, pyjpegls and pylibjpeg-openjpeg (the encoders of dicomframes.testing); exits 1
on the first failure. Used by `make wheel-test` and cibuildwheel's test-command.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import dicomframes as dcf
from dicomframes import uids
from dicomframes.testing import encode_frame, encode_jpeg


def main() -> int:
    from importlib.metadata import version

    pkg = Path(dcf.__file__).resolve().parent
    print(f"dicomframes {dcf.__version__} from {pkg}")
    if version("dicomframes") != dcf.__version__:  # pyproject's version and __init__'s agree
        print(f"installed metadata says {version('dicomframes')}, dicomframes.__version__ "
              f"{dcf.__version__}", file=sys.stderr)
        return 1
    if (Path.cwd() / "src" / "dicomframes").is_dir():
        print("run this from outside the source tree", file=sys.stderr)
        return 1
    rng = np.random.default_rng(12)
    arr = rng.integers(0, 4096, size=(32, 48), dtype=np.uint16)
    attrs = dict(rows=32, columns=48, samples_per_pixel=1, bits_allocated=16, bits_stored=16,
                 pixel_representation=0, photometric_interpretation="MONOCHROME2")
    cases = [("RLE", uids.RLE_LOSSLESS), ("JPEG-LS", uids.JPEG_LS_LOSSLESS),
             ("JPEG 2000", uids.JPEG_2000_LOSSLESS)]
    for name, syntax in cases:
        frame = dcf.decode_frame(encode_frame(arr, syntax), syntax, **attrs)
        if not np.array_equal(frame, arr):
            print(f"{name}: decoded frame differs", file=sys.stderr)
            return 1
        print(f"{name}: ok {frame.shape} {frame.dtype}")
    try:  # libjpeg-turbo (8-bit DCT), where imagecodecs is there to encode
        gray = rng.integers(0, 256, size=(32, 48), dtype=np.uint8)
        code = encode_jpeg(gray, uids.JPEG_BASELINE)
    except NotImplementedError as exc:
        print(f"JPEG baseline: not tried ({exc})")
    else:
        attrs8 = dict(attrs, bits_allocated=8, bits_stored=8)
        frame = dcf.decode_frame(code, uids.JPEG_BASELINE, **attrs8)
        print(f"JPEG baseline: ok {frame.shape} {frame.dtype}")
    maps = Path("/proc/self/maps")
    if maps.exists():  # Linux: which copy of each codec library this process uses
        libs = sorted({line.split()[-1] for line in maps.read_text().splitlines()
                       if "libopenjp2" in line or "libjpeg" in line})
        for lib in libs:
            print(f"mapped: {lib}")
    if hasattr(dcf, "show_config"):
        dcf.show_config()
    return 0


if __name__ == "__main__":
    sys.exit(main())
