"""Sharing one DicomFile between threads, and decoding without the GIL.

* 8 threads decode every frame of the same DicomFile, many times, in random order (and
  through the different entry points: f[k], frame(out=...), frames(indices), decode_frame on
  encoded_frame): every result equals the serial one. The file is opened fresh for the
  threads so that they also race for its lazy set-up (pixel description, frame location).
* While one thread decodes a large JPEG 2000 frame in a loop, a pure-Python counter thread
  keeps running: the codecs release the GIL. The counter's rate is compared with its rate
  alone and with its rate beside a GIL-holding call of similar length, so that the check
  holds on a small, loaded machine.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import dicomframes
from dicomframes import decode_frame

THREADS = 8

FILES = {
    "emri_small_RLE.dcm": 6,                    # name -> passes over all frames per thread
    "emri_small_jpeg_ls_lossless.dcm": 6,
    "emri_small_jpeg_ls_lossless_fragmented_bot.dcm": 3,
    "emri_small_jpeg_2k_lossless.dcm": 6,
    "HTJ2KLossless_08_RGB.dcm": 3,
    "emri_small.dcm": 6,                         # native, explicit VR little endian
    "emri_small_big_endian.dcm": 3,              # native, converted on every read
}


def attributes(f) -> dict:
    p = f.pixels
    return {"rows": p.rows, "columns": p.columns, "samples_per_pixel": p.samples_per_pixel,
            "bits_allocated": p.bits_allocated, "bits_stored": p.bits_stored,
            "pixel_representation": p.pixel_representation,
            "photometric_interpretation": p.photometric_interpretation,
            "planar_configuration": p.planar_configuration or 0}


@pytest.mark.parametrize("name", list(FILES))
def test_threads_agree_with_serial(corpus_file, name):
    path = corpus_file(name)
    with dicomframes.open(path) as f:
        serial = f.frames()
        encapsulated = f.transfer_syntax.encapsulated
        attrs = attributes(f)
        uid = f.transfer_syntax_uid
    count = len(serial)
    passes = FILES[name]
    barrier = threading.Barrier(THREADS, timeout=120)

    with dicomframes.open(path) as shared:

        def work(seed: int) -> int:
            rng = random.Random(seed)
            barrier.wait()  # all threads make their first request together
            checked = 0
            out = np.empty_like(serial[0])
            for p in range(passes):
                order = list(range(count))
                rng.shuffle(order)
                for k in order:
                    way = (seed + p + k) % 4
                    if way == 0:
                        got = shared[k]
                    elif way == 1:
                        got = shared.frame(k, out=out)
                    elif way == 2:
                        got = shared.frames([k, k])[1]
                    elif encapsulated:
                        got = decode_frame(shared.encoded_frame(k), uid, **attrs)
                    else:
                        got = shared.frame(k, copy=True)
                    if not np.array_equal(got, serial[k]):
                        raise AssertionError(f"thread {seed}: frame {k} (way {way}) differs")
                    checked += 1
            # and the whole stack at once
            np.testing.assert_array_equal(shared.frames(order), serial[order])
            return checked

        with ThreadPoolExecutor(THREADS) as pool:
            done = list(pool.map(work, range(THREADS)))
    assert done == [passes * count] * THREADS


def test_threads_share_many_files(corpus_file):
    """Different files decoded at once, each by several threads (codec state is per call)."""
    paths = [corpus_file(n) for n in ("emri_small_RLE.dcm", "emri_small_jpeg_ls_lossless.dcm",
                                      "emri_small_jpeg_2k_lossless.dcm")]
    files = [dicomframes.open(p) for p in paths]
    try:
        serial = [f.frames() for f in files]
        jobs = [(i, k) for _ in range(4) for i in range(len(files)) for k in range(10)]
        random.Random(1).shuffle(jobs)

        def decode(job):
            i, k = job
            return np.array_equal(files[i][k], serial[i][k])

        with ThreadPoolExecutor(THREADS) as pool:
            assert all(pool.map(decode, jobs))
    finally:
        for f in files:
            f.close()


# ---- the GIL -----------------------------------------------------------------------------

def counter_rate(work, window: float) -> float:
    """Increments per second of a pure-Python counter thread while `work` (or nothing)
    runs in a loop in another thread."""
    stop = threading.Event()
    counts: list[int] = []
    errors: list[BaseException] = []

    def counter() -> None:
        n = 0
        while not stop.is_set():
            n += 1
        counts.append(n)

    def worker() -> None:
        try:
            while not stop.is_set():
                work()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            stop.set()

    busy = threading.Thread(target=worker) if work else None
    if busy:
        busy.start()
        time.sleep(0.02)
    thread = threading.Thread(target=counter)
    start = time.perf_counter()
    thread.start()
    time.sleep(window)
    stop.set()
    thread.join()
    elapsed = time.perf_counter() - start
    if busy:
        busy.join()
    if errors:
        raise errors[0]
    return counts[0] / elapsed


def test_decoding_releases_the_gil(corpus_file):
    path = corpus_file("RG3_J2KR.dcm")  # 1760 x 1760, 16-bit, lossless: ~150 ms a frame
    with dicomframes.open(path) as f:
        expected = f[0]  # the first read also faults the mapping in
        start = time.perf_counter()
        f.frame(0, out=np.empty_like(expected))
        decode_seconds = time.perf_counter() - start

        def decode() -> None:
            f.frame(0, out=out)

        out = np.empty_like(expected)

        # A C call of similar length that keeps the GIL: sum() over a range never returns
        # to the interpreter loop, so it never lets another thread in.
        n = 1_000_000
        start = time.perf_counter()
        sum(range(n))
        n = max(n, int(n * decode_seconds / (time.perf_counter() - start)))

        def hold_gil() -> None:
            sum(range(n))

        window = max(0.3, 2 * decode_seconds)
        attempts = []
        for _ in range(3):
            solo = counter_rate(None, window)
            decoding = counter_rate(decode, window) / solo
            holding = counter_rate(hold_gil, window) / solo
            attempts.append((round(decoding, 3), round(holding, 3)))
            print(f"counter rate beside decoding: {decoding:.2f} of solo, beside a GIL "
                  f"holder: {holding:.2f}")
            # GIL released: the counter keeps a good share of its solo rate (all of it with
            # a free core), and far more than beside a call that holds the GIL.
            if decoding > 0.3 or (decoding > 0.1 and decoding > 3 * holding):
                break
        else:
            pytest.fail(f"counter rate while decoding / alone, and beside a GIL-holding call "
                        f"/ alone: {attempts}")
        np.testing.assert_array_equal(out, expected)
