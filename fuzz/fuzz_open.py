#!/usr/bin/env python3
"""Coverage-guided fuzzing of ``dicomframes.open`` + frame decoding with atheris.

    pip install atheris
    python fuzz/fuzz_open.py fuzz/corpus -max_total_time=60

Every input is opened as DICOM bytes; its first frames are decoded before the element index
is complete (frames found by walking their items from the offset table), then it is
described and fully decoded (threads, rescale), and its series sort keys (Instance
Number, Image Position / Orientation) read. The only exception
allowed is :class:`dicomframes.DicomFramesError` (and its subclasses); anything else
(another exception, a crash, a sanitizer report, a hang) is a finding. See fuzz/README.md.

``python fuzz/fuzz_open.py --make-seeds DIR`` (re)writes the seed files of fuzz/corpus/
(tiny valid DICOM files written by dicomframes.testing; needs pydicom, not atheris).
``python fuzz/fuzz_open.py --replay FILE...`` runs the harness once on each file without
atheris (what tests/test_robustness.py does for every file of fuzz/corpus/).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Inputs are tiny; a header claiming gigabytes must fail cleanly, not make the fuzzer
# allocate them (deflated data sets are inflated in memory up to this bound).
MAX_INFLATED_BYTES = 64 << 20
_FAILED = object()  # _outcome of a decode that raised a DicomFramesError


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    import dicomframes
    from dicomframes import DicomFramesError

    try:
        f = dicomframes.open(data, max_inflated_bytes=MAX_INFLATED_BYTES)
    except DicomFramesError:
        return
    try:
        # Before anything completes the element index, frames are located by
        # walking only their own items from the offset table (the lazy path).
        for k in range(min(len(f), 4)):
            try:
                f[k]
            except DicomFramesError:
                pass
        f.describe()  # completes the index: the rules over all fragments from here on
        f.frames(threads=2)
        f.frames([0], rescale=True, threads=1)
        # The attributes a series is sorted by (read_frames(sort=...)), without decoding
        # every frame once more.
        from dicomframes.series import _instance_key, _position_key

        for key in (_instance_key, _position_key):
            try:
                key(f, 0)
            except DicomFramesError:
                pass
        if len(f) > 1:
            f[::-1]
    except DicomFramesError:
        pass
    finally:
        f.close()
    _same_through_a_file_object(data)


def _outcome(open_source) -> object:
    from dicomframes import DicomFramesError

    try:
        with open_source() as f:
            return f.frames(threads=1).tobytes()
    except DicomFramesError:
        return _FAILED


def _same_through_a_file_object(data: bytes) -> None:
    """The remote path (a file object: sparse mapping, header scan stopped after the
    offset table whatever it holds, fragments found by walking their items) decodes
    exactly what the local path decodes, or fails where it fails."""
    import io

    import dicomframes

    local = _outcome(lambda: dicomframes.open(data, max_inflated_bytes=MAX_INFLATED_BYTES))
    remote = _outcome(lambda: dicomframes.open(io.BytesIO(data),
                                               max_inflated_bytes=MAX_INFLATED_BYTES))
    if local != remote:  # the frames' bytes, or both _FAILED
        raise AssertionError("a file object decodes differently from the same bytes")


# --------------------------------------------------------------------------------------
# seed files
# --------------------------------------------------------------------------------------


def _seed_datasets():
    """(file name, pydicom Dataset) pairs: small valid files covering the encodings."""
    import numpy as np
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    from pydicom.uid import (
        UID,
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
        RLELossless,
    )

    from dicomframes.testing import (
        native_pixel_data,
        new_dataset,
        set_file_meta,
        set_image_pixel,
    )

    prefix = "1.2.826.0.1.3680043.8.498.77."

    def base(n: int, syntax: UID, *, rows: int, cols: int, bits: int, signed: bool = False,
             spp: int = 1, frames: int | None = None, photometric: str | None = None,
             stored: int | None = None) -> Dataset:
        ds = new_dataset(syntax, sop_class=UID("1.2.840.10008.5.1.4.1.1.7"))
        set_file_meta(ds, sop_instance=UID(f"{prefix}{n}"),
                      implementation_class_uid=UID(prefix + "0"),
                      implementation_version_name="DCF_FUZZ_SEED")
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.PatientName = "Fuzz^Seed"
        ds.PatientID = f"SEED{n}"
        dtype = np.dtype(f"{'i' if signed else 'u'}{max(bits, 8) // 8}")
        set_image_pixel(ds, rows=rows, columns=cols, dtype=dtype, samples_per_pixel=spp,
                        frames=frames, bits_stored=stored or bits, photometric=photometric)
        ds.BitsAllocated = bits  # 1: bit-packed frames
        return ds

    def pixels(ds: Dataset, raw: bytes, vr: str) -> Dataset:
        native_pixel_data(ds, raw, vr=vr)
        return ds

    ramp = np.arange(256, dtype=np.uint32)
    seeds = []

    ds = base(1, ExplicitVRLittleEndian, rows=4, cols=5, bits=8, frames=2)
    seeds.append(("explicit_le_u8_2frames.dcm",
                  pixels(ds, ramp[:40].astype(np.uint8).tobytes(), "OB")))

    ds = base(2, ImplicitVRLittleEndian, rows=3, cols=5, bits=16, stored=12)
    seeds.append(("implicit_le_u16_12bit.dcm",
                  pixels(ds, (ramp[:15] * 273).astype("<u2").tobytes(), "OW")))

    ds = base(3, ExplicitVRBigEndian, rows=4, cols=4, bits=16, signed=True)
    seeds.append(("explicit_be_i16.dcm",
                  pixels(ds, (ramp[:16].astype(np.int16) - 8).astype(">i2").tobytes(), "OW")))

    ds = base(4, ExplicitVRLittleEndian, rows=2, cols=3, bits=8, spp=3)
    ds.PlanarConfiguration = 1
    seeds.append(("rgb_planar.dcm", pixels(ds, ramp[:18].astype(np.uint8).tobytes(), "OB")))

    ds = base(5, ExplicitVRLittleEndian, rows=3, cols=3, bits=1, frames=3)
    seeds.append(("bits1_3frames.dcm", pixels(ds, bytes([0xA5, 0x3C, 0xFF, 0x01]), "OB")))

    ds = base(6, DeflatedExplicitVRLittleEndian, rows=4, cols=4, bits=8)
    seeds.append(("deflated_u8.dcm", pixels(ds, bytes(16), "OB")))

    ds = base(7, ExplicitVRLittleEndian, rows=2, cols=2, bits=32)
    native_pixel_data(ds, np.array([0.5, -1.0, 3.25, 1e9], "<f4").tobytes(), vr="OF",
                      tag=0x7FE00008)
    seeds.append(("float_pixel_data.dcm", ds))

    ds = base(8, ExplicitVRLittleEndian, rows=2, cols=2, bits=16, signed=True)
    item = Dataset()
    item.ReferencedSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.2")
    item.ReferencedSOPInstanceUID = UID(prefix + "99")
    inner = Dataset()
    inner.CodeValue = "121322"
    inner.CodingSchemeDesignator = "DCM"
    item.PurposeOfReferenceCodeSequence = Sequence([inner])
    ds.ReferencedImageSequence = Sequence([item, Dataset()])
    ds.ReferencedImageSequence.is_undefined_length = True
    seeds.append(("sequences_i16.dcm",
                  pixels(ds, np.array([-1, 2, -3, 4], "<i2").tobytes(), "OW")))

    ds = base(9, ExplicitVRLittleEndian, rows=4, cols=4, bits=8, frames=2)
    ds = pixels(ds, ramp[:32].astype(np.uint8).tobytes(), "OB")
    try:
        ds.compress(RLELossless, encoding_plugin="pydicom", generate_instance_uid=False)
    except Exception:  # pragma: no cover - no RLE encoder in this pydicom
        pass
    else:
        seeds.append(("rle_u8_2frames.dcm", ds))
    return seeds


def make_seeds(folder: Path) -> list[Path]:
    from dicomframes.testing import write

    folder.mkdir(parents=True, exist_ok=True)
    return [write(ds, folder / name) for name, ds in _seed_datasets()]


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "--make-seeds":
        folder = Path(argv[2] if len(argv) > 2 else Path(__file__).parent / "corpus")
        for path in make_seeds(folder):
            print(f"wrote {path} ({path.stat().st_size} bytes)")
        return 0
    if len(argv) >= 2 and argv[1] == "--replay":
        for name in argv[2:]:
            TestOneInput(Path(name).read_bytes())
            print(f"ok {name}")
        return 0

    import atheris

    import dicomframes  # noqa: F401
    import dicomframes.cli  # noqa: F401

    # Coverage of the Python layer. instrument_all() rather than instrument_imports(): the
    # latter misses modules loaded through an editable install's import hook.
    atheris.instrument_all()
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
