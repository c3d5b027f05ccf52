"""Write the seeds of fuzz/fuzz_jpeg8.c: the 8-bit DCT JPEG codestreams of the conformance
corpus (first frame of each file, the 8-bit T.83 streams) and a few made here (progressive,
restart intervals, arithmetic coding, 4:2:0, odd sizes), each behind an option byte.

    python fuzz/make_jpeg8_seeds.py fuzz/corpus_jpeg8
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_streams() -> list[bytes]:
    import pydicom
    from pydicom.encaps import generate_frames

    streams = []
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["codec"] != "jpeg" or entry["bits_stored"] != 8:
            continue
        ds = pydicom.dcmread(CORPUS / entry["file"])
        streams.append(next(generate_frames(ds.PixelData, number_of_frames=entry["frames"])))
    for name in ("p1/A1.JPG", "p2/C1.JPG", "p2/C2.JPG"):
        streams.append((CORPUS / "jpeg10918" / name).read_bytes())
    return streams


def made_streams() -> list[bytes]:
    import numpy as np

    rng = np.random.default_rng(9)
    streams = []
    try:
        from PIL import Image

        for shape, kw in (((37, 53, 3), {"progressive": True, "subsampling": 2}),
                          ((16, 16), {"progressive": True}),
                          ((33, 17, 3), {"subsampling": 1, "quality": 80})):
            a = rng.integers(0, 256, shape, dtype=np.uint8)
            buf = io.BytesIO()
            Image.fromarray(a).save(buf, "JPEG", **kw)
            streams.append(buf.getvalue())
    except ImportError:
        pass
    try:
        import imagecodecs

        a = rng.integers(0, 256, (21, 30, 3), dtype=np.uint8)
        streams.append(imagecodecs.jpeg8_encode(a, level=75, subsampling="420"))
        streams.append(imagecodecs.jpeg8_encode(np.ascontiguousarray(a[..., 0]), level=95))
    except ImportError:
        pass
    return streams


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for stream in corpus_streams() + made_streams():
        for opt in (0x04, 0x00, 0x05, 0x0E, 0x17):
            data = bytes([opt]) + bytes(stream)
            (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
            n += 1
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus_jpeg8")
