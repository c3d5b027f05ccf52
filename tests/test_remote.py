"""Remote and file-object sources (dicomframes.remote): frames read by byte ranges
equal the local decode, and only the header plus the frames asked for move."""

from __future__ import annotations

import io

import numpy as np
import pytest

import dicomframes
from dicomframes import uids
from dicomframes.remote import RangeNotSupportedError
from dicomframes.testing import make_dicom, reencapsulate, serve_ranges

fsspec = pytest.importorskip("fsspec")

FRAMES = 40


def _frames(n: int = FRAMES, rows: int = 64, cols: int = 64) -> np.ndarray:
    rng = np.random.default_rng(13)
    return rng.integers(0, 4096, size=(n, rows, cols), dtype=np.uint16)


def _dicom(arr: np.ndarray, **options: object) -> bytes:
    return make_dicom(arr, frames=len(arr), **options)


@pytest.fixture(scope="module")
def rle_bot() -> bytes:
    return _dicom(_frames(), compress=uids.RLE_LOSSLESS, offset_table="basic")


@pytest.fixture(scope="module")
def native() -> bytes:
    return _dicom(_frames())


def _memory_url(name: str, data: bytes) -> str:
    fs = fsspec.filesystem("memory")
    fs.pipe(f"/dicomframes-test/{name}", data)
    return f"memory://dicomframes-test/{name}"


@pytest.mark.parametrize("kind", ["rle", "native", "rle_none", "extended"])
def test_memory_and_file_objects_equal_local(kind: str, tmp_path, rle_bot, native) -> None:
    data = {"rle": rle_bot, "native": native,
            "rle_none": _dicom(_frames(6), compress=uids.RLE_LOSSLESS, offset_table="none"),
            "extended": _dicom(_frames(6), compress=uids.RLE_LOSSLESS,
                                   offset_table="extended")}[kind]
    with dicomframes.open(data) as local:
        expected = local.frames()
        pick = [len(local) - 1, 0, 2]
    path = tmp_path / "f.dcm"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        sources = [_memory_url(f"{kind}.dcm", data), io.BytesIO(data), handle]
        for source in sources:
            with dicomframes.open(source) as f:
                assert len(f) == len(expected)
                for k in pick:
                    assert np.array_equal(f.frame(k), expected[k]), (source, k)
                assert np.array_equal(f.frames(threads=4), expected)
                assert bytes(f.encoded_frame(1)) == bytes(local_encoded(data, 1))


def local_encoded(data: bytes, k: int) -> bytes:
    with dicomframes.open(data) as f:
        return bytes(f.encoded_frame(k))


def test_small_header_block_grows(rle_bot) -> None:
    from dicomframes.remote import open_source

    with dicomframes.open(rle_bot) as local:
        expected = local.frame(7)
        values = local.value("Rows")
    reader_source = open_source(io.BytesIO(rle_bot), header_block=256)
    f = dicomframes.file.DicomFile(reader_source)
    assert f.value("Rows") == values
    assert np.array_equal(f.frame(7), expected)
    f.close()


def test_bounded_cache(native) -> None:
    from dicomframes.remote import open_source

    with dicomframes.open(native) as local:
        expected = local.frames()
    source = open_source(io.BytesIO(native), max_cache_bytes=3 * 64 * 64 * 2)
    f = dicomframes.file.DicomFile(source)
    for _ in range(2):
        for k in range(len(expected)):
            assert np.array_equal(f.frame(k), expected[k])
    assert source._cached <= 3 * 64 * 64 * 2
    f.close()


def test_damage_and_elements_fetch_the_rest(rle_bot) -> None:
    with dicomframes.open(rle_bot) as local:
        rows = len(local.elements)
    with dicomframes.open(io.BytesIO(rle_bot)) as f:
        assert f.damage is None
        assert len(f.elements) == rows


def test_not_dicom_names_the_url() -> None:
    url = _memory_url("bad.dcm", b"\x01\x80" * 100)
    with pytest.raises(dicomframes.DicomFramesError, match="memory://"):
        dicomframes.open(url)


def test_missing_url_is_a_plain_os_error() -> None:
    with pytest.raises(FileNotFoundError):
        dicomframes.open("memory://dicomframes-test/absent.dcm")


# ---- over HTTP ---------------------------------------------------------------


_serve = serve_ranges


needs_aiohttp = pytest.mark.skipif(
    not __import__("importlib").util.find_spec("aiohttp"), reason="fsspec's HTTP needs aiohttp")

# fsspec's HTTP: no block cache, so the bytes sent are the bytes asked for.
_HTTP_OPTIONS = {"block_size": 0}


@needs_aiohttp
def test_http_one_frame_moves_header_and_its_fragment(rle_bot) -> None:
    k = 17
    with dicomframes.open(rle_bot) as local:
        expected = local.frame(k)
        fragment = len(local.encoded_frame(k))
        resume = local._index.array()  # noqa: F841  (complete the local index)
    with dicomframes.open(rle_bot) as lazy_local:
        bot = lazy_local._index.record(lazy_local.pixel_data_element + 1)
        header = bot.offset + bot.length
    with _serve(rle_bot) as (url, sent):
        with dicomframes.open(url, storage_options=_HTTP_OPTIONS) as f:
            opened = sent[0]
            got = f.frame(k)
            moved = sent[0]
    assert np.array_equal(got, expected)
    assert len(rle_bot) > 4 * moved
    # the header block (64 KiB, or the file if smaller) + frame k's fragment + item header
    assert opened <= max(header, min(64 * 1024, len(rle_bot)))
    assert moved - opened <= fragment + 16


@needs_aiohttp
def test_http_large_file_bytes_moved(tmp_path) -> None:
    frames = _frames(200, 128, 128)
    data = _dicom(frames, compress=uids.RLE_LOSSLESS, offset_table="basic")
    with dicomframes.open(data) as local:
        fragment = len(local.encoded_frame(150))
        expected = local.frame(150)
    with _serve(data) as (url, sent):
        with dicomframes.open(url, storage_options=_HTTP_OPTIONS) as f:
            opened = sent[0]
            assert np.array_equal(f.frame(150), expected)
            moved = sent[0]
    assert opened <= 64 * 1024
    assert moved - opened <= fragment + 16
    assert moved < len(data) / 10


@needs_aiohttp
def test_http_native_one_frame(native) -> None:
    with dicomframes.open(native) as local:
        expected = local.frame(35).copy()
    with _serve(native) as (url, sent):
        with dicomframes.open(url, storage_options=_HTTP_OPTIONS) as f:
            opened = sent[0]
            assert np.array_equal(f.frame(35), expected)
            assert opened <= 64 * 1024 and sent[0] - opened == expected.nbytes


@needs_aiohttp
def test_http_without_range_support_says_so(rle_bot) -> None:
    with _serve(rle_bot, ranges=False) as (url, _):
        with pytest.raises(RangeNotSupportedError, match="range requests"):
            with dicomframes.open(url, storage_options=_HTTP_OPTIONS) as f:
                f.frame(3)
        with dicomframes.open(url, storage_options=_HTTP_OPTIONS, download=True) as f:
            with dicomframes.open(rle_bot) as local:
                assert np.array_equal(f.frame(3), local.frame(3))


def _outcome(source: object, k: int) -> tuple[str, object]:
    try:
        with dicomframes.open(source, storage_options=_HTTP_OPTIONS) if isinstance(
                source, str) else dicomframes.open(source) as f:
            return "ok", f.frame(k, copy=True).tobytes()
    except dicomframes.DicomFramesError as exc:
        return type(exc).__name__, str(exc).split("f.dcm: ")[-1]


@needs_aiohttp
@pytest.mark.filterwarnings("ignore::dicomframes.DicomFramesWarning")
@pytest.mark.parametrize("kind", ["rle_bot", "rle_none", "native"])
def test_http_file_cut_short_fails_as_the_local_file(kind: str, rle_bot, native) -> None:
    data = {"rle_bot": rle_bot, "native": native,
            "rle_none": _dicom(_frames(), compress=uids.RLE_LOSSLESS, offset_table="none")}[kind]
    cut = data[:len(data) * 3 // 5]
    with _serve(cut) as (url, _):
        for k in (0, FRAMES - 1):
            local = _outcome(cut, k)
            assert _outcome(url, k) == local, (kind, k)
    # Frame 0 is whole, but without a table locating it needs the full fragment list.
    assert _outcome(cut, 0)[0] == ("TruncatedError" if kind == "rle_none" else "ok")
    assert _outcome(cut, FRAMES - 1)[0] in ("TruncatedError", "PixelDataError")


def test_values_after_the_pixel_data_are_fetched_first() -> None:
    """A value stored after the Pixel Data completes the lazy scan, which must read
    fetched bytes, not the zeros of the sparse mapping."""
    from dicomframes.testing import dicom_bytes, make_dataset

    ds = make_dataset(_frames(), frames=FRAMES, compress=uids.RLE_LOSSLESS, offset_table="basic")
    assert len(dicom_bytes(ds)) > 4 * 65536  # the tail is beyond the first header block
    ds.add_new(0x7FE10010, "LO", "DICOMFRAMES TEST")
    ds.add_new(0x7FE11001, "LO", "after the pixels")
    data = dicom_bytes(ds)
    with dicomframes.open(io.BytesIO(data)) as f:
        assert f.value(0x7FE11001) == "after the pixels"
        assert f.damage is None


# ---- without a usable offset table: the fragment walk --------------------------


def _refragment(data: bytes, per_frame: int) -> bytes:
    """`data` (encapsulated, one fragment per frame) with each frame split into
    `per_frame` fragments and no offset table: the start-marker rule places them."""
    return reencapsulate(data, offset_table="none", fragments_per_frame=per_frame)


def _walk_budget(data: bytes) -> tuple[int, int]:
    """(offset of the first fragment item, fragment count) of `data`."""
    with dicomframes.open(data) as f:
        offsets, _ = f._index.fragments(f.pixel_data_element)
        first = f._index.record(f.pixel_data_element + 1)
        return first.offset + first.length, len(offsets) - 1  # less the offset table


@needs_aiohttp
@pytest.mark.parametrize("per_frame", [1, 2])
def test_http_without_offset_table_walks_item_headers(per_frame: int) -> None:
    frames = _frames(120, 128, 128)
    data = _dicom(frames, compress=uids.RLE_LOSSLESS, offset_table="none")
    if per_frame > 1:
        data = _refragment(data, per_frame)
    k = 97
    with dicomframes.open(data) as local:
        expected = local.frame(k)
        frame_bytes = len(local.encoded_frame(k))
        rule = local.frame_location
    header, fragments = _walk_budget(data)
    assert fragments == 120 * per_frame
    with _serve(data) as (url, sent):
        with dicomframes.open(url, storage_options=_HTTP_OPTIONS) as f:
            opened = sent[0]
            assert np.array_equal(f.frame(k), expected)
            assert f.frame_location == rule
            moved = sent[0]
            assert np.array_equal(f.frame(3), frames[3])
    assert opened <= 64 * 1024
    # every item header with the first 64 bytes of its fragment, the delimiter, frame k
    # (its fragments and the item headers between them)
    assert moved - opened <= fragments * (8 + 64) + 8 + frame_bytes + 8 * per_frame
    assert moved < len(data) / 4


def test_walk_small_fragments_reads_several_at_once() -> None:
    """Fragments under 4 KiB: one read takes in the next items too."""
    from dicomframes.remote import open_source

    data = _dicom(np.zeros((300, 16, 16), np.uint8), compress=uids.RLE_LOSSLESS,
                  offset_table="none")
    source = open_source(io.BytesIO(data), header_block=1024)
    f = dicomframes.file.DicomFile(source)
    before = source.reader.requests
    assert np.array_equal(f.frames(), np.zeros((300, 16, 16), np.uint8))
    assert source.reader.requests - before < 300 // 4 + 300  # walk reads + frame reads
    walk_reads = source.reader.requests - before - 300
    assert walk_reads < 300 // 20
    f.close()


@pytest.mark.filterwarnings("ignore::dicomframes.DicomFramesWarning")
@pytest.mark.parametrize("damage", ["cut", "garbage_item", "cut_delimiter"])
def test_walk_meets_damage_as_the_local_scan_does(damage: str) -> None:
    data = _dicom(_frames(8), compress=uids.RLE_LOSSLESS, offset_table="none")
    header, _ = _walk_budget(data)
    if damage == "cut":
        data = data[:len(data) - 3000]
    elif damage == "garbage_item":
        with dicomframes.open(data) as f:
            offsets, _ = f._index.fragments(f.pixel_data_element)
        at = int(offsets[5]) - 8
        data = data[:at] + b"\x10\x00\x10\x00" + data[at + 4:]
    else:
        assert data.endswith(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")
        data = data[:-5]
    outcomes = []
    for source in (data, io.BytesIO(data)):
        try:
            with dicomframes.open(source) as f:
                outcome = ("ok", f.frames().tobytes(), type(f.damage).__name__)
        except dicomframes.DicomFramesError as exc:
            outcome = ("error", type(exc).__name__, str(exc).split(": ", 1)[-1])
        outcomes.append(outcome)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == ("ok" if damage == "cut_delimiter" else "error")



def test_single_frame_without_table_reads_its_fragments_at_once() -> None:
    """One frame in several fragments, no table: every fragment is the frame, so
    one read fetches them (no walk)."""
    from dicomframes.remote import open_source

    image = _frames(1, 256, 256)
    data = _refragment(make_dicom(image[0], compress=uids.RLE_LOSSLESS, offset_table="none"),
                       4)
    assert _walk_budget(data)[1] == 4
    source = open_source(io.BytesIO(data), header_block=1024)
    f = dicomframes.file.DicomFile(source)
    before = source.reader.requests
    assert f.number_of_frames == 1
    assert np.array_equal(f.frame(0), image[0])
    assert source.reader.requests - before == 1
    f.close()


# ---- storage_options travel with the file ---------------------------------------


@needs_aiohttp
def test_storage_options_survive_pickling_and_dask(rle_bot) -> None:
    """A server that wants a token: the token given to open() (storage_options)
    goes with a pickled file and with read_series' tasks."""
    import pickle

    options = {"block_size": 0, "client_kwargs": {"headers": {"Authorization": "t0ken"}}}
    with dicomframes.open(rle_bot) as local:
        expected = local.frames()
    with _serve(rle_bot, token="t0ken") as (url, _):
        with pytest.raises(OSError):
            dicomframes.open(url, storage_options=_HTTP_OPTIONS)
        with dicomframes.open(url, storage_options=options) as f:
            with pickle.loads(pickle.dumps(f)) as again:
                assert np.array_equal(again.frame(5), expected[5])
        dask = pytest.importorskip("dicomframes.dask")
        array = dask.read_series([url, url], storage_options=options, chunks=30)
        got = array.compute(scheduler="threads")
        assert np.array_equal(got, np.concatenate([expected, expected]))


def test_eviction_keeps_what_the_walk_fetched() -> None:
    """Frames evicted from the cache hand their pages back to the OS, except the pages
    holding item headers and fragment starts that the walk fetched: the completed scan
    and the frame location (maybe in another thread) read those."""
    import mmap as mmap_module

    from dicomframes.remote import open_source

    data = _refragment(_dicom(_frames(12, 128, 128), compress=uids.RLE_LOSSLESS,
                              offset_table="none"), 2)
    with dicomframes.open(data) as local:
        expected = local.frames()
        offsets, _ = local._index.fragments(local.pixel_data_element)
    source = open_source(io.BytesIO(data), max_cache_bytes=40_000)
    f = dicomframes.file.DicomFile(source)
    for k in range(len(expected)):  # evicts all but the last frame or so
        assert np.array_equal(f.frame(k), expected[k])
    assert source._walked_pages
    mapped = source._map
    for offset in offsets.tolist()[1:]:  # each item header and fragment start, as fetched
        start = int(offset) - 8
        assert mapped[start:start + 8 + 64] == data[start:start + 8 + 64], start
    # and pages were handed back: inside an evicted fragment past the header block, zeros
    page = mmap_module.PAGESIZE
    middle = (int(offsets[-4]) // page + 2) * page
    assert middle > 64 * 1024
    assert mapped[middle:middle + page] == bytes(page)
    f.close()
