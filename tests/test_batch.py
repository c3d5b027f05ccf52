"""Batch decoding: ``DicomFile.frames(indices, out=, threads=)`` on the library's pool.

* For every corpus file that decodes, ``frames(threads=k)`` (k = 1, 2, 8), with and without
  ``out=``, equals the frames decoded one by one with ``f.frame(k)`` (which the corpus tests
  check against the manifest checksums).
* Indices behave like numpy fancy indexing: negative, repeated, out of range (IndexError).
* A failing frame raises its own error (naming it) after the batch, the first failing frame
  by position, and leaves no pool thread running; a decode that itself asks for threads
  inside a pool thread runs serially instead of deadlocking.
* The pool is created once and reused, grows on demand, and is replaced in a forked child.
* The codecs of the C batch decoder (RLE, JPEG-LS, JPEG 2000, JPEG) decode a batch wholly
  in C (the Python pool is not used), equal frame by frame at every thread count and batch
  size, raise the first failing frame's error with every frame before it decoded (an
  unlocatable frame included), serve many calling threads at once, and work in a forked
  child. tests/test_pool.py runs the C pool itself under ThreadSanitizer.
* The allocation guard: a batch is decoded wholly in parallel when the first frame's
  codestream header agrees with the attributes; otherwise (a tiny file of garbage frames
  claiming huge ones) the first frame is decoded alone, and fails, before the output of
  all frames is allocated.
* A stress test: 8 threads x 200 random frame requests on shared files of every codec.
"""

from __future__ import annotations

import os
import random
import threading

import numpy as np
import pytest

import dicomframes
from dicomframes import batch
from dicomframes.errors import DicomFramesError

pytest.importorskip("pydicom")  # dicomframes.testing writes the files with it
from dicomframes.testing import make_dicom  # noqa: E402

RLE = "1.2.840.10008.1.2.5"


def file_bytes(frames: int, rows: int = 6, columns: int = 7) -> bytes:
    rng = np.random.default_rng(frames)
    return make_dicom(rng.integers(0, 4096, (frames, rows, columns), dtype=np.uint16),
                      frames=frames)


def one_by_one(f) -> np.ndarray:
    return np.stack([np.array(f.frame(k)) for k in range(len(f))])


@pytest.mark.corpus("pixels", max_size=1 << 20)
def test_threads_equal_serial(corpus_entry, corpus_dir):
    with dicomframes.open(corpus_dir / corpus_entry["file"]) as f:
        expected = one_by_one(f)
        for threads in (1, 2, 8):
            got = f.frames(threads=threads)
            np.testing.assert_array_equal(got, expected, err_msg=f"threads={threads}")
            out = np.full_like(expected, 7)
            assert f.frames(out=out, threads=threads) is out
            np.testing.assert_array_equal(out, expected, err_msg=f"out=, threads={threads}")
        # as stored (YBR_FULL JPEG: the C batch for what it can serve, else frame by frame)
        stored = np.stack([np.array(f.frame(k, as_rgb=False)) for k in range(len(f))])
        np.testing.assert_array_equal(f.frames(threads=2, as_rgb=False), stored)


def test_indices_like_numpy(corpus_file):
    with dicomframes.open(corpus_file("emri_small_jpeg_2k_lossless.dcm")) as f:
        every = one_by_one(f)
        n = len(f)
        for indices in ([0, -1, 3, 3, 0], [-n, n - 1], [], np.array([[1, 2], [2, 1]])):
            for threads in (1, 2, 8):
                got = f.frames(indices, threads=threads)
                flat = np.asarray(indices, dtype=np.int64).reshape(-1)
                np.testing.assert_array_equal(got, every[flat])
        for bad in ([0, n], [-n - 1]):
            with pytest.raises(IndexError):
                f.frames(bad, threads=2)
        with pytest.raises(TypeError):
            f.frames([0.5], threads=2)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_thread_counts(threads):
    f = dicomframes.open(file_bytes(frames=2))
    with pytest.raises((TypeError, ValueError)):
        f.frames(threads=threads)


def corrupt_rle_file(frames: int, bad: set[int]) -> bytes:
    """An RLE file of 8x8 8-bit zero frames whose frames in `bad` have a broken header
    (99 segments)."""
    data = bytearray(make_dicom(np.zeros((frames, 8, 8), np.uint8), frames=frames,
                                compress=RLE))
    with dicomframes.open(bytes(data)) as f:
        offsets = [f._frames().fragment_offset(k) for k in bad]
    for offset in offsets:
        data[offset] = 99
    return bytes(data)


@pytest.mark.parametrize("threads", [1, 2, 8])
def test_first_failing_frame_raises_after_the_batch(threads):
    f = dicomframes.open(corrupt_rle_file(40, {17, 31}))
    assert np.all(f.frames(list(range(17)), threads=threads) == 0)
    before = threading.active_count()
    with pytest.raises(DicomFramesError) as info:
        f.frames(threads=threads)
    assert info.value.frame == 17, str(info.value)
    assert "frame 17" in str(info.value)
    out = np.zeros((40, 8, 8), np.uint8)
    with pytest.raises(DicomFramesError):
        f.frames(out=out, threads=threads)
    # No worker is still writing: the result stays as the batch left it.
    snapshot = out.copy()
    threading.Event().wait(0.05)
    np.testing.assert_array_equal(out, snapshot)
    assert threading.active_count() <= max(before, len(batch._pool._threads) + 1 if batch._pool
                                           else before)


def _encoded_file(syntax: str, frames: int = 6, shape=(64, 48), claimed=None) -> bytes:
    """A `syntax` file of `frames` random frames; `claimed`: other (rows, columns) written
    in the attributes than the codestreams hold."""
    from dicomframes.testing import make_dataset, dicom_bytes

    arr = np.random.default_rng(3).integers(0, 4096, (frames, *shape), dtype=np.uint16)
    with dicomframes.open(make_dicom(arr, frames=frames, compress=syntax)) as f:
        encoded = [bytes(f.encoded_frame(k)) for k in range(frames)]
    attrs = arr if claimed is None else np.zeros((frames, *claimed), np.uint16)
    return dicom_bytes(make_dataset(attrs, frames=frames, syntax=syntax, encoded=encoded))


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90"])
def test_header_agrees_vouches_for_the_batch(syntax):
    pytest.importorskip("jpeg_ls" if syntax.endswith(".80") else "openjpeg")
    with dicomframes.open(_encoded_file(syntax)) as f:
        source = f._frames()
        assert source.header_agrees(0)
        expected = one_by_one(f)
        for threads in (1, 2):
            np.testing.assert_array_equal(f.frames(threads=threads), expected)
    with dicomframes.open(_encoded_file(syntax, claimed=(65, 48))) as f:
        assert not f._frames().header_agrees(0)
        with pytest.raises(DicomFramesError) as info:
            f.frames(threads=2)
        assert info.value.frame == 0


def test_garbage_frames_claiming_huge_ones_fail_before_the_big_allocation():
    """400 frames of 16 bytes each claiming 8192 x 8192 x 16 bits: the output of all
    of them would be 50 GiB; the first frame fails alone first."""
    import tracemalloc

    from dicomframes.testing import make_dataset, dicom_bytes

    jls = "1.2.840.10008.1.2.4.80"
    ds = make_dataset(np.zeros((1, 8, 8), np.uint16), frames=1, syntax=jls,
                      encoded=[b"\xff\xd8\xff\xf7" + bytes(12)] * 400)
    ds.NumberOfFrames = 400
    ds.Rows = ds.Columns = 8192
    with dicomframes.open(dicom_bytes(ds)) as f:
        assert not f._frames().header_agrees(0)
        tracemalloc.start()
        try:
            with pytest.raises(DicomFramesError) as info:
                f.frames(threads=2)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert info.value.frame == 0
    assert peak < 1 << 30, peak  # one frame (128 MiB), not 400


# Requests the C batch does not serve (here rescale) run on the Python pool.
def test_pool_is_reused_and_grows():
    f = dicomframes.open(file_bytes(frames=6))
    f.frames(threads=2, rescale=True)
    pool = batch._pool
    assert pool is not None
    f.frames(threads=2, rescale=True)
    assert batch._pool is pool, "a new pool per call"
    f.frames(threads=4, rescale=True)
    assert batch._pool_size >= 3


def test_nested_parallel_calls_run_serially_in_pool_threads():
    f = dicomframes.open(file_bytes(frames=8))
    expected = f.frames(threads=1)
    results: dict[int, np.ndarray] = {}

    def task(i: int) -> None:
        results[i] = f.frames(threads=8)  # would wait on the pool it occupies

    batch.run_parallel(task, 6, 3)
    for got in results.values():
        np.testing.assert_array_equal(got, expected)


def in_forked_child(check, timeout: float = 60) -> bool:
    """``check()`` run in a forked child: its answer, or False when it raised or did not
    answer within `timeout` seconds (a hang: the child is killed)."""
    import select
    import signal

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            ok = bool(check())
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], timeout)
        answer = os.read(read, 1) if ready else b""
    finally:
        os.close(read)
        if not answer:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return answer == b"1"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_replaced_in_forked_child():
    f = dicomframes.open(file_bytes(frames=8))
    expected = f.frames(threads=2, rescale=True)
    assert batch._pool is not None
    # the parent's pool threads do not exist in the child
    assert in_forked_child(lambda: batch._pool is None and
                           np.array_equal(f.frames(threads=2, rescale=True), expected))


# file -> how often it is picked (the one HTJ2K file of the corpus is a large RGB frame)
STRESS = {"emri_small_RLE.dcm": 10, "emri_small_jpeg_ls_lossless.dcm": 10,
          "emri_small_jpeg_2k_lossless_eot.dcm": 10, "HTJ2KLossless_08_RGB.dcm": 1,
          "emri_small.dcm": 10, "emri_small_big_endian.dcm": 10, "SC_rgb_rle_2frame.dcm": 10}


def run_threads(worker, count: int) -> None:
    """``worker(seed)`` on `count` threads started together; the first error is raised
    here once all have stopped (pytest sees only the main thread)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count, timeout=60)

    def run(seed: int) -> None:
        try:
            barrier.wait()
            worker(seed)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_stress_shared_files_random_requests(corpus_file):
    files = [dicomframes.open(corpus_file(name)) for name in STRESS]
    serial = [one_by_one(f) for f in files]
    weights = list(STRESS.values())

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(200):
            which = rng.choices(range(len(files)), weights=weights)[0]
            f, expected = files[which], serial[which]
            kind = rng.choices((0, 1, 2), weights=(6, 3, 1))[0]
            if kind == 0:
                k = rng.randrange(len(f))
                np.testing.assert_array_equal(f[k], expected[k])
            elif kind == 1:
                picks = [rng.randrange(len(f)) for _ in range(rng.randrange(1, 5))]
                got = f.frames(picks, threads=rng.choice([1, 2, 8]))
                np.testing.assert_array_equal(got, expected[picks])
            else:
                got = dicomframes.read_frames([f, f], threads=2)
                np.testing.assert_array_equal(got, np.concatenate([expected, expected]))

    try:
        run_threads(worker, 8)
    finally:
        for f in files:
            f.close()


BATCH_SYNTAXES = {"rle": RLE, "jpegls": "1.2.840.10008.1.2.4.80",
                  "j2k": "1.2.840.10008.1.2.4.90", "jpeg": "1.2.840.10008.1.2.4.57",
                  "native": None}
_ENCODERS = {"jpegls": "jpeg_ls", "j2k": "openjpeg", "jpeg": "imagecodecs"}


def _batch_file(codec: str, frames: int = 9) -> bytes:
    pytest.importorskip(_ENCODERS.get(codec, "pydicom"))
    arr = np.random.default_rng(len(codec)).integers(0, 4096, (frames, 64, 48), dtype=np.uint16)
    if codec != "jpeg":
        return make_dicom(arr, frames=frames, compress=BATCH_SYNTAXES[codec])
    # pydicom writes no lossless JPEG: imagecodecs' encoder does (SOF3)
    from dicomframes.testing import dicom_bytes, make_dataset

    import imagecodecs

    encoded = [imagecodecs.ljpeg_encode(frame, bitspersample=12) for frame in arr]
    ds = make_dataset(arr, frames=frames, syntax=BATCH_SYNTAXES[codec], encoded=encoded)
    return dicom_bytes(ds)


@pytest.fixture
def no_python_pool(monkeypatch):
    """The batch must not go frame by frame through the Python pool."""
    import dicomframes.file

    def refuse(*args, **kwargs):
        raise AssertionError("decoded frame by frame on the Python pool")

    monkeypatch.setattr(dicomframes.file, "run_parallel", refuse)


@pytest.mark.parametrize("codec", sorted(BATCH_SYNTAXES))
def test_c_batch_equals_frame_by_frame(codec, no_python_pool):
    with dicomframes.open(_batch_file(codec)) as f:
        expected = one_by_one(f)
        n = len(f)
        for threads in (1, 2, 3, 8, 300):
            for picks in ([4], [0, n - 1], list(range(n)), [3, 3, 1, -1, 5, 0, 2]):
                np.testing.assert_array_equal(f.frames(picks, threads=threads),
                                              expected[picks], err_msg=f"{threads} {picks}")
            out = np.full_like(expected, 7)
            assert f.frames(out=out, threads=threads) is out
            np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_c_batch_failure_leaves_the_frames_before_it_decoded(threads):
    f = dicomframes.open(corrupt_rle_file(30, {11, 12, 23}))
    out = np.full((30, 8, 8), 5, np.uint8)
    with pytest.raises(DicomFramesError) as info:
        f.frames(out=out, threads=threads)
    assert info.value.frame == 11 and "frame 11" in str(info.value), str(info.value)
    assert np.all(out[:11] == 0)
    with pytest.raises(DicomFramesError) as info:  # in the order asked for
        f.frames([29, 23, 12, 0], threads=threads)
    assert info.value.frame == 23


@pytest.mark.parametrize("bad_frame", [None, 2])
def test_c_batch_unlocatable_frame_comes_after_the_frames_before_it(bad_frame, monkeypatch):
    f = dicomframes.open(corrupt_rle_file(8, {bad_frame} if bad_frame is not None else set()))
    source = f._frames()
    encoded = source.encoded

    def unlocatable(k):
        if k == 5:
            raise DicomFramesError("frame 5 cannot be located", frame=5)
        return encoded(k)

    monkeypatch.setattr(source, "encoded", unlocatable)
    out = np.full((8, 8, 8), 5, np.uint8)
    with pytest.raises(DicomFramesError) as info:
        f.frames(out=out, threads=2)
    if bad_frame is None:
        assert info.value.frame == 5
        assert np.all(out[:5] == 0)
    else:
        assert info.value.frame == bad_frame
        assert np.all(out[:bad_frame] == 0)


def test_c_batches_from_many_threads_at_once(no_python_pool):
    """Most callers find the C pool busy and decode their batch alone."""
    files = [dicomframes.open(_batch_file("rle", frames=12)),
             dicomframes.open(corrupt_rle_file(12, {7}))]
    expected = one_by_one(files[0])

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(150):
            picks = [rng.randrange(12) for _ in range(rng.randrange(1, 9))]
            threads = rng.choice([1, 2, 3, 8])
            if rng.random() < 0.2:
                bad = [p for p in picks if p == 7]
                try:
                    files[1].frames(picks, threads=threads)
                    assert not bad, "frame 7 should fail"
                except DicomFramesError as exc:
                    assert bad and exc.frame == 7, str(exc)
            else:
                np.testing.assert_array_equal(files[0].frames(picks, threads=threads),
                                              expected[picks])

    run_threads(worker, 6)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_c_pool_works_in_a_forked_child():
    f = dicomframes.open(_batch_file("rle", frames=12))
    expected = f.frames(threads=2)  # the C pool's threads exist in the parent
    # not in the child: a batch there must neither hang nor fail
    assert in_forked_child(lambda: all(np.array_equal(f.frames(threads=t), expected)
                                       for t in (2, 3, 2)))


def test_native_decode_batch_arguments():
    from dicomframes import _codecs

    arr = np.arange(5 * 64 * 48, dtype=np.uint16).reshape(5, 64, 48)
    f = dicomframes.open(make_dicom(arr, frames=5))
    source = f._frames()
    layout, value = source.layout, source.value
    out = np.zeros((3, 64, 48), np.uint16)
    assert _codecs.decode_native_batch(layout, value, [4, 0, 4], out.data.cast("B"),
                                       threads=2) is None
    np.testing.assert_array_equal(out, arr[[4, 0, 4]])
    assert _codecs.decode_native_batch(layout, value, [], bytearray()) is None
    with pytest.raises(ValueError, match="not 3 frames"):
        _codecs.decode_native_batch(layout, value, [0, 1, 2], bytearray(7))
    failure = _codecs.decode_native_batch(layout, value, (1, 9, 2), out.data.cast("B"),
                                          threads=2)
    assert failure is not None and failure[0] == 1
    assert isinstance(failure[1], DicomFramesError) and failure[1].frame == 9
    # frames whose total size overflows 64 bits are refused, not wrapped (found on review)
    from dicomframes._native import NativeLayout

    huge = NativeLayout(1 << 31, 1 << 31, 2, 8, 8, 0, 0, False, False, False, False)
    with pytest.raises(ValueError, match="not 2 frames"):
        _codecs.decode_native_batch(huge, b"x", [5, 6], bytearray(0))


def test_decode_batch_arguments():
    from dicomframes import _codecs

    f = dicomframes.open(_batch_file("rle", frames=3))
    frames = [f.encoded_frame(k) for k in range(3)]
    spec = (64, 48, 1, 16, 16, 0, "MONOCHROME2")
    out = np.zeros((3, 64, 48), np.uint16)
    assert _codecs.decode_batch("rle", frames, out, *spec, 2) is None
    np.testing.assert_array_equal(out, one_by_one(f))
    assert _codecs.decode_batch("rle", [], np.zeros(0, np.uint16), *spec) is None
    with pytest.raises(DicomFramesError, match="no batch decoder"):
        _codecs.decode_batch("deflate", frames, out, *spec)
    with pytest.raises(DicomFramesError, match="whole number"):
        _codecs.decode_batch("rle", frames, np.zeros(3 * 64 * 48 * 2 + 1, np.uint8),
                             *spec)
    with pytest.raises(DicomFramesError):  # 2 frames' worth of output for 3 frames
        _codecs.decode_batch("rle", frames, np.zeros((2, 64, 48), np.uint16), *spec)
    with pytest.raises(DicomFramesError):
        _codecs.decode_batch("rle", frames, out, *spec, 0)
    with pytest.raises(TypeError):
        _codecs.decode_batch("rle", frames, out[:, ::2], *spec)
    failure = _codecs.decode_batch("rle", [frames[0], b"\x63" + bytes(63), frames[2]],
                                   out, *spec, 2)
    assert failure is not None and failure[0] == 1
    assert isinstance(failure[1], DicomFramesError)


def test_c_batch_runs_in_chunks_that_ctrl_c_stops(monkeypatch):
    """The calling thread is in C for a whole chunk of the batch: Ctrl-C (seen by Python
    only between bytecodes) stops the batch after the chunk in flight, not after all."""
    import _thread

    from dicomframes import _codecs

    f = dicomframes.open(make_dicom(np.arange(200 * 16, dtype=np.uint8).reshape(200, 4, 4),
                                    frames=200, compress=RLE))
    expected = one_by_one(f)
    real = _codecs.decode_batch
    calls: list[int] = []

    def counting(codec, frames, *args, **kwargs):
        calls.append(len(frames))
        return real(codec, frames, *args, **kwargs)

    monkeypatch.setattr(_codecs, "decode_batch", counting)
    np.testing.assert_array_equal(f.frames(threads=2), expected)
    assert len(calls) > 1 and sum(calls) == 200

    def interrupted(codec, frames, *args, **kwargs):
        result = counting(codec, frames, *args, **kwargs)
        _thread.interrupt_main()  # as a SIGINT arriving while the chunk was decoded
        return result

    calls.clear()
    monkeypatch.setattr(_codecs, "decode_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        f.frames(threads=2)
    assert len(calls) == 1


@pytest.mark.parametrize("photometric", ["YBR_FULL", "YBR_FULL_422", "RGB"])
def test_c_batch_jpeg_colour_as_frame_by_frame(photometric, no_python_pool):
    """Frames routed by their own headers in one file: 8-bit DCT ones to libjpeg, which
    converts YCbCr itself, lossless ones to our decoder, which does not (converted
    afterwards, as frame by frame): every frame as ``frame(k)`` gives it."""
    imagecodecs = pytest.importorskip("imagecodecs")
    from dicomframes.testing import dicom_bytes, make_dataset

    rng = np.random.default_rng(7)
    arr = rng.integers(0, 255, (6, 32, 40, 3), dtype=np.uint8)
    encoded = [imagecodecs.jpeg8_encode(frame, lossless=bool(k % 2), level=95)
               for k, frame in enumerate(arr)]
    ds = make_dataset(arr, frames=6, syntax="1.2.840.10008.1.2.4.50", encoded=encoded,
                      photometric=photometric)
    with dicomframes.open(dicom_bytes(ds)) as f:
        for as_rgb in (True, False):
            expected = np.stack([np.array(f.frame(k, as_rgb=as_rgb)) for k in range(6)])
            for threads in (1, 2, 3):
                np.testing.assert_array_equal(f.frames(threads=threads, as_rgb=as_rgb),
                                              expected, err_msg=f"{as_rgb} {threads}")
    # A failing frame: the frames before it come back converted all the same.
    ds = make_dataset(arr, frames=6, syntax="1.2.840.10008.1.2.4.50",
                      encoded=encoded[:4] + [b"\xff\xd8\xff\xd9", encoded[5]],
                      photometric=photometric)
    with dicomframes.open(dicom_bytes(ds)) as f:
        out = np.zeros((6, 32, 40, 3), np.uint8)
        with pytest.raises(DicomFramesError) as info:
            f.frames(out=out, threads=2)
        assert info.value.frame == 4
        np.testing.assert_array_equal(out[:4], np.stack([np.array(f.frame(k))
                                                         for k in range(4)]))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_one_c_pool_serves_native_and_compressed_batches():
    """Every extension links its own copy of the C core: the pool must be called from
    one of them only, or native and compressed batches would each start their own."""
    arr = np.arange(64 * 16, dtype=np.uint8).reshape(64, 4, 4)
    native = dicomframes.open(make_dicom(arr, frames=64))
    rle = dicomframes.open(make_dicom(arr, frames=64, compress=RLE))
    np.testing.assert_array_equal(native.frames(threads=40), arr)  # up to 39 workers
    threads = len(os.listdir("/proc/self/task"))
    np.testing.assert_array_equal(rle.frames(threads=40), arr)
    np.testing.assert_array_equal(native.frames(threads=40), arr)
    assert len(os.listdir("/proc/self/task")) == threads
