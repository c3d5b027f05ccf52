"""Lazy fragment indexing: opening a file whose compressed Pixel Data has a usable offset
table does not walk its fragments; frame k is located from the table by reading only frame
k's item headers; whatever needs the whole element list completes the scan first.

Each test here would fail on an eager scanner: either it inspects the index right after
open() (``DicomFile._index.complete`` / ``.indexed``), or it reads a file that an eager scan
rejects at open (garbage or a cut after the first frame). The eager answer is always at
hand for comparison: ``_scan.scan(data)`` (not lazy) indexes everything, as open() did.

Frames are compared with the arrays they were encoded from (see test_frame_location.py).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import dicomframes
from dicomframes import DicomFramesError, MalformedError, PixelDataError, TruncatedError
from dicomframes import _scan
from dicomframes._core import FLAG_FRAGMENT

pytest.importorskip("pydicom")
from pydicom.encaps import encapsulate, encapsulate_extended  # noqa: E402

from conftest import manifest_entries, CORPUS  # noqa: E402
from dicom_bytes import element, encapsulated_pixel_data, item, seq, ul  # noqa: E402
from test_frame_location import (  # noqa: E402
    BOT_RULE,
    EOT_RULE,
    MARKER_RULE,
    ONE_EACH_RULE,
    WRONG_TABLES,
    dataset_elements,
    even_cuts,
    file_meta,
    get_source,
    hand_file,
    layout,
    preamble,
    pydicom_file,
    u64,
    wrong_tables,
)

TAG_PIXEL_DATA = 0x7FE00010
NAMES = ["rle", "jpegls", "j2k"]


def fragment_rows(index) -> int:
    """Fragments (offset table included) in what the index holds so far, without
    completing it."""
    return sum(1 for i in range(index.indexed) if index.record(i).flags & FLAG_FRAGMENT)


def eager_elements(data: bytes) -> np.ndarray:
    return _scan.scan(memoryview(data)).array()


def assert_lazy(f, fragments_expected: int = 1) -> None:
    assert not f._index.complete
    assert fragment_rows(f._index) == fragments_expected


def split_frames_file(src, *, bot: bool = True, eot: bool = False,
                      eot_offsets: list[int] | None = None) -> bytes:
    """Frames 0, 2, 4 in one fragment, 1 and 3 in two: a BOT and/or an Extended Offset
    Table with its lengths (`eot_offsets`: instead of the right offsets) places them."""
    groups = [even_cuts(frame, 2) if k % 2 else [frame] for k, frame in enumerate(src.padded)]
    fragments, right = layout(groups)
    body = dataset_elements(src, len(src.frames))
    if eot:
        offsets = eot_offsets or np.frombuffer(right, "<u4").tolist()
        lengths = [sum(8 + len(p) for p in g) for g in groups]
        body += element(0x7FE00001, "OV", u64(*offsets))
        body += element(0x7FE00002, "OV", u64(*lengths))
    body += encapsulated_pixel_data(*fragments, bot=right if bot else b"")
    return preamble() + file_meta(src.uid) + body


# ---- open() stops at the offset table ------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("table", ["bot", "eot", "both"])
def test_open_reads_no_fragment_and_frames_need_none(name, table):
    src = get_source(name)
    data = split_frames_file(src, bot=table != "eot", eot=table != "bot")
    with dicomframes.open(data) as f:
        assert_lazy(f)
        for k in (3, 0, 4, 1, 2):  # out of order, split frames included
            np.testing.assert_array_equal(f[k], src.expected[k], err_msg=f"frame {k}")
            assert bytes(f.encoded_frame(k)) == src.padded[k]
        np.testing.assert_array_equal(f.frames(), src.expected)
        assert_lazy(f)  # decoding every frame still indexed no fragment
        # now the full list, exactly as an eager scan gives it
        assert f.describe()["frame location"] == (BOT_RULE if table == "bot" else EOT_RULE)
        assert f._index.complete
        np.testing.assert_array_equal(f.elements, eager_elements(data))
        np.testing.assert_array_equal(f.frames(), src.expected)


@pytest.mark.parametrize("name", NAMES)
def test_pydicom_written_tables(name):
    """pydicom's own layouts: encapsulate(has_bot=True) and encapsulate_extended."""
    src = get_source(name)
    with_bot = pydicom_file(src, encapsulate(src.frames, has_bot=True))
    pixel_data, offsets, lengths = encapsulate_extended(src.frames)
    with_eot = pydicom_file(src, pixel_data, eot=(offsets, lengths))
    for data, rule in ((with_bot, BOT_RULE), (with_eot, EOT_RULE)):
        f = dicomframes.open(data)
        assert_lazy(f)
        np.testing.assert_array_equal(f[len(f) - 1], src.expected[-1])
        np.testing.assert_array_equal(f.frames(), src.expected)
        assert_lazy(f)
        assert f.describe()["frame location"] == rule
        np.testing.assert_array_equal(f.elements, eager_elements(data))


@pytest.mark.parametrize("name", NAMES)
def test_no_usable_table_walks_at_open(name):
    """Empty BOT, and an EOT without its lengths: nothing to stop for, the scan is eager."""
    src = get_source(name)
    fragments, right = layout([[f] for f in src.padded])
    for data in (hand_file(src, fragments),
                 hand_file(src, fragments, eot=u64(*np.frombuffer(right, "<u4").tolist()))):
        f = dicomframes.open(data)
        assert f._index.complete
        assert fragment_rows(f._index) == len(fragments) + 1
        np.testing.assert_array_equal(f.frames(), src.expected)


def test_many_fragments_in_one_frame():
    """More fragments in a frame than the walk's first pass has room for (16)."""
    src = get_source("rle")
    groups = [[frame] for frame in src.padded]
    groups[2] = even_cuts(src.padded[2], 40)
    fragments, bot = layout(groups)
    f = dicomframes.open(hand_file(src, fragments, bot=bot))
    assert_lazy(f)
    offsets, lengths = f._frames().fragments_of(2)
    assert len(offsets) == len(groups[2]) > 16
    assert lengths == [len(p) for p in groups[2]]
    np.testing.assert_array_equal(f[2], src.expected[2])
    assert bytes(f.encoded_frame(2)) == src.padded[2]
    assert_lazy(f)


def test_odd_lengths_and_trailing_empty_fragment():
    """Unpadded odd fragments (walks follow the item lengths as written) and an empty
    last fragment, which belongs to the last frame as in the eager rules."""
    src = get_source("jpegls")
    frames = [f if len(f) % 2 else f + b"\x00\x00\x00" for f in src.frames]  # all odd
    fragments, bot = layout([[f] for f in frames[:-1]] + [[frames[-1], b""]])
    data = hand_file(src, fragments, bot=bot)
    f = dicomframes.open(data)
    assert_lazy(f)
    assert f._frames().fragments_of(4)[1] == [len(frames[-1]), 0]
    np.testing.assert_array_equal(f.frames(), src.expected)
    assert f.describe()["frame location"] == BOT_RULE
    np.testing.assert_array_equal(f.elements, eager_elements(data))


# ---- what needs the whole index completes it -------------------------------------------

def test_elements_after_the_pixel_data():
    """(FFFA,FFFA) Digital Signatures Sequence and (FFFC,FFFC) padding after Pixel Data:
    found (the scan completes); a tag sorting before Pixel Data is answered from the
    prefix."""
    src = get_source("jpegls")
    fragments, bot = layout([[f] for f in src.padded])
    signatures = seq(0xFFFAFFFA, item(element(0x04000100, "UI", b"1.2.3\x00")))
    data = hand_file(src, fragments, bot=bot) + signatures + \
        element(0xFFFCFFFC, "OB", b"\x00" * 6)

    f = dicomframes.open(data)
    assert f.value(0x00080005, None) is None and f.value(0x00280010) == src.attrs["rows"]
    assert f.dataset.element_index(TAG_PIXEL_DATA) is not None
    assert_lazy(f)  # none of that needed more than the header
    assert f.value(0xFFFCFFFC) == b"\x00" * 6
    assert f._index.complete
    [signature] = f.value(0xFFFAFFFA)
    assert signature.value(0x04000100) == "1.2.3"
    np.testing.assert_array_equal(f.elements, eager_elements(data))

    for needs_all in (lambda g: 0xFFFAFFFA in g, lambda g: g.dataset.tags(), lambda g: g.elements,
                      lambda g: g.describe(), lambda g: g._index.items_of(-1)):
        g = dicomframes.open(data)
        assert_lazy(g)
        needs_all(g)
        assert g._index.complete
    g = dicomframes.open(data)
    assert 0xFFFAFFFA in g.dataset.tags() and g.dataset.tags() == f.dataset.tags()
    assert g.describe() == f.describe()
    assert "fragments" not in repr(f) and "Pixel Data fragments" in repr(dicomframes.open(data))


def test_nested_encapsulated_pixel_data_is_indexed_at_open():
    """An Icon Image Sequence's encapsulated Pixel Data (not top level) keeps its fragments
    in the index at open; only the top-level one is left for later."""
    src = get_source("rle")
    fragments, bot = layout([[f] for f in src.padded])
    icon = seq(0x00880200, item(dataset_elements(src, 1) +
                                encapsulated_pixel_data(src.padded[0], bot=ul(0))))
    body = icon + dataset_elements(src, len(src.frames)) + \
        encapsulated_pixel_data(*fragments, bot=bot)
    data = preamble() + file_meta(src.uid) + body
    f = dicomframes.open(data)
    assert_lazy(f, fragments_expected=2 + 1)  # the icon's table and fragment, the top table
    np.testing.assert_array_equal(f.frames(), src.expected)
    [icon_item] = f.value(0x00880200)
    assert icon_item.element_index(TAG_PIXEL_DATA) is not None
    assert_lazy(f, fragments_expected=3)
    np.testing.assert_array_equal(f.elements, eager_elements(data))


def test_closed_before_completion():
    src = get_source("rle")
    fragments, bot = layout([[f] for f in src.padded])
    f = dicomframes.open(hand_file(src, fragments, bot=bot))
    f.close()
    with pytest.raises(ValueError, match="closed"):
        f.elements


# ---- a table that disagrees with the items falls back to the eager rules ------------------

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", WRONG_TABLES)
def test_wrong_bot_decoded_before_describe(name, kind):
    """The frames first, describe() after: whatever the lazy walks met, the frames are the
    right ones and the rule is the one the eager scan reports (test_frame_location.py
    asks in the other order)."""
    src = get_source(name)
    fragments, right = layout([[f] for f in src.padded])
    bot = wrong_tables(np.frombuffer(right, "<u4").tolist())[kind]
    data = hand_file(src, fragments, bot=bot)
    f = dicomframes.open(data)
    for k in reversed(range(len(src.frames))):
        np.testing.assert_array_equal(f[k], src.expected[k], err_msg=f"frame {k}")
    assert f.describe()["frame location"] == ONE_EACH_RULE
    np.testing.assert_array_equal(f.frames(), src.expected)
    np.testing.assert_array_equal(f.elements, eager_elements(data))


@pytest.mark.parametrize("name", NAMES)
def test_mid_fragment_bot_with_split_frames(name):
    """Frame 1's entry lands inside a fragment: its walk fails, every fragment is indexed,
    and the start markers place the frames; frame 0, walked before, agrees."""
    src = get_source(name)
    groups = [even_cuts(frame, 2) for frame in src.padded]
    fragments, right = layout(groups)
    bot = wrong_tables(np.frombuffer(right, "<u4").tolist())["mid-fragment"]
    f = dicomframes.open(hand_file(src, fragments, bot=bot))
    np.testing.assert_array_equal(f[2], src.expected[2])  # entries 2 and 3 are right
    assert_lazy(f)
    np.testing.assert_array_equal(f[0], src.expected[0])  # its walk overshoots entry 1
    assert f._index.complete
    assert f.describe()["frame location"] == MARKER_RULE
    np.testing.assert_array_equal(f.frames(), src.expected)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_eot_with_lengths_falls_back_to_bot(name):
    """Entry 1 of the Extended Offset Table lands inside a fragment: frame 0's walk ends
    past it, every fragment is indexed and the (right) Basic Offset Table places them."""
    src = get_source(name)
    right = dicomframes.open(split_frames_file(src, bot=True, eot=True))
    offsets = np.frombuffer(right.value(0x7FE00001), "<u8").tolist()
    assert offsets[0] == 0 and len(offsets) == len(src.frames)
    bad = [0, offsets[1] + 2, *offsets[2:]]
    f = dicomframes.open(split_frames_file(src, bot=True, eot=True, eot_offsets=bad))
    assert_lazy(f)
    np.testing.assert_array_equal(f[0], src.expected[0])
    assert f._index.complete
    assert f.describe()["frame location"] == BOT_RULE
    np.testing.assert_array_equal(f.frames(), src.expected)


# ---- damage after frame 0: open and frame 0 work, other frames name themselves -------------

@pytest.mark.parametrize("name", NAMES)
def test_garbage_after_the_first_frame(name):
    src = get_source(name)
    fragments, bot = layout([[f] for f in src.padded])
    good = hand_file(src, fragments, bot=bot)
    start = good.index(item(src.padded[0])) + 8 + len(src.padded[0])  # frame 1's item tag
    data = good[:start] + b"\xab" * (len(good) - start)
    with pytest.raises(MalformedError) as eager:
        _scan.scan(memoryview(data))
    assert eager.value.offset == start

    f = dicomframes.open(data)
    assert_lazy(f)
    np.testing.assert_array_equal(f[0], src.expected[0])
    for k in (1, len(src.frames) - 1):
        with pytest.raises(MalformedError) as info:
            f[k]
        exc = info.value
        assert exc.frame == k and exc.offset == start and exc.tag == TAG_PIXEL_DATA
        assert str(exc) == f"frame {k}: {eager.value}"
    np.testing.assert_array_equal(f[0], src.expected[0])  # still, after the failure
    with pytest.raises(MalformedError) as info:
        f.frames()
    assert info.value.frame in (1, len(src.frames) - 1)  # RLE bounds the last one first
    for needs_all in (lambda: f.elements, lambda: len(f._index), f.describe):
        with pytest.raises(MalformedError) as info:
            needs_all()
        assert str(info.value) == str(eager.value) and info.value.offset == start


@pytest.mark.parametrize("name", NAMES)
def test_truncated_inside_the_last_frame(name):
    src = get_source(name)
    fragments, bot = layout([[f] for f in src.padded])
    good = hand_file(src, fragments, bot=bot)
    last = good.rindex(item(src.padded[-1]))
    for cut in (last + 4, last + 8, last + 8 + len(src.padded[-1]) // 2, len(good) - 9):
        data = good[:cut]
        with pytest.raises(TruncatedError) as eager:
            _scan.scan(memoryview(data))
        f = dicomframes.open(data)
        assert_lazy(f)
        np.testing.assert_array_equal(f.frames(range(len(src.frames) - 1)), src.expected[:-1])
        with pytest.raises(TruncatedError) as info:
            f[-1]
        exc = info.value
        assert exc.frame == len(src.frames) - 1 and exc.offset == eager.value.offset
        assert str(exc).startswith(f"frame {exc.frame}: ")
        with pytest.raises(TruncatedError):
            f.frames()
        with pytest.raises(TruncatedError):
            f.describe()


def test_truncated_after_the_last_fragment():
    """No sequence delimiter: every frame is whole and decodes; an eager scan (and so
    anything that needs the whole index) reports the missing delimiter."""
    src = get_source("j2k")
    fragments, bot = layout([[f] for f in src.padded])
    data = hand_file(src, fragments, bot=bot)[:-8]
    with pytest.raises(TruncatedError, match="without a sequence delimiter"):
        _scan.scan(memoryview(data))
    f = dicomframes.open(data)
    np.testing.assert_array_equal(f.frames(), src.expected)
    with pytest.raises(TruncatedError, match="without a sequence delimiter"):
        f.elements


# ---- threads --------------------------------------------------------------------------------

@pytest.mark.parametrize("damaged", [False, True], ids=["whole", "garbage-after-frame-2"])
def test_threads_locate_and_complete_at_once(damaged):
    """Eight threads decode frames of one shared file while others complete its index;
    repeated on fresh files so that the races get a chance."""
    src = get_source("jpegls")
    fragments, bot = layout([[f] for f in src.padded])
    data = hand_file(src, fragments, bot=bot)
    if damaged:
        start = data.index(item(src.padded[3]))
        data = data[:start] + b"\xab" * (len(data) - start)
    for _ in range(20):
        f = dicomframes.open(data)
        barrier = threading.Barrier(10)
        errors: list[BaseException] = []
        results: dict[int, object] = {}

        def decode(k: int) -> None:
            barrier.wait()
            try:
                results[k] = f[k % 5]
            except DicomFramesError as exc:
                results[k] = exc
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def complete() -> None:
            barrier.wait()
            try:
                f.elements
            except DicomFramesError as exc:
                results[-1] = exc

        threads = [threading.Thread(target=decode, args=(k,)) for k in range(8)]
        threads += [threading.Thread(target=complete) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for k in range(8):
            if damaged and k % 5 >= 3:
                assert isinstance(results[k], MalformedError) and results[k].frame == k % 5
            else:
                np.testing.assert_array_equal(results[k], src.expected[k % 5])
        if damaged:
            assert isinstance(results[-1], MalformedError)
        else:
            assert f._index.complete
            np.testing.assert_array_equal(f.elements, eager_elements(data))


# ---- the corpus: lazy and eager agree ---------------------------------------------------------

@pytest.mark.parametrize("entry", manifest_entries("compressed") or [None],
                         ids=lambda e: e["file"] if e else "no-corpus")
def test_corpus_lazy_equals_eager(entry):
    if entry is None:
        pytest.skip("no corpus")
    data = (CORPUS / entry["file"]).read_bytes()
    try:
        eager = _scan.scan(memoryview(data))
    except DicomFramesError as exc:
        try:
            f = dicomframes.open(data)  # a lazy open may get further, completing may not
        except DicomFramesError as at_open:
            assert type(at_open) is type(exc) and str(at_open) == str(exc)
            return
        with pytest.raises(type(exc)) as info:
            f.elements
        assert str(info.value) == str(exc)
        return
    f = dicomframes.open(data)
    if entry.get("bot_entries") or entry.get("extended_offset_table"):
        assert not f._index.complete
    first = None
    try:
        first = f[len(f) - 1]
    except (DicomFramesError, NotImplementedError):
        pass
    np.testing.assert_array_equal(f.elements, eager.array())
    assert f._index.complete
    g = dicomframes.open(data)
    g._index.finish()
    assert f.describe() == g.describe()
    if first is not None:
        np.testing.assert_array_equal(first, g[len(g) - 1])
