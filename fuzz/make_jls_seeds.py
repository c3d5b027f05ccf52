"""Write the seeds of fuzz/fuzz_jls.c (JPEG-LS frame decoder) to a folder.

    .venv/bin/python fuzz/make_jls_seeds.py fuzz/corpus_jls

Deterministic (fixed random seeds). Writes:
  * small streams made with pyjpegls (CharLS 2.x) and imagecodecs: 2, 8, 12
    and 16-bit, 1 and 3 components, interleave modes 0/1/2, NEAR 0 and 3,
    images with long runs (flat areas), noise and both, odd sizes (1 x 1,
    one row, one column);
  * the first frame of each JPEG-LS file (Transfer Syntax .4.80 / .4.81) in
    ../shared/corpus (or the folder given with --corpus), up to 128 KB,
    identical frames once.
Each seed is a plain JPEG-LS stream (fuzz_jls.c takes the input's last byte
as its option byte, 0xD9 for an intact stream). Needs numpy, pyjpegls,
imagecodecs and pydicom (the project's test and peers extras).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

JLS_SYNTAXES = ("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81")
MAX_CORPUS_FRAME = 128 * 1024


def _image(rng: np.random.Generator, shape: tuple[int, ...], bits: int, kind: str) -> np.ndarray:
    """`kind`: "noise", "runs" (flat areas, a few edges) or "mixed"."""
    top = (1 << bits) - 1
    dtype = np.uint8 if bits <= 8 else np.uint16
    if kind == "noise":
        arr = rng.integers(0, top + 1, shape)
    else:
        arr = np.zeros(shape, dtype=np.int64)
        rows, cols = shape[0], shape[1]
        arr[: rows // 2] = top // 3
        arr[rows // 2 :, : cols // 3] = top
        arr[rows // 4 : rows // 4 + 2, cols // 2 :] = top // 2
        if kind == "mixed":
            r0, c0 = rows // 2, cols // 2
            patch = arr[r0 : r0 + rows // 4, c0 : c0 + cols // 4]
            patch[...] = rng.integers(0, top + 1, patch.shape)
    arr = np.asarray(arr, dtype=dtype)
    # pyjpegls takes the precision from the largest value: make it P bits.
    arr.reshape(-1)[0] = top
    return arr


def synthetic() -> dict[str, bytes]:
    import imagecodecs
    import jpeg_ls

    rng = np.random.default_rng(20261129)
    seeds: dict[str, bytes] = {}

    def pyjls(name: str, arr: np.ndarray, near: int = 0, ilv: int | None = None) -> None:
        if arr.ndim == 3 and ilv == 0:
            arr = np.ascontiguousarray(arr.transpose(2, 0, 1))  # colour-by-plane
        seeds[f"pyjpegls_{name}.jls"] = bytes(
            jpeg_ls.encode_array(arr, lossy_error=near, interleave_mode=ilv)
        )

    # Greyscale: precisions, content, NEAR.
    for bits in (2, 8, 12, 16):
        for kind, size in (("noise", (12, 12)), ("runs", (32, 40)), ("mixed", (24, 20))):
            for near in (0, 3):
                if bits == 2 and near:
                    continue
                arr = _image(rng, size, bits, kind)
                pyjls(f"{bits:02d}bit_1c_{kind}_near{near}", arr, near)
    # Odd sizes.
    # pyjpegls' output buffer is too small for a 1 x 1 image: imagecodecs then.
    seeds["imagecodecs_08bit_1c_1x1.jls"] = bytes(
        imagecodecs.jpegls_encode(_image(rng, (1, 1), 8, "noise"))
    )
    pyjls("08bit_1c_1x50_runs", _image(rng, (1, 50), 8, "runs"))
    pyjls("12bit_1c_50x1_noise", _image(rng, (50, 1), 12, "noise"))
    pyjls("16bit_1c_7x5_noise_near3", _image(rng, (7, 5), 16, "noise"), 3)
    # Three components, every interleave mode.
    for bits in (8, 12):
        for ilv in (0, 1, 2):
            for near in (0, 3):
                kind = "mixed" if near == 0 else "runs"
                arr = _image(rng, (16, 18, 3), bits, kind)
                pyjls(f"{bits:02d}bit_3c_ilv{ilv}_{kind}_near{near}", arr, near, ilv)
    pyjls("08bit_3c_ilv2_noise_near0", _image(rng, (10, 10, 3), 8, "noise"), 0, 2)
    pyjls("05bit_3c_ilv1_runs_near0", _image(rng, (20, 20, 3), 5, "runs"), 0, 1)

    # imagecodecs (CharLS too, its own defaults: interleave by sample).
    for name, arr, level in (
        ("08bit_1c_mixed", _image(rng, (24, 24), 8, "mixed"), None),
        ("08bit_1c_runs_near3", _image(rng, (32, 32), 8, "runs"), 3),
        ("16bit_1c_noise", _image(rng, (12, 12), 16, "noise"), None),
        ("12bit_1c_mixed", _image(rng, (20, 20), 12, "mixed"), None),
        ("08bit_3c_mixed", _image(rng, (16, 16, 3), 8, "mixed"), None),
        ("08bit_3c_runs_near3", _image(rng, (16, 16, 3), 8, "runs"), 3),
        ("16bit_3c_noise", _image(rng, (8, 8, 3), 16, "noise"), None),
    ):
        seeds[f"imagecodecs_{name}.jls"] = bytes(imagecodecs.jpegls_encode(arr, level=level))
    return seeds


def corpus_frames(folder: Path) -> dict[str, bytes]:
    import pydicom
    from pydicom.encaps import generate_frames

    seeds: dict[str, bytes] = {}
    seen: set[str] = set()
    for path in sorted(folder.glob("*.dcm")):
        try:
            ds = pydicom.dcmread(path, force=True)
            syntax = str(ds.file_meta.TransferSyntaxUID)
        except Exception:
            continue
        if syntax not in JLS_SYNTAXES:
            continue
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        try:
            frame = next(generate_frames(ds.PixelData, number_of_frames=frames))
        except Exception as exc:  # pragma: no cover - corpus dependent
            print(f"{path.name}: no frame ({exc})", file=sys.stderr)
            continue
        digest = hashlib.sha1(frame).hexdigest()
        if len(frame) > MAX_CORPUS_FRAME:
            print(f"{path.name}: first frame {len(frame)} bytes, skipped", file=sys.stderr)
            continue
        if digest in seen:
            continue
        seen.add(digest)
        seeds[f"corpus_{path.stem}.jls"] = bytes(frame)
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    default = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    parser.add_argument("--corpus", type=Path, default=default)
    args = parser.parse_args(argv)

    seeds = synthetic()
    if args.corpus.is_dir():
        seeds.update(corpus_frames(args.corpus))
    else:
        print(f"{args.corpus}: no such folder, corpus frames skipped", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(seeds.items()):
        (args.out / name).write_bytes(data)
    total = sum(len(d) for d in seeds.values())
    print(f"{len(seeds)} seeds, {total} bytes, in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
