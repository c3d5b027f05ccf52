"""Damaged input must fail cleanly: only DicomFramesError, never another exception,
a crash or a hang.

(a) truncation sweeps: corpus files, generated samples and fuzz seeds cut at every offset
    (small files) or at ~600 offsets concentrated on the header and the end (larger
    files); the exhaustive sweep over every file below 64 KiB is marked ``slow``;
(b) hypothesis: random bytes and structured mutations (bit flips, insertions, deletions,
    length fields and Image Pixel values overwritten with random / huge numbers) of real
    files; derandomized so that CI runs are reproducible;
(c) replay of fuzz/corpus/* (the atheris seeds and any reproducers saved there);
(d) VR confusion: each element of small seeds re-labelled with every other VR.

Each input is opened, described (what ``dicomframes info`` prints) and fully decoded.
The regression tests replay, one minimal input each, the bugs these sweeps found. An open
bug gets a strict-xfail reproduction (its fix then shows as an XPASS) rather than a
loosened :func:`exercise`; the VR sweep skips only the open bugs' cases (``OPEN_BUGS``).
"""

from __future__ import annotations

import faulthandler
import resource
import struct
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import dicomframes
from dicomframes import DicomFramesError

# The sweeps cut and garble files on purpose: damage after the Pixel Data warns
# (tests/test_input_edges.py checks the warning itself).
pytestmark = pytest.mark.filterwarnings("ignore::dicomframes.DicomFramesWarning")

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SAMPLES = REPO / "samples"
FUZZ_CORPUS = REPO / "fuzz" / "corpus"
PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
NATIVE_UIDS = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99",
               "1.2.840.10008.1.2.2"}
FULL_SWEEP_BELOW = 12 * 1024  # default run: every offset for files up to this size
SLOW_SWEEP_BELOW = 64 * 1024  # the `slow` run: every offset for files up to this size
# Bounds passed to open(): a deflated data set inflates to at most this, and one decoded
# frame may take at most this (by design open() allocates up to max_frame_bytes for one
# frame, 4 GiB by default; the sweeps run under a 3 GiB heap cap, see `guarded`).
MAX_INFLATED = 64 << 20
MAX_FRAME_BYTES = 256 << 20


# --------------------------------------------------------------------------------------
# the harness
# --------------------------------------------------------------------------------------


class Outcome:
    """Counts of how inputs ended: opened / decoded / rejected / known bug."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def exercise(data, outcome: Outcome | None = None) -> str:
    """Open `data`, describe it and decode every frame. Returns how it ended; raises
    AssertionError for any exception that is not a DicomFramesError."""
    try:
        try:
            f = dicomframes.open(data, max_inflated_bytes=MAX_INFLATED,
                                 max_frame_bytes=MAX_FRAME_BYTES)
        except DicomFramesError:
            result = "rejected at open"
        else:
            try:
                f.describe()
                f.frames()
                result = "decoded"
            except DicomFramesError:
                result = "rejected at decode"
            finally:
                f.close()
    except Exception as exc:  # MemoryError included
        raise AssertionError(
            f"{type(exc).__name__} (not a DicomFramesError) on {len(data)} bytes: {exc}; "
            f"input starts {bytes(data[:64])!r}") from exc
    if outcome is not None:
        outcome.add(result)
    return result


# --------------------------------------------------------------------------------------
# guards: a runaway allocation raises MemoryError instead of exhausting the machine, and
# a hang dumps the stacks and ends the run instead of blocking CI forever
# --------------------------------------------------------------------------------------


def _data_usage() -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@pytest.fixture(autouse=True)
def guarded():
    limit_set = False
    if hasattr(resource, "RLIMIT_DATA"):
        used = _data_usage()
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if used is not None:
            cap = used + (3 << 30)
            if (hard == resource.RLIM_INFINITY or cap < hard) and \
                    (soft == resource.RLIM_INFINITY or cap < soft):
                try:
                    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
                    limit_set = True
                except (ValueError, OSError):
                    pass
    faulthandler.dump_traceback_later(300, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        if limit_set:
            resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------


def _manifest_entries() -> list[dict]:
    import json

    manifest = CORPUS / "manifest.json"
    if not manifest.is_file():
        return []
    return json.loads(manifest.read_text(encoding="utf-8"))["files"]


def _sweep_files() -> list:
    """(path, every_offset) params: native corpus files, samples, fuzz seeds."""
    params = []
    for entry in _manifest_entries():
        if entry["transfer_syntax_uid"] in NATIVE_UIDS:
            path = CORPUS / entry["file"]
            params.append(pytest.param(path, id=f"corpus/{entry['file']}"))
    for folder, label in ((SAMPLES, "samples"), (FUZZ_CORPUS, "fuzz")):
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.is_file() and not path.name.startswith(".") and path.suffix != ".md":
                params.append(pytest.param(path, id=f"{label}/{path.name}"))
    if not params:
        params.append(pytest.param(None, marks=pytest.mark.skip(reason="no input files"),
                                   id="none"))
    return params


SWEEP_FILES = _sweep_files()


def _header_end(data: bytes) -> int:
    """Offset of the top-level pixel data value (or the file length)."""
    try:
        with dicomframes.open(data) as f:
            elements = f.elements
            top = elements[(elements["depth"] == 0) & np.isin(elements["tag"], PIXEL_TAGS)]
            if len(top):
                return int(top["offset"][0])
    except DicomFramesError:
        pass
    return len(data)


def sample_offsets(data: bytes, count: int = 600) -> list[int]:
    """~`count` cut points: the whole header densely, the end densely, the rest evenly."""
    size = len(data)
    header = min(_header_end(data) + 16, size)
    cuts = set(range(0, min(header, 320) + 1))
    cuts.update(np.linspace(0, header, 200, dtype=np.int64).tolist())
    cuts.update(range(max(size - 96, 0), size + 1))
    cuts.update(np.linspace(0, size, count - len(cuts) if count > len(cuts) + 10 else 10,
                            dtype=np.int64).tolist())
    # just around each frame boundary of the pixel data
    try:
        with dicomframes.open(data) as f:
            if f.has_pixel_data and f.transfer_syntax_uid != "1.2.840.10008.1.2.1.99":
                start = _header_end(data)
                step = f.pixels.frame_nbytes
                for k in range(1, min(len(f), 8) + 1):
                    cuts.update(range(start + k * step - 2, start + k * step + 3))
    except DicomFramesError:
        pass
    return sorted(c for c in cuts if 0 <= c <= size)


# --------------------------------------------------------------------------------------
# (a) truncation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SWEEP_FILES)
def test_truncation_sweep(path):
    data = path.read_bytes()
    if len(data) <= FULL_SWEEP_BELOW:
        cuts = range(len(data) + 1)
    else:
        cuts = sample_offsets(data)
    view = memoryview(data)
    outcome = Outcome()
    for cut in cuts:
        # bytes for small inputs; zero-copy memoryview slices for large ones
        exercise(data[:cut] if len(data) <= SLOW_SWEEP_BELOW else view[:cut], outcome)
    # the untruncated file decodes (except the corpus files that are malformed on purpose
    # and compressed fuzz seeds without a codec yet)
    assert outcome.counts, "nothing was exercised"


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in SWEEP_FILES
                                  if p.values[0] is not None
                                  and FULL_SWEEP_BELOW < p.values[0].stat().st_size
                                  <= SLOW_SWEEP_BELOW])
def test_truncation_sweep_every_offset(path):
    data = path.read_bytes()
    for cut in range(len(data) + 1):
        exercise(data[:cut])


def test_truncated_inputs_are_rejected_not_misread(corpus_file):
    """A file cut inside its Pixel Data opens (the header is intact) but decoding the
    frames that are cut raises: dicomframes never pads missing pixels."""
    data = corpus_file("MR_small.dcm").read_bytes()
    with dicomframes.open(data) as f:
        elements = f.elements
    row = elements[(elements["depth"] == 0) & (elements["tag"] == 0x7FE00010)][0]
    start, length = int(row["offset"]), int(row["length"])
    for cut in (start, start + 1, start + 100, start + length - 1):
        with dicomframes.open(data[:cut]) as f:
            assert f.has_pixel_data
            with pytest.raises(DicomFramesError):
                f.frames()
        with pytest.raises(DicomFramesError):
            dicomframes.open(data[:cut])[0]


# --------------------------------------------------------------------------------------
# (b) hypothesis
# --------------------------------------------------------------------------------------

FUZZ_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)


def _seed_bytes() -> list[tuple[str, bytes]]:
    seeds = []
    for entry in _manifest_entries():
        if entry["file_size"] <= SLOW_SWEEP_BELOW:  # compressed ones included
            seeds.append((entry["file"], (CORPUS / entry["file"]).read_bytes()))
    for folder in (SAMPLES, FUZZ_CORPUS):
        for path in sorted(folder.glob("*.dcm")) if folder.is_dir() else []:
            if path.stat().st_size <= 4 * SLOW_SWEEP_BELOW:
                seeds.append((path.name, path.read_bytes()))
    return seeds


@pytest.fixture(scope="module")
def seeds() -> list[tuple[str, bytes, list[tuple[int, int]]]]:
    """(name, bytes, [(value offset, value length), ...]) of each seed file."""
    found = []
    for name, data in _seed_bytes():
        try:
            with dicomframes.open(data) as f:
                rows = f.elements
                fields = [(int(o), int(n)) for o, n in zip(rows["offset"], rows["length"])]
        except DicomFramesError:
            fields = []
        found.append((name, data, fields))
    if not found:
        pytest.skip("no seed files (corpus, samples and fuzz/corpus all absent)")
    return found


HUGE = st.sampled_from([0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF,
                        0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF])
U32 = st.one_of(HUGE, st.integers(0, 0xFFFFFFFF))

MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.integers(0, 7)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.floats(0, 1, exclude_max=True), st.integers(1, 64)),
    st.tuples(st.just("u32"), st.floats(0, 1, exclude_max=True), U32, st.booleans()),
    # overwrite an element's length field (4 bytes before the value, or 2 for short VRs)
    st.tuples(st.just("length"), st.integers(0, 10**6), U32, st.booleans(), st.booleans()),
    # overwrite (part of) an element's value: Rows, Number of Frames, a UID, ...
    st.tuples(st.just("value"), st.integers(0, 10**6), st.binary(min_size=1, max_size=12)),
    st.tuples(st.just("digits"), st.integers(0, 10**6),
              st.sampled_from([b"0", b"1", b"-1", b"65535", b"2147483647", b"99999999999",
                               b"1e+20", b"1.5", b"\\", b"1\\2", b" ", b""])),
)


def mutate(data: bytes, fields: list[tuple[int, int]], mutations: list) -> bytes:
    out = bytearray(data)
    for mutation in mutations:
        kind = mutation[0]
        if kind == "flip" and out:
            out[int(mutation[1] * len(out))] ^= 1 << mutation[2]
        elif kind == "insert":
            at = int(mutation[1] * len(out))
            out[at:at] = mutation[2]
        elif kind == "delete" and out:
            at = int(mutation[1] * len(out))
            del out[at:at + mutation[2]]
        elif kind == "u32" and len(out) >= 4:
            at = int(mutation[1] * (len(out) - 3))
            out[at:at + 4] = struct.pack(">I" if mutation[3] else "<I", mutation[2])
        elif kind == "length" and fields:
            offset, _ = fields[mutation[1] % len(fields)]
            big_endian, short = mutation[3], mutation[4]
            if short and offset >= 2:
                value = struct.pack(">H" if big_endian else "<H", mutation[2] & 0xFFFF)
                out[offset - 2:offset] = value
            elif offset >= 4:
                out[offset - 4:offset] = struct.pack(">I" if big_endian else "<I", mutation[2])
        elif kind in ("value", "digits") and fields:
            offset, length = fields[mutation[1] % len(fields)]
            payload = mutation[2]
            if kind == "digits":
                # replace a text value, keeping the element length (pad / cut)
                payload = (payload + b" " * length)[:length] if length else b""
            out[offset:offset + len(payload)] = payload
    return bytes(out)


@FUZZ_SETTINGS
@given(data=st.binary(max_size=4096))
def test_random_bytes(data):
    exercise(data)


@FUZZ_SETTINGS
@given(body=st.binary(max_size=2048), implicit=st.booleans())
def test_random_bytes_after_dicom_preamble(body, implicit):
    """Past the magic: a File Meta group start followed by random bytes."""
    meta = b"\0" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00" + struct.pack("<I", len(body))
    exercise(meta + body)


@FUZZ_SETTINGS
@given(draw=st.data())
def test_mutated_files(seeds, draw):
    name, data, fields = draw.draw(st.sampled_from(seeds), label="seed")
    mutations = draw.draw(st.lists(MUTATION, min_size=1, max_size=4), label="mutations")
    exercise(mutate(data, fields, mutations))


# Text values for IS / DS / CS / UI elements. The huge counts are only tried where the
# memory cap of `guarded` works (Linux): a regression of BUG-2 would allocate from them.
PIXEL_TEXTS = [b"0", b"1", b"2", b"3", b"-3", b"1.5", b"1e+20", b"99999999999999999999",
               b"3\\4", b"", b" ", b"RGB", b"YBR_FULL_422", b"PALETTE COLOR", b"1.2.840.10008.1.2",
               b"1.2.840.10008.1.2.2", b"1.2.840.10008.1.2.5", b"1.2.840.10008.1.2\\1"]
if sys.platform.startswith("linux"):
    PIXEL_TEXTS += [b"65535", b"2147483647", b"4294967296"]


def _rewrite_value(out: bytearray, offset: int, length: int, vr: bytes, value: bytes) -> None:
    """Replace an element's value by `value` (padded to even length) and fix its length
    field (explicit short-VR 2-byte field or 4-byte field, in the field's byte order)."""
    if len(value) % 2:
        value += b" "
    if offset >= 4 and bytes(out[offset - 4:offset - 2]) == vr:
        field, size = offset - 2, 2
    elif offset >= 4:
        field, size = offset - 4, 4
    else:
        return
    order = "little" if int.from_bytes(out[field:offset], "little") == length else "big"
    if len(value) >= 1 << (8 * size):
        return
    out[offset:offset + length] = value
    out[field:offset] = len(value).to_bytes(size, order)


@FUZZ_SETTINGS
@given(draw=st.data())
def test_mutated_image_pixel_values(seeds, draw):
    """Aimed at the Image Pixel module: Rows, Columns, Bits Allocated / Stored, Samples per
    Pixel, Number of Frames, Planar Configuration, Pixel Representation, Photometric
    Interpretation, the Transfer Syntax UID and the Pixel Data length get other values."""
    usable = [s for s in seeds if s[2]]
    if not usable:
        pytest.skip("no seed has an element index")
    name, data, fields = draw.draw(st.sampled_from(usable), label="seed")
    with dicomframes.open(data) as f:
        elements = f.elements
    targets = [i for i, tag in enumerate(elements["tag"])
               if (int(tag) >> 16) == 0x0028 or int(tag) in PIXEL_TAGS or int(tag) == 0x00020010]
    if not targets:
        return
    chosen = draw.draw(st.lists(st.sampled_from(targets), min_size=1, max_size=3, unique=True),
                       label="elements")
    out = bytearray(data)
    # from the end backwards, so that a length change does not move the next target
    for index in sorted(chosen, key=lambda i: -int(elements[i]["offset"])):
        row = elements[index]
        offset, length, vr = int(row["offset"]), int(row["length"]), bytes(row["vr"])
        action = draw.draw(st.sampled_from(["number", "text", "text", "length"]), label="action")
        if action == "length" and offset >= 4:
            out[offset - 4:offset] = struct.pack("<I", draw.draw(U32, label="length"))
        elif action == "number" and length in (2, 4):
            value = draw.draw(U32, label="number") & ((1 << (8 * length)) - 1)
            order = draw.draw(st.sampled_from(["little", "big"]), label="order")
            out[offset:offset + length] = value.to_bytes(length, order)
        elif length < 0xFFFF:
            text = draw.draw(st.sampled_from(PIXEL_TEXTS), label="text")
            _rewrite_value(out, offset, length, vr, text)
    exercise(bytes(out))


# --------------------------------------------------------------------------------------
# (c) replay fuzz/corpus
# --------------------------------------------------------------------------------------


def _fuzz_files() -> list:
    files = sorted(p for p in FUZZ_CORPUS.glob("*") if p.is_file() and p.suffix != ".md") \
        if FUZZ_CORPUS.is_dir() else []
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason="fuzz/corpus is empty"),
                             id="none")]
    return [pytest.param(p, id=p.name) for p in files]


@pytest.fixture(scope="module")
def fuzz_harness():
    """fuzz/fuzz_open.py imported as a module (its TestOneInput; atheris not needed)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_fuzz_open", REPO / "fuzz" / "fuzz_open.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.parametrize("path", _fuzz_files())
def test_replay_fuzz_corpus(path, fuzz_harness):
    """Every file of fuzz/corpus/ (seeds and reproducers of fixed findings), through this
    file's harness and through the fuzz target's own TestOneInput (lazy frame walk,
    describe, threads, rescale=True, reversed order): only DicomFramesError may escape."""
    data = path.read_bytes()
    exercise(data)
    try:
        fuzz_harness.TestOneInput(data)
    except Exception as exc:
        raise AssertionError(f"fuzz_open.TestOneInput: {type(exc).__name__}: {exc}") from exc


def test_fuzz_harness_replay():
    """fuzz/fuzz_open.py's TestOneInput itself runs (without atheris) on the seeds."""
    harness = REPO / "fuzz" / "fuzz_open.py"
    files = sorted(p for p in FUZZ_CORPUS.glob("*") if p.is_file() and p.suffix != ".md") \
        if FUZZ_CORPUS.is_dir() else []
    if not harness.is_file() or not files:
        pytest.skip("no fuzz harness or seeds")
    done = subprocess.run([sys.executable, str(harness), "--replay", *map(str, files)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_fuzz_seeds_are_valid(tmp_path):
    """The committed seeds are what `fuzz_open.py --make-seeds` writes, and valid DICOM."""
    pydicom = pytest.importorskip("pydicom")
    harness = REPO / "fuzz" / "fuzz_open.py"
    if not harness.is_file() or not FUZZ_CORPUS.is_dir():
        pytest.skip("no fuzz harness")
    done = subprocess.run([sys.executable, str(harness), "--make-seeds", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for made in sorted(tmp_path.glob("*.dcm")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = pydicom.dcmread(made).pixel_array
        with dicomframes.open(made) as f:
            try:
                ours = f.frames()
            except NotImplementedError:
                continue  # no codec for this syntax yet
        np.testing.assert_array_equal(ours.reshape(reference.shape), reference,
                                      err_msg=made.name)


# --------------------------------------------------------------------------------------
# regressions: the bugs found by these sweeps, one minimal input each
# (BUG-1..4 fixed in 72cc755, BUG-5 (tests/test_api.py) and BUG-6 in 93087c4; BUG-7,
# found by the atheris harness, is at the end: open, strict xfail)
# --------------------------------------------------------------------------------------


def _small_file(*, frames="3", rows=2, cols=2, bits=8, pixel_bytes=12,
                syntax="1.2.840.10008.1.2.1") -> bytes:
    pytest.importorskip("pydicom")
    from dicomframes.testing import dicom_bytes, native_pixel_data, new_dataset, set_image_pixel

    ds = new_dataset("1.2.840.10008.1.2.1")
    set_image_pixel(ds, rows=rows, columns=cols, dtype=np.uint8 if bits == 8 else np.uint16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the invalid IS values
        ds.NumberOfFrames = frames
    native_pixel_data(ds, bytes(pixel_bytes), vr="OB" if bits == 8 else "OW")
    data = dicom_bytes(ds)
    if syntax != "1.2.840.10008.1.2.1":
        old = b"1.2.840.10008.1.2.1\0"
        assert len(syntax) == len(old) and data.count(old) == 1
        data = data.replace(old, syntax.encode("ascii"))
    return data


def test_bug1_multivalued_transfer_syntax_uid():
    """BUG-1: a Transfer Syntax UID with a backslash was decoded to a list and used as a
    dict key in uids.transfer_syntax(): TypeError from frames() and describe()."""
    data = _small_file(frames="1", pixel_bytes=4, syntax="1.2.840.10008.1.2\\1\0")
    with dicomframes.open(data) as f:
        assert isinstance(f.describe(), dict)
        try:
            f.frames()
        except DicomFramesError:
            pass  # rejecting the unknown syntax is fine, any other exception is not


_ISOLATED = textwrap.dedent("""
    import resource, sys
    import dicomframes
    from dicomframes import DicomFramesError
    # at most 1 GiB more of heap: a runaway allocation fails fast instead of eating the box
    with open("/proc/self/status") as fh:
        used = next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmData:"))
    resource.setrlimit(resource.RLIMIT_DATA, (used + (1 << 30), resource.RLIM_INFINITY))
    f = dicomframes.open(sys.stdin.buffer.read())
    try:
        {call}
    except DicomFramesError as exc:
        print("DicomFramesError", type(exc).__name__, exc)
        sys.exit(0)
    except BaseException as exc:
        print("other", type(exc).__name__, exc)
        sys.exit(3)
    print("no error")
    sys.exit(4)
""")


def _run_isolated(data: bytes, call: str) -> subprocess.CompletedProcess:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to cap the child's memory")
    return subprocess.run([sys.executable, "-c", _ISOLATED.format(call=call)], input=data,
                          capture_output=True, timeout=120)


def test_bug2_huge_number_of_frames_rejected_before_allocating():
    """BUG-2: Number of Frames 2147483647 with 12 bytes of Pixel Data: frames() built
    list(range(n)) and np.empty((n, ...)) before any size check (MemoryError, or the
    process OOM-killed without a memory limit)."""
    done = _run_isolated(_small_file(frames="2147483647"), "f.frames()")
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def test_bug3_number_of_frames_overflow():
    """BUG-3: Number of Frames "99999999999999999999" (beyond 2**63): len(f) and frames()
    raised OverflowError."""
    done = _run_isolated(_small_file(frames="99999999999999999999"), "len(f); f.frames()")
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


@pytest.mark.parametrize("rows, cols, bits", [(65535, 65535, 16), (40000, 40000, 16),
                                             (30000, 30000, 8)])
@pytest.mark.parametrize("call", ["f.frame(0, copy=True)", "f[0]", "f.frames()"])
def test_bug4_huge_frame_rejected_before_allocating(rows, cols, bits, call):
    """BUG-4: Rows = Columns = 65535 (16-bit) with 12 bytes of Pixel Data:
    frame(0, copy=True) allocated the 8 GiB output before checking the Pixel Data length
    (MemoryError instead of PixelDataError). Also below the 4 GiB max_frame_bytes bound,
    and with a child capped to 1 GiB more heap, so that allocating first shows."""
    data = _small_file(frames="1", rows=rows, cols=cols, bits=bits)
    done = _run_isolated(data, call)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def _rle_file(frames: int, rows: int, cols: int) -> bytes:
    """RLE Lossless, `frames` frames of 4 x 4 zeros, then Rows / Columns set to `rows` /
    `cols`: each fragment decodes to far fewer bytes than the header promises."""
    pytest.importorskip("pydicom")
    from pydicom.uid import RLELossless

    from dicomframes.testing import dicom_bytes, new_dataset, set_image_pixel

    ds = new_dataset()
    set_image_pixel(ds, rows=4, columns=4, dtype=np.uint8, frames=frames)
    ds.PixelData = bytes(16 * frames)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds.compress(RLELossless, encoding_plugin="pydicom", generate_instance_uid=False)
        except Exception as exc:  # pragma: no cover - pydicom without its RLE encoder
            pytest.skip(f"pydicom cannot RLE-encode here: {exc}")
        ds.Rows, ds.Columns = rows, cols
    return dicom_bytes(ds)


def test_bug6_single_frame_of_tiny_encapsulated_file_fails_cleanly():
    """The same file as below, one frame at a time: the 256 MB frame buffer is allowed
    (below max_frame_bytes) and the short RLE segments are reported."""
    done = _run_isolated(_rle_file(16, 16000, 16000), "f.frame(0, copy=True)")
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def test_bug6_tiny_encapsulated_file_does_not_allocate_the_stack_first():
    """BUG-6: frames() on encapsulated data allocated the whole (frames, rows, columns)
    output before decoding any frame: this 1.8 KB RLE file (16 fragments, Rows = Columns =
    16000) asked for 3.8 GiB (with 60000: 53.6 GiB, a MemoryError even without a memory
    limit) instead of raising the TruncatedError of its first frame."""
    done = _run_isolated(_rle_file(16, 16000, 16000), "f.frames()")
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def test_bug6_huge_stack_without_memory_cap():
    """The 53.6 GiB variant, without any cap: must not reach the allocator either."""
    data = _rle_file(16, 60000, 60000)
    with dicomframes.open(data) as f:
        with pytest.raises(DicomFramesError):
            f.frames()


# --------------------------------------------------------------------------------------
# (d) VR confusion: every element of the small seeds re-labelled with every other VR of
# the same header layout (short VRs: 2-byte length; long VRs: 2 reserved + 4-byte length)
# --------------------------------------------------------------------------------------

LONG_VRS = [b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
            b"UT", b"UV"]
SHORT_VRS = [b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO",
             b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US", b"XX"]
NUMERIC_VRS = {b"AT", b"FL", b"FD", b"SL", b"SS", b"UL", b"US"}
# (tag, new VR) pairs of open bugs, each reproduced by a strict-xfail test below; the
# sweep skips them until the fix (then the xfail test XPASSes: empty this set).
OPEN_BUGS: set[tuple[int, bytes]] = set()  # (tag, VR) cases of bugs still open


def _vr_swaps(data: bytes):
    """(tag, old VR, new VR, mutated bytes) for each explicit-VR element of `data`."""
    try:
        with dicomframes.open(data) as f:
            elements = f.elements
    except DicomFramesError:
        return
    for row in elements:
        offset, vr, tag = int(row["offset"]), bytes(row["vr"]), int(row["tag"])
        if offset >= 4 and data[offset - 4:offset - 2] == vr:
            at, choices = offset - 4, SHORT_VRS
        elif offset >= 8 and data[offset - 8:offset - 6] == vr:
            at, choices = offset - 8, LONG_VRS
        else:
            continue  # implicit VR, or an item / delimiter
        for new in choices:
            if new != vr:
                yield tag, vr, new, data[:at] + new + data[at + 2:]


def _vr_swap_files() -> list:
    files = sorted(FUZZ_CORPUS.glob("*.dcm")) if FUZZ_CORPUS.is_dir() else []
    for name in ("CT_small.dcm", "MR_small_expb.dcm", "rtdose_rle.dcm"):
        if (CORPUS / name).is_file():
            files.append(CORPUS / name)
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no seed files"), id="none")]
    return [pytest.param(p, id=p.name) for p in files]


@pytest.mark.parametrize("path", _vr_swap_files())
def test_vr_confusion(path):
    count = 0
    for tag, old, new, mutated in _vr_swaps(path.read_bytes()):
        if (tag, new) in OPEN_BUGS:
            continue
        try:
            exercise(mutated)
        except AssertionError as exc:
            raise AssertionError(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) VR {old!r} -> {new!r}: "
                                 f"{exc}") from exc
        count += 1
    assert count > 0


@pytest.mark.parametrize("vr", sorted(vr.decode() for vr in NUMERIC_VRS))
def test_bug7_transfer_syntax_uid_with_numeric_vr(vr):
    data = _small_file(frames="1", pixel_bytes=4)
    marker = b"\x02\x00\x10\x00UI"
    assert data.count(marker) == 1
    data = data.replace(marker, b"\x02\x00\x10\x00" + vr.encode())
    with dicomframes.open(data) as f:
        f.describe()
        try:
            f.frames()
        except DicomFramesError:
            pass


# --------------------------------------------------------------------------------------
# replay fuzz/regressions/ on the libFuzzer C targets
# --------------------------------------------------------------------------------------

C_TARGETS = ("deflate", "jpeg", "jpeg8", "jpeg_any", "jls")
REGRESSIONS = REPO / "fuzz" / "regressions"


def _c_regressions() -> list:
    """(target, files): fuzz/regressions/<target>/* for each C target; the older
    top-level *.jpg reproducers belong to fuzz_jpeg."""
    params = []
    for target in C_TARGETS:
        files = sorted(p for p in (REGRESSIONS / target).glob("*") if p.is_file())
        if target == "jpeg":
            files += sorted(REGRESSIONS.glob("*.jpg"))
        if files:
            params.append(pytest.param(target, files, id=target))
    return params or [pytest.param(None, None, marks=pytest.mark.skip(
        reason="fuzz/regressions is empty"), id="none")]


@pytest.mark.parametrize("target, files", _c_regressions())
def test_replay_c_regressions(target, files, tmp_path):
    """Each reproducer of a fixed C-target finding runs once through its libFuzzer target,
    built here with ASan + UBSan by scripts/fuzz.sh --build (skips without clang)."""
    import shutil

    if shutil.which("clang") is None:
        pytest.skip("clang (libFuzzer) is not installed")
    import os

    # Not the suite's own sanitizer set-up (make asan preloads gcc's ASan runtime, which
    # clang's libFuzzer binary must not inherit)
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    built = subprocess.run(["bash", str(REPO / "scripts" / "fuzz.sh"), "--build", target],
                           env={**env, "FUZZ_BIN": str(tmp_path)},
                           capture_output=True, text=True, timeout=600, cwd=REPO)
    if built.returncode != 0:
        pytest.skip(f"cannot build fuzz_{target}: {built.stderr[-500:]}")
    def uncapped() -> None:  # ASan reserves terabytes of shadow: no `guarded` data cap
        resource.setrlimit(resource.RLIMIT_DATA,
                           (resource.getrlimit(resource.RLIMIT_DATA)[1],) * 2)

    done = subprocess.run([str(tmp_path / f"fuzz_{target}"), *map(str, files)], env=env,
                          capture_output=True, text=True, timeout=300, preexec_fn=uncapped)
    assert done.returncode == 0, done.stderr[-3000:]
