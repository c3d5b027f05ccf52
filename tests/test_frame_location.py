"""Where the frames of encapsulated Pixel Data are: the rules of csrc/dcf_frames.h, on files
built from real codestreams.

Frames come from codestreams we encode here (pydicom's RLE encoder, pyjpegls, pylibjpeg-
openjpeg; the original arrays are the reference) and from two corpus files (their frames as
pydicom's generate_frames gives them, pydicom's pixel_array as the reference). They are
encapsulated with pydicom.encaps (encapsulate, encapsulate_extended, fragment_frame) and
written with dcmwrite, or laid out by hand with tests/dicom_bytes.py: with and without a Basic
Offset Table, with an Extended Offset Table, split over several fragments, padded to even
lengths, with offset tables that are wrong, with too few fragments, with a damaged frame.

The rules, in order: Extended Offset Table, Basic Offset Table, one fragment per frame, all
fragments for a single frame, codec start markers. describe()["frame location"] names the
rule that placed the frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import dicomframes
from dicomframes import CodecError, DicomFramesError, PixelDataError, decode_frame

pydicom = pytest.importorskip("pydicom")
from pydicom.encaps import (  # noqa: E402
    encapsulate,
    encapsulate_extended,
    generate_frames,
)

from dicomframes.testing import dicom_bytes, new_dataset, set_image_pixel  # noqa: E402

from dicom_bytes import (  # noqa: E402
    element,
    encapsulated_pixel_data,
    file_meta,
    preamble,
    text,
    ul,
    us,
)

TAG_PIXEL_DATA = 0x7FE00010
RLE = "1.2.840.10008.1.2.5"
JLS = "1.2.840.10008.1.2.4.80"
J2K = "1.2.840.10008.1.2.4.90"

EOT_RULE = "extended offset table"
BOT_RULE = "basic offset table"
ONE_EACH_RULE = "one fragment per frame"
SINGLE_RULE = "all fragments form the single frame"
MARKER_RULE = "codec start markers"

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


# ---- the frames --------------------------------------------------------------------------

@dataclass
class Source:
    name: str
    uid: str
    attrs: dict            # decode_frame keyword arguments
    frames: list[bytes]    # the codestreams, as encoded (odd lengths unpadded)
    expected: np.ndarray   # (frames, *frame_shape)
    header: int = 4        # bytes a frame needs to keep its start marker
    cache: dict = field(default_factory=dict)

    @property
    def padded(self) -> list[bytes]:
        return [pad(f) for f in self.frames]


def pad(data: bytes) -> bytes:
    return data + b"\x00" if len(data) % 2 else data


def attributes(rows, columns, samples, bits_allocated, bits_stored, signed, photometric):
    return {"rows": rows, "columns": columns, "samples_per_pixel": samples,
            "bits_allocated": bits_allocated, "bits_stored": bits_stored,
            "pixel_representation": int(signed), "photometric_interpretation": photometric}


def image(rng, shape, bits, signed, dtype, k):
    """A smooth image plus noise, different for each frame."""
    rows, columns = shape[:2]
    y, x = np.mgrid[0:rows, 0:columns]
    base = (x * (3 + k) + y * (5 + 2 * k)) * (1 << max(bits - 8, 0)) // 2
    if len(shape) == 3:
        base = base[..., None] + np.arange(shape[2]) * 17
    values = base + rng.integers(0, 1 << max(bits - 6, 2), shape)
    values %= 1 << bits
    if signed:
        values -= 1 << (bits - 1)
    return values.astype(dtype)


def encode(uid, plugin, arrays, attrs) -> list[bytes]:
    from pydicom.pixels.encoders import (
        JPEG2000LosslessEncoder,
        JPEGLSLosslessEncoder,
        RLELosslessEncoder,
    )

    encoder = {RLE: RLELosslessEncoder, JLS: JPEGLSLosslessEncoder,
               J2K: JPEG2000LosslessEncoder}[uid]
    kwargs = dict(attrs, number_of_frames=1)
    if attrs["samples_per_pixel"] == 3:
        kwargs["planar_configuration"] = 0
    return [encoder.encode(a, encoding_plugin=plugin, **kwargs) for a in arrays]


def encoded_source(name) -> Source:
    rng = np.random.default_rng(20240601)
    if name == "rle":
        attrs = attributes(21, 37, 1, 16, 16, True, "MONOCHROME2")
        arrays = [image(rng, (21, 37), 16, True, np.int16, k) for k in range(5)]
        return Source(name, RLE, attrs, encode(RLE, "pydicom", arrays, attrs),
                      np.stack(arrays), header=64)
    if name == "jpegls":
        pytest.importorskip("jpeg_ls")
        attrs = attributes(34, 31, 3, 8, 8, False, "RGB")
        arrays = [image(rng, (34, 31, 3), 8, False, np.uint8, k) for k in range(5)]
        return Source(name, JLS, attrs, encode(JLS, "pyjpegls", arrays, attrs),
                      np.stack(arrays), header=4)
    if name == "j2k":
        pytest.importorskip("openjpeg")
        attrs = attributes(40, 33, 1, 16, 12, False, "MONOCHROME2")
        arrays = [image(rng, (40, 33), 12, False, np.uint16, k) for k in range(5)]
        return Source(name, J2K, attrs, encode(J2K, "pylibjpeg", arrays, attrs),
                      np.stack(arrays), header=4)
    raise ValueError(name)


def corpus_source(name, file, plugin, header) -> Source:
    from pydicom.pixels import pixel_array

    path = CORPUS / file
    if not path.is_file():
        pytest.skip(f"{file} is not in the corpus")
    if plugin == "pylibjpeg":
        pytest.importorskip("openjpeg")
    ds = pydicom.dcmread(path)
    count = int(ds.NumberOfFrames)
    frames = list(generate_frames(ds.PixelData, number_of_frames=count))
    attrs = attributes(ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated,
                       ds.BitsStored, ds.PixelRepresentation, ds.PhotometricInterpretation)
    expected = pixel_array(path, decoding_plugin=plugin).reshape(count, ds.Rows, ds.Columns)
    return Source(name, str(ds.file_meta.TransferSyntaxUID), attrs, frames, expected,
                  header=header)


_SOURCES: dict[str, Source] = {}
SOURCE_NAMES = ["rle", "jpegls", "j2k", "corpus-rle", "corpus-j2k"]


def get_source(name) -> Source:
    if name not in _SOURCES:
        if name == "corpus-rle":
            _SOURCES[name] = corpus_source(name, "emri_small_RLE.dcm", "pydicom", 64)
        elif name == "corpus-j2k":
            _SOURCES[name] = corpus_source(name, "emri_small_jpeg_2k_lossless.dcm",
                                           "pylibjpeg", 4)
        else:
            _SOURCES[name] = encoded_source(name)
    return _SOURCES[name]


@pytest.fixture(params=SOURCE_NAMES)
def source(request) -> Source:
    return get_source(request.param)


@pytest.fixture(params=["rle", "jpegls", "j2k"])
def encoded(request) -> Source:
    return get_source(request.param)


# ---- the files ---------------------------------------------------------------------------

def dataset_elements(src: Source, frames: int | None) -> bytes:
    a = src.attrs
    out = element(0x00280002, "US", us(a["samples_per_pixel"]))
    out += element(0x00280004, "CS", text(a["photometric_interpretation"]))
    if a["samples_per_pixel"] > 1:
        out += element(0x00280006, "US", us(0))
    if frames is not None:
        out += element(0x00280008, "IS", text(str(frames)))
    out += element(0x00280010, "US", us(a["rows"]))
    out += element(0x00280011, "US", us(a["columns"]))
    out += element(0x00280100, "US", us(a["bits_allocated"]))
    out += element(0x00280101, "US", us(a["bits_stored"]))
    out += element(0x00280102, "US", us(a["bits_stored"] - 1))
    out += element(0x00280103, "US", us(a["pixel_representation"]))
    return out


def hand_file(src: Source, fragments: list[bytes], *, bot: bytes = b"",
              frames: int | None = -1, eot: bytes | None = None) -> bytes:
    """A file laid out byte by byte: `fragments` as given (no padding added), `bot` as the
    Basic Offset Table item's value, `eot` as (7FE0,0001). frames=-1: as many as the source
    has; None: no Number of Frames."""
    count = len(src.frames) if frames == -1 else frames
    body = dataset_elements(src, count)
    if eot is not None:
        body += element(0x7FE00001, "OV", eot)
    body += encapsulated_pixel_data(*fragments, bot=bot)
    return preamble() + file_meta(src.uid) + body


def pydicom_file(src: Source, pixel_data: bytes, *, eot: tuple[bytes, bytes] | None = None,
                 frames: int | None = None) -> bytes:
    """A file written by pydicom around an encapsulated Pixel Data value."""
    ds = new_dataset(src.uid, entropy=src.name)
    a = src.attrs
    set_image_pixel(ds, rows=a["rows"], columns=a["columns"],
                    dtype=f"{'i' if a['pixel_representation'] else 'u'}{a['bits_allocated'] // 8}",
                    samples_per_pixel=a["samples_per_pixel"],
                    frames=len(src.frames) if frames is None else frames,
                    bits_stored=a["bits_stored"], photometric=a["photometric_interpretation"])
    ds.PixelData = pixel_data
    if eot is not None:
        ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = eot
    return dicom_bytes(ds)


def split(data: bytes, sizes: list[int]) -> list[bytes]:
    """`data` cut into pieces of the given (even) sizes, the rest last."""
    pieces, start = [], 0
    for size in sizes:
        pieces.append(data[start:start + size])
        start += size
    pieces.append(data[start:])
    assert all(pieces) and b"".join(pieces) == data
    return pieces


def even_cuts(data: bytes, parts: int) -> list[bytes]:
    step = max(2, (len(data) // parts) & ~1)
    return split(data, [step] * (parts - 1))


def layout(groups: list[list[bytes]]) -> tuple[list[bytes], bytes]:
    """Fragments of frames (one list per frame) -> flat fragments and the matching BOT."""
    fragments, offsets, position = [], [], 0
    for group in groups:
        offsets.append(position)
        for fragment in group:
            fragments.append(fragment)
            position += 8 + len(fragment)
    return fragments, ul(*offsets)


def pixel_value_offset(f) -> int:
    return int(f.elements["offset"][f.dataset.element_index(TAG_PIXEL_DATA)])


def fragment_value_offsets(f) -> list[int]:
    el = f.elements
    items = el[el["parent"] == f.dataset.element_index(TAG_PIXEL_DATA)]
    return [int(o) for o in items["offset"][1:]]


def check_frames(data: bytes, src: Source, rule: str) -> dicomframes.DicomFile:
    """The file decodes to the source's arrays, its frames located by `rule`."""
    f = dicomframes.open(data)
    assert f.describe()["frame location"] == rule, f.describe()
    assert len(f) == len(src.frames)
    for k in range(len(f)):
        np.testing.assert_array_equal(f[k], src.expected[k], err_msg=f"frame {k}")
        # the codestream is the frame's, padding included
        assert bytes(f.encoded_frame(k)).startswith(src.frames[k])
    np.testing.assert_array_equal(f.frames(), src.expected)
    np.testing.assert_array_equal(f.frames([4, 0, 2, 2]), src.expected[[4, 0, 2, 2]])
    return f


# ---- offset tables and layouts written by pydicom --------------------------------------

def test_pydicom_encapsulate_with_bot(source):
    data = pydicom_file(source, encapsulate(source.frames, has_bot=True))
    f = check_frames(data, source, BOT_RULE)
    assert f.describe()["fragments"] == f"{len(source.frames)}, basic offset table " \
                                        f"({len(source.frames)} entries)"
    for k, frame in enumerate(source.padded):
        encoded = f.encoded_frame(k)
        assert isinstance(encoded, memoryview) and encoded.obj is data
        assert encoded == frame


def test_pydicom_encapsulate_without_bot(source):
    data = pydicom_file(source, encapsulate(source.frames, has_bot=False))
    f = check_frames(data, source, ONE_EACH_RULE)
    assert f.describe()["fragments"].endswith("no offset table")
    for k, frame in enumerate(source.padded):
        assert f.encoded_frame(k) == frame


def test_pydicom_encapsulate_extended(source):
    pixel_data, eot, eot_lengths = encapsulate_extended(source.frames)
    data = pydicom_file(source, pixel_data, eot=(eot, eot_lengths))
    f = check_frames(data, source, EOT_RULE)
    assert f.describe()["fragments"].endswith("extended offset table")
    for k, frame in enumerate(source.padded):
        assert isinstance(f.encoded_frame(k), memoryview)
        assert f.encoded_frame(k) == frame


@pytest.mark.parametrize("pieces", [2, 3])
@pytest.mark.parametrize("has_bot", [True, False], ids=["bot", "no-bot"])
def test_pydicom_fragmented_frames(source, pieces, has_bot):
    """Frames over 2-3 fragments: the BOT places them, else their start markers."""
    data = pydicom_file(source, encapsulate(source.frames, fragments_per_frame=pieces,
                                            has_bot=has_bot))
    f = check_frames(data, source, BOT_RULE if has_bot else MARKER_RULE)
    assert f.describe()["fragments"].startswith(f"{pieces * len(source.frames)},")
    for k, frame in enumerate(source.padded):
        encoded = f.encoded_frame(k)
        assert isinstance(encoded, bytes), "a frame over several fragments is gathered"
        assert encoded == frame


# ---- layouts by hand ------------------------------------------------------------------------

@pytest.mark.parametrize("has_bot", [True, False], ids=["bot", "no-bot"])
def test_uneven_fragment_counts(source, has_bot):
    """Frames over 1, 3, 2, 1, 2 ... fragments of various sizes."""
    counts = [(1, 3, 2)[k % 3] for k in range(len(source.frames))]
    groups = [even_cuts(frame, n) for frame, n in zip(source.padded, counts)]
    fragments, bot = layout(groups)
    f = check_frames(hand_file(source, fragments, bot=bot if has_bot else b""), source,
                     BOT_RULE if has_bot else MARKER_RULE)
    for k, n in enumerate(counts):
        assert isinstance(f.encoded_frame(k), memoryview if n == 1 else bytes)


@pytest.mark.parametrize("has_bot", [True, False], ids=["bot", "no-bot"])
def test_single_frame_over_many_fragments(source, has_bot):
    one = Source(source.name, source.uid, source.attrs, source.frames[:1],
                 source.expected[:1])
    fragments = even_cuts(source.padded[0], 7)
    f = dicomframes.open(hand_file(one, fragments, bot=ul(0) if has_bot else b"", frames=1))
    assert f.describe()["frame location"] == (BOT_RULE if has_bot else SINGLE_RULE)
    np.testing.assert_array_equal(f[0], source.expected[0])
    assert f.encoded_frame(0) == source.padded[0]
    # Number of Frames absent: a single frame too
    f = dicomframes.open(hand_file(one, fragments, frames=None))
    assert f.describe()["frame location"] == SINGLE_RULE
    np.testing.assert_array_equal(f[0], source.expected[0])


def test_trailing_empty_fragment(source):
    """A writer's empty fragment after the last frame joins the last frame."""
    fragments = source.padded + [b""]
    f = check_frames(hand_file(source, fragments), source, MARKER_RULE)
    assert f.encoded_frame(len(source.frames) - 1) == source.padded[-1]


def odd_frames(src: Source) -> Source:
    """Five frames like the source's, three of them odd-length codestreams (re-encoded
    with a few bits flipped until enough are odd)."""
    if "odd" in src.cache:
        return src.cache["odd"]
    plugin = {RLE: "pydicom", JLS: "pyjpegls", J2K: "pylibjpeg"}[src.uid]
    rng = np.random.default_rng(7)
    odd: list = []
    even: list = []
    for attempt in range(300):
        array = src.expected[attempt % len(src.expected)].copy()
        flat = array.reshape(-1)
        flat[rng.integers(0, flat.size, 3)] ^= 1
        (cs,) = encode(src.uid, plugin, [array], src.attrs)
        (odd if len(cs) % 2 else even).append((cs, array))
        if len(odd) >= 3 and len(even) >= 2:
            break
    assert len(odd) >= 3 and len(even) >= 2, "cannot make odd-length codestreams"
    chosen = [odd[0], even[0], odd[1], even[1], odd[2]]
    result = Source(src.name + "-odd", src.uid, src.attrs, [cs for cs, _ in chosen],
                    np.stack([a for _, a in chosen]))
    src.cache["odd"] = result
    return result


@pytest.mark.parametrize("name", ["jpegls", "j2k"])
def test_odd_length_codestreams_padded_with_zero(name):
    """Odd codestreams sit in even fragments with a trailing 0x00: each layout decodes them
    and encoded_frame hands back the fragment, pad byte included."""
    src = odd_frames(get_source(name))
    for k, cs in enumerate(src.frames):
        assert src.padded[k] == (cs + b"\x00" if len(cs) % 2 else cs)
    check_frames(pydicom_file(src, encapsulate(src.frames, has_bot=True)), src, BOT_RULE)
    check_frames(pydicom_file(src, encapsulate(src.frames, has_bot=False)), src,
                 ONE_EACH_RULE)
    pixel_data, eot, lengths = encapsulate_extended(src.frames)
    check_frames(pydicom_file(src, pixel_data, eot=(eot, lengths)), src, EOT_RULE)
    # split: only the last piece of a frame is odd, and padded
    groups = [split(frame, [2 * (len(frame) // 6)] * 2) for frame in src.padded]
    fragments, bot = layout(groups)
    for has_bot in (True, False):
        f = check_frames(hand_file(src, fragments, bot=bot if has_bot else b""), src,
                         BOT_RULE if has_bot else MARKER_RULE)
        for k, cs in enumerate(src.frames):
            encoded = f.encoded_frame(k)
            assert len(encoded) % 2 == 0
            assert encoded == src.padded[k]
            np.testing.assert_array_equal(
                decode_frame(encoded, src.uid, **src.attrs), src.expected[k])


@pytest.mark.parametrize("name", ["jpegls", "j2k"])
def test_unpadded_odd_fragments_decode_or_raise(name):
    """Odd item lengths break PS3.5 (items are even). Reading them as declared is allowed;
    wrong pixels or a foreign exception are not."""
    src = odd_frames(get_source(name))
    try:
        f = dicomframes.open(hand_file(src, src.frames))
        stack = f.frames()
    except DicomFramesError:
        return
    np.testing.assert_array_equal(stack, src.expected)


# ---- offset tables that are wrong ----------------------------------------------------------

def wrong_tables(offsets: list[int]) -> dict[str, bytes]:
    """Basic Offset Tables that must not be trusted, from the right `offsets`."""
    n = len(offsets)
    return {
        "too-few-entries": ul(*offsets[:-1]),
        "too-many-entries": ul(*offsets, offsets[-1] + 2),
        "not-starting-at-0": ul(*[o + 8 for o in offsets]),
        "first-entry-nonzero": ul(offsets[1], *offsets[1:]),
        "decreasing": ul(0, *offsets[2:], offsets[1]),
        "repeated": ul(0, 0, *offsets[2:]),
        "mid-fragment": ul(0, offsets[1] + 2, *offsets[2:]),
        "past-the-end": ul(*offsets[:-1], offsets[-1] + 1_000_000),
        "length-not-multiple-of-4": ul(*offsets) + b"\x00\x00",
        "all-zero": bytes(4 * n),
    }


WRONG_TABLES = list(wrong_tables([0, 10, 20, 30, 40]))


@pytest.mark.parametrize("kind", WRONG_TABLES)
def test_wrong_bot_one_fragment_per_frame(source, kind):
    fragments = source.padded
    _, right = layout([[f] for f in fragments])
    offsets = list(np.frombuffer(right, "<u4"))
    bot = wrong_tables([int(o) for o in offsets])[kind]
    check_frames(hand_file(source, fragments, bot=bot), source, ONE_EACH_RULE)


@pytest.mark.parametrize("kind", WRONG_TABLES)
def test_wrong_bot_split_frames_recovered_by_markers(source, kind):
    groups = [even_cuts(frame, 2 + k % 2) for k, frame in enumerate(source.padded)]
    fragments, right = layout(groups)
    bot = wrong_tables([int(o) for o in np.frombuffer(right, "<u4")])[kind]
    check_frames(hand_file(source, fragments, bot=bot), source, MARKER_RULE)


@pytest.mark.parametrize("kind", ["not-starting-at-0", "too-many-entries",
                                  "length-not-multiple-of-4"])
def test_wrong_bot_single_frame(source, kind):
    one = Source(source.name, source.uid, source.attrs, source.frames[:1],
                 source.expected[:1])
    fragments = even_cuts(source.padded[0], 3)
    bot = {"not-starting-at-0": ul(8), "too-many-entries": ul(0, 16),
           "length-not-multiple-of-4": b"\x00\x00"}[kind]
    f = dicomframes.open(hand_file(one, fragments, bot=bot, frames=1))
    assert f.describe()["frame location"] == SINGLE_RULE
    np.testing.assert_array_equal(f[0], source.expected[0])


def ambiguous_groups(src: Source) -> list[list[bytes]]:
    """Frame 2's first fragment is too short to show its start marker (a legal cut), so the
    marker rule finds one frame too few: only a right offset table places these frames."""
    groups = [even_cuts(frame, 2) for frame in src.padded]
    groups[2] = split(src.padded[2], [2])
    return groups


@pytest.mark.parametrize("kind", WRONG_TABLES + ["empty"])
def test_wrong_bot_unrecoverable(source, kind):
    fragments, right = layout(ambiguous_groups(source))
    # a right BOT places them
    check_frames(hand_file(source, fragments, bot=right), source, BOT_RULE)
    bot = b"" if kind == "empty" else wrong_tables(
        [int(o) for o in np.frombuffer(right, "<u4")])[kind]
    f = dicomframes.open(hand_file(source, fragments, bot=bot))
    start = pixel_value_offset(f)
    with pytest.raises(PixelDataError) as info:
        f[0]
    exc = info.value
    assert exc.tag == TAG_PIXEL_DATA
    assert exc.offset == start
    message = str(exc)
    assert "Pixel Data" in message and f"offset {start}" in message
    assert ("empty Basic Offset Table" if kind == "empty"
            else "Basic Offset Table unusable") in message
    assert "fewer fragments than frames start with a marker" in message
    assert f.describe()["frame location"].startswith("not found")
    for call in (lambda: f.frames(), lambda: f.encoded_frame(1), lambda: f[4]):
        with pytest.raises(PixelDataError):
            call()


def test_too_many_markers_for_the_declared_frames(source):
    """Number of Frames smaller than the frames present (no table): ambiguous, so an error
    rather than a guess."""
    fragments = [p for frame in source.padded for p in even_cuts(frame, 2)]
    f = dicomframes.open(hand_file(source, fragments, frames=3))
    with pytest.raises(PixelDataError, match="more fragments than frames start with a marker"):
        f[0]


# ---- Extended Offset Table that is wrong ---------------------------------------------------

def u64(*values: int) -> bytes:
    return np.array(values, "<u8").tobytes()


@pytest.mark.parametrize("kind", ["too-few-entries", "not-starting-at-0", "decreasing",
                                  "mid-fragment", "length-not-multiple-of-8"])
@pytest.mark.parametrize("with_bot", [True, False], ids=["bot", "no-bot"])
def test_wrong_eot_falls_back(encoded, kind, with_bot):
    src = encoded
    groups = [even_cuts(frame, 2) for frame in src.padded]
    fragments, right = layout(groups)
    offsets = [int(o) for o in np.frombuffer(right, "<u4")]
    eot = {"too-few-entries": u64(*offsets[:-1]),
           "not-starting-at-0": u64(*[o + 8 for o in offsets]),
           "decreasing": u64(0, *offsets[2:], offsets[1]),
           "mid-fragment": u64(0, offsets[1] + 2, *offsets[2:]),
           "length-not-multiple-of-8": u64(*offsets) + b"\x00" * 4}[kind]
    data = hand_file(src, fragments, bot=right if with_bot else b"", eot=eot)
    check_frames(data, src, BOT_RULE if with_bot else MARKER_RULE)


def test_eot_by_hand_wins_over_bot(encoded):
    """Both tables right: the Extended Offset Table is used."""
    groups = [even_cuts(frame, 2) for frame in encoded.padded]
    fragments, right = layout(groups)
    eot = u64(*[int(o) for o in np.frombuffer(right, "<u4")])
    check_frames(hand_file(encoded, fragments, bot=right, eot=eot), encoded, EOT_RULE)
    check_frames(hand_file(encoded, fragments, eot=eot), encoded, EOT_RULE)


def test_eot_pointing_mid_fragment_ambiguous_layout(encoded):
    fragments, right = layout(ambiguous_groups(encoded))
    offsets = [int(o) for o in np.frombuffer(right, "<u4")]
    f = dicomframes.open(hand_file(encoded, fragments, eot=u64(0, offsets[1] + 2,
                                                                *offsets[2:])))
    with pytest.raises(PixelDataError, match="Extended Offset Table unusable"):
        f.frames()


# ---- too few fragments, damaged frames, indices ------------------------------------------

@pytest.mark.parametrize("extra", [1, 5])
@pytest.mark.parametrize("has_bot", [True, False], ids=["bot", "no-bot"])
def test_more_frames_than_fragments(source, extra, has_bot):
    fragments, bot = layout([[f] for f in source.padded])
    frames = len(source.frames) + extra
    f = dicomframes.open(hand_file(source, fragments, bot=bot if has_bot else b"",
                                   frames=frames))
    assert len(f) == frames
    start = pixel_value_offset(f)
    with pytest.raises(PixelDataError) as info:
        f[0]
    assert info.value.tag == TAG_PIXEL_DATA and info.value.offset == start
    assert f"Number of Frames is {frames}" in str(info.value)
    assert f"offset {start}" in str(info.value)
    assert f.describe()["frame location"].startswith("not found")


def damage(src: Source, frame: bytes) -> bytes:
    """The frame cut short after its header's start: still found by its start marker, not
    decodable."""
    keep = src.header + 20 if src.uid == RLE else 40
    return frame[:keep]


@pytest.mark.parametrize("split_frames", [False, True], ids=["whole", "split"])
@pytest.mark.parametrize("has_bot", [True, False], ids=["bot", "no-bot"])
def test_corrupt_frame_3(source, split_frames, has_bot):
    """The error names frame 3 and the offset of its (first) fragment."""
    frames = list(source.padded)
    frames[3] = damage(source, frames[3])
    if split_frames:  # the last 20 bytes in a fragment of their own
        groups = [split(frame, [len(frame) - 20]) for frame in frames]
    else:
        groups = [[frame] for frame in frames]
    fragments, bot = layout(groups)
    f = dicomframes.open(hand_file(source, fragments, bot=bot if has_bot else b""))
    assert f.describe()["frame location"] == (
        BOT_RULE if has_bot else MARKER_RULE if split_frames else ONE_EACH_RULE)
    offset = fragment_value_offsets(f)[sum(len(g) for g in groups[:3])]
    for k in (0, 1, 2, 4):
        np.testing.assert_array_equal(f[k], source.expected[k])
    with pytest.raises(DicomFramesError) as info:
        f[3]
    exc = info.value
    assert isinstance(exc, (CodecError, PixelDataError, dicomframes.TruncatedError)), exc
    assert exc.frame == 3
    assert exc.offset == offset
    assert exc.tag == TAG_PIXEL_DATA
    assert "frame 3" in str(exc) and f"offset {offset}" in str(exc)
    with pytest.raises(DicomFramesError, match="frame 3"):
        f.frames()
    with pytest.raises(DicomFramesError):
        decode_frame(f.encoded_frame(3), source.uid, **source.attrs)
    # the good frames are still fine after the failure
    np.testing.assert_array_equal(f.frames([0, 4]), source.expected[[0, 4]])


@pytest.mark.parametrize("has_bot", [True, False], ids=["bot", "no-bot"])
def test_frame_after_the_last(source, has_bot):
    fragments, bot = layout([[f] for f in source.padded])
    f = dicomframes.open(hand_file(source, fragments, bot=bot if has_bot else b""))
    n = len(source.frames)
    np.testing.assert_array_equal(f[n - 1], source.expected[-1])
    np.testing.assert_array_equal(f[-n], source.expected[0])
    for call in (lambda: f[n], lambda: f.frame(n), lambda: f.encoded_frame(n),
                 lambda: f.frames([0, n]), lambda: f[-n - 1], lambda: f.frame(10**9),
                 lambda: f.encoded_frame(-n - 1)):
        with pytest.raises(IndexError):
            call()


@pytest.mark.parametrize("name, change", [
    ("jpegls", {"rows": 36}), ("jpegls", {"columns": 29}),
    ("jpegls", {"samples_per_pixel": 1, "photometric_interpretation": "MONOCHROME2"}),
    ("j2k", {"rows": 42}), ("j2k", {"columns": 31}),
    ("j2k", {"samples_per_pixel": 3, "photometric_interpretation": "RGB"}),
    ("j2k", {"bits_allocated": 8, "bits_stored": 8}),
    ("rle", {"rows": 23}), ("rle", {"bits_allocated": 8, "bits_stored": 8}),
    ("rle", {"samples_per_pixel": 3, "photometric_interpretation": "RGB"}),
])
def test_codestream_disagreeing_with_the_dataset(name, change):
    """Frames found, but not what the Image Pixel module describes: a DicomFramesError that
    names the frame and its fragment (never a write past the output)."""
    src = get_source(name)
    wrong = Source(src.name, src.uid, dict(src.attrs, **change), src.frames, src.expected)
    f = dicomframes.open(hand_file(wrong, src.padded))
    offsets = fragment_value_offsets(f)
    for k in (0, 3):
        with pytest.raises(DicomFramesError) as info:
            f[k]
        assert info.value.frame == k and info.value.offset == offsets[k]
        assert f"frame {k}" in str(info.value)


def test_jp2_files_found_by_their_signature_box():
    """Frames stored as JP2 files (signature box, not a bare codestream) split over
    fragments: the JP2 signature counts as the start marker."""
    openjpeg_utils = pytest.importorskip("openjpeg.utils")
    src = get_source("j2k")
    jp2 = [openjpeg_utils.encode_array(a, bits_stored=src.attrs["bits_stored"], codec_format=1)
           for a in src.expected]
    assert all(cs.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") for cs in jp2)
    boxed = Source("jp2", J2K, src.attrs, jp2, src.expected)
    fragments, bot = layout([even_cuts(frame, 2) for frame in boxed.padded])
    check_frames(hand_file(boxed, fragments), boxed, MARKER_RULE)
    check_frames(hand_file(boxed, fragments, bot=bot), boxed, BOT_RULE)
