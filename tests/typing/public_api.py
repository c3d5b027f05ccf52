"""A small program over dicomframes' public API, checked by `mypy --strict`
(tests/test_typing.py): every name it uses must be typed precisely enough for a
strict client, through the package's annotations and the stubs of its compiled
modules. It also runs: ``python tests/typing/public_api.py FILE.dcm [MORE.dcm ...]``."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import numpy.typing as npt

import dicomframes
from dicomframes import (
    DicomFile,
    DicomFramesError,
    MismatchError,
    NotDicomError,
    PixelDescription,
    UnsupportedTransferSyntaxError,
    decode_frame,
    keyword_for,
    read_frames,
    tag_for,
)


def summarise(path: str) -> dict[str, Any]:
    with dicomframes.open(path) as f:
        assert isinstance(f, DicomFile)
        described: dict[str, Any] = f.describe()
        name: Any = f.value("PatientName", None)
        rows: int | None = f.rows
        count: int = f.number_of_frames
        shape: tuple[int, ...] = f.frame_shape
        dtype: np.dtype[Any] = f.dtype
        first: npt.NDArray[Any] = f.frame(0)
        stack: npt.NDArray[Any] = f.frames([0] if count else [])
        pixels: PixelDescription = f.pixels
        decoder = f.decoder(as_rgb=True)
        out = np.empty(decoder.shape, decoder.dtype)
        decoder.decode_into(0, out)
        encoded: memoryview | bytes = f.encoded_frame(0) if f.transfer_syntax.codec else b""
        if encoded:
            again = decode_frame(
                encoded, f.transfer_syntax_uid, rows=pixels.rows, columns=pixels.columns,
                samples_per_pixel=pixels.samples_per_pixel,
                bits_allocated=pixels.bits_allocated, bits_stored=pixels.bits_stored,
                pixel_representation=pixels.pixel_representation,
                photometric_interpretation=pixels.photometric_interpretation,
                planar_configuration=pixels.planar_configuration or 0)
            assert again.shape[:2] == first.shape[:2]
        return {"described": described, "name": name, "rows": rows, "shape": shape,
                "dtype": str(dtype), "first": first.shape, "stack": stack.shape}


def series(paths: list[str]) -> npt.NDArray[Any] | None:
    try:
        return read_frames(paths, sort="position", rescale=True)
    except MismatchError as exc:
        print(f"not one series: {exc}", file=sys.stderr)
    except UnsupportedTransferSyntaxError as exc:
        print(f"cannot decode: {exc}", file=sys.stderr)
    except DicomFramesError as exc:
        print(f"cannot read as a series: {exc}", file=sys.stderr)
    return None


def report() -> str:
    info: dict[str, Any] = dicomframes.config()
    engines: dict[str, Any] = info["engines"]
    dicomframes.show_config()
    same: dict[str, Any] = dicomframes.show_config(as_dict=True)
    nothing: None = dicomframes.show_config(as_dict=False)
    assert nothing is None and same.keys() == info.keys()
    return f"dicomframes {dicomframes.__version__}: {', '.join(engines)}"


def keywords() -> tuple[int, str | None]:
    tag: int = tag_for("PatientName")
    return tag, keyword_for(tag)


def main(argv: list[str]) -> int:
    print(report(), keywords())
    for path in argv:
        try:
            print(summarise(path)["shape"])
        except NotDicomError as exc:
            print(f"{path}: not DICOM ({exc.offset})", file=sys.stderr)
        except DicomFramesError as exc:
            tag: int | None = exc.tag
            print(f"{path}: {exc} (tag {tag})", file=sys.stderr)
            return 1
    if len(argv) > 1:
        volume = series(argv)
        print(None if volume is None else volume.shape)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
