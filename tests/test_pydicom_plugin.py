"""dicomframes.pydicom_plugin: the pydicom decoding plugin.

* pydicom's own pixel reference checks (tests/pixels/pixels_reference.py of the
  installed pydicom's sdist, see tests/pydicom_reference.py) with dicomframes as
  the only decoding plugin, plus an exact comparison with the reference plugin
  (pydicom's RLE decoder, pyjpegls, pylibjpeg-openjpeg) on the same file;
* every RLE / JPEG-LS / JPEG 2000 / HTJ2K file of the conformance corpus
  against its manifest hash (lossy JPEG 2000 also exactly against pylibjpeg);
* decoding options (as_rgb, raw, the sign and unused-bit correction switches,
  per-frame access), install() / uninstall(), is_available(), the plugin order,
  and the pydicom 3.1 per-frame option API on a stand-in runner.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")

from pydicom import dcmread  # noqa: E402
from pydicom.pixels import get_decoder  # noqa: E402

import dicomframes.pydicom_plugin as plugin  # noqa: E402
from dicomframes.testing import (  # noqa: E402
    encapsulated_pixel_data,
    new_dataset,
    set_image_pixel,
)
from conftest import CORPUS, manifest_entries  # noqa: E402
import pydicom_reference  # noqa: E402

RLE = "1.2.840.10008.1.2.5"
JLS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JLS_NEAR = "1.2.840.10008.1.2.4.81"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
J2K = "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
HTJ2K_RPCL = "1.2.840.10008.1.2.4.202"
HTJ2K = "1.2.840.10008.1.2.4.203"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
UIDS = [RLE, JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1, JLS_LOSSLESS,
        JLS_NEAR, J2K_LOSSLESS, J2K, HTJ2K_LOSSLESS, HTJ2K_RPCL, HTJ2K]
CODECS = ("rle", "jpeg", "jpegls", "j2k", "htj2k")
LABEL = "dicomframes"


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# The plugin that produced pydicom's reference output for each syntax (and
# the module it needs), to compare with exactly.
def reference_plugin(uid: str) -> str | None:
    if uid == RLE:
        return "pydicom"
    if uid in (JLS_LOSSLESS, JLS_NEAR):
        return "pyjpegls" if _have("jpeg_ls") else None
    if uid in (JPEG_BASELINE, JPEG_EXTENDED):  # pydicom 3.1's preferred JPEG plugin
        return "pillow" if _have("PIL") else None
    if uid in (JPEG_LOSSLESS, JPEG_LOSSLESS_SV1):
        return "pylibjpeg" if _have("pylibjpeg") and _have("libjpeg") else None
    return "pylibjpeg" if _have("pylibjpeg") and _have("openjpeg") else None


# --- plugin state: every test that installs restores pydicom's decoders ---

def _order(uid: str) -> list[str]:
    """The available plugins in the order pydicom tries them for `uid`. pydicom has no
    public accessor for it, but shows it: given a frame no plugin can decode,
    ``Decoder.as_array`` tries every available plugin in turn and its error names them
    in that order."""
    decoder = get_decoder(uid)
    available = decoder.available_plugins
    if not available:
        return []
    ds = new_dataset(uid)
    set_image_pixel(ds, rows=4, columns=4, dtype=np.uint8)
    encapsulated_pixel_data(ds, [bytes(64)])  # no SOI / SOC marker, an RLE header of 0
    with warnings.catch_warnings(), pytest.raises(RuntimeError, match="all available") as info:
        warnings.simplefilter("ignore")
        decoder.as_array(ds)
    order = [name for name in re.findall(r"^  ([\w-]+): ", str(info.value), re.MULTILINE)
             if name in available]
    assert sorted(order) == sorted(available), str(info.value)
    return order


def _snapshot() -> bool | None:
    """None when the plugin is not installed, else whether it is preferred."""
    if not plugin.installed():
        return None
    return _order(RLE)[0] == LABEL


def _restore(state: bool | None) -> None:
    """install() and uninstall() keep the other plugins' order: undo to `state`."""
    plugin.uninstall()
    if state is not None:
        plugin.install(prefer=state)


@pytest.fixture
def clean_decoders():
    """pydicom's decoders without the plugin; restored afterwards."""
    state = _snapshot()
    plugin.uninstall()
    yield
    _restore(state)


@pytest.fixture(scope="module")
def installed():
    """The plugin installed (preferred) for the module's decoding tests."""
    state = _snapshot()
    plugin.install()
    yield
    _restore(state)


def decode(ds: Any, **kwargs: Any) -> tuple[np.ndarray, dict]:
    decoder = get_decoder(ds.file_meta.TransferSyntaxUID)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return decoder.as_array(ds, **kwargs)


def assert_same(ours: tuple[np.ndarray, dict], theirs: tuple[np.ndarray, dict]) -> None:
    arr, meta = ours
    ref, ref_meta = theirs
    assert arr.dtype == ref.dtype
    assert arr.shape == ref.shape
    np.testing.assert_array_equal(arr, ref)
    assert meta == ref_meta


# --- pydicom's pixel reference checks ---

_REFERENCE: dict[str, Any] = {}


def _cache_dir(config: pytest.Config) -> Path:
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("dicomframes-pydicom-sdist"))
    return pydicom_reference.DEFAULT_CACHE  # tests/.cache (git-ignored)


def _load_reference(config: pytest.Config) -> pydicom_reference.Loaded:
    if "loaded" not in _REFERENCE:
        _REFERENCE["loaded"] = pydicom_reference.load_reference(_cache_dir(config))
    return _REFERENCE["loaded"]


_OFFLINE = "not available offline (pydicom-data; not in pydicom, its download cache or the corpus)"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`reference_check` runs pydicom's check and needs every file it reads;
    `reference_file` compares with the reference plugin and needs only the
    entry's own file."""
    for argname in ("reference_check", "reference_file"):
        if argname in metafunc.fixturenames:
            break
    else:
        return
    loaded = _load_reference(metafunc.config)
    if loaded.module is None:
        metafunc.parametrize(argname, [pytest.param(
            None, marks=pytest.mark.skip(reason=f"no pydicom reference data: {loaded.reason}"))],
            ids=["no-reference"])
        return
    params = []
    for uid, name, ref in pydicom_reference.reference_entries(loaded.module, UIDS):
        needed = pydicom_reference.required_files(ref)
        if argname == "reference_file":
            needed = needed[:1]
        missing = [n for n in needed if loaded.resolver.path(n) is None]
        marks = [pytest.mark.skip(reason=f"{', '.join(missing)} {_OFFLINE}")] if missing else []
        params.append(pytest.param((uid, name, ref), id=f"{name}-{ref.name}", marks=marks))
    metafunc.parametrize(argname, params)


def _reference_ds(ref: Any) -> Any:
    """A fresh dataset of the entry's file (the checks may not mutate ref.ds)."""
    return dcmread(_REFERENCE["loaded"].resolver.path(ref.name), force=True)


def _skip_if_pillow_agrees(uid: str, ds: Any, arr: np.ndarray) -> None:
    """Some of pydicom's checks of lossy JPEG pin one decoder's rounding of the IDCT and
    the chroma upsampling (pylibjpeg-libjpeg's). Where pydicom's own Pillow plugin
    (libjpeg-turbo, as here) gives exactly our array, such a check cannot tell right
    from wrong: skip it, saying so. Anything else is a real failure."""
    if uid not in (JPEG_BASELINE, JPEG_EXTENDED):
        return
    if not _have("PIL"):
        pytest.skip("pydicom's check of this lossy JPEG failed; Pillow, the second opinion "
                    "on libjpeg-turbo's rounding, is not installed")
    try:
        pillow, _ = decode(ds, raw=True, decoding_plugin="pillow")
    except Exception:  # noqa: BLE001 - Pillow cannot decode it: no second opinion
        return
    if pillow.shape == arr.shape and np.array_equal(pillow, arr):
        pytest.skip("pydicom's check pins another decoder's lossy rounding; dicomframes "
                    "equals pydicom + Pillow (libjpeg-turbo) exactly on this file")


def test_reference_check(reference_check, installed):
    """pydicom's own check of each reference file, decoded by dicomframes only
    (as pydicom's plugin tests do it: raw=True), for all frames at once and
    for single frames by index where the check supports that."""
    uid, name, ref = reference_check
    ds = _reference_ds(ref)
    assert str(ds.file_meta.TransferSyntaxUID) == uid

    arr, meta = decode(ds, raw=True, decoding_plugin=LABEL)
    try:
        ref.test(arr)
    except AssertionError:
        _skip_if_pillow_agrees(uid, ds, arr)
        raise
    assert arr.shape == ref.shape
    assert arr.dtype == ref.dtype
    assert arr.flags.writeable
    assert meta.get("planar_configuration", 0) == 0

    frames = ref.number_of_frames
    # Some checks take one frame and its `index`; the others only the whole array.
    if frames == 1 or "index" in inspect.getsource(ref._test):
        for index in sorted({0, frames // 2, frames - 1}):
            frame, _ = decode(ds, raw=True, index=index, decoding_plugin=LABEL)
            ref.test(frame, index=index)
            assert frame.dtype == ref.dtype


def test_reference_matches_plugin(reference_file, installed):
    """The same file through dicomframes and through the reference plugin
    (pydicom RLE, pyjpegls, pylibjpeg-openjpeg): identical arrays and pixel
    properties, with and without colour conversion; single frames (by index
    and by iteration) equal the frames of the whole array."""
    uid, name, ref = reference_file
    ds = _reference_ds(ref)
    decoder = get_decoder(uid)
    arr, _ = decode(ds, raw=True, decoding_plugin=LABEL)

    frames = ref.number_of_frames
    for index in sorted({0, frames // 2, frames - 1}):
        frame, _ = decode(ds, raw=True, index=index, decoding_plugin=LABEL)
        np.testing.assert_array_equal(frame, arr[index] if frames > 1 else arr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        iterated = [a for a, _ in decoder.iter_array(ds, raw=True, decoding_plugin=LABEL)]
    assert len(iterated) == frames
    np.testing.assert_array_equal(np.stack(iterated) if frames > 1 else iterated[0], arr)

    other = reference_plugin(uid)
    if uid == JPEG_EXTENDED and ds.BitsStored > 8:
        other = None  # Pillow decodes 8-bit JPEG only
    if other is None:
        pytest.skip(f"no reference plugin installed for {uid}")
    for raw in (True, False):
        assert_same(decode(ds, raw=raw, decoding_plugin=LABEL),
                    decode(ds, raw=raw, decoding_plugin=other))


# --- the conformance corpus ---

def _sha256(arr: np.ndarray) -> str:
    data = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<")))
    return hashlib.sha256(data.tobytes()).hexdigest()


def _corpus_entries() -> list[Any]:
    entries = [e for e in manifest_entries("compressed", expect="pixels") if e["codec"] in CODECS]
    if not entries:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"no RLE / JPEG-LS / JPEG 2000 files in a corpus at {CORPUS}"))]
    return [pytest.param(e, id=e["file"]) for e in entries]


def _corpus_ds(entry: dict) -> Any:
    ds = dcmread(CORPUS / entry["file"], force=True)
    if "TransferSyntaxUID" not in ds.file_meta:  # files without File Meta Information
        ds.file_meta.TransferSyntaxUID = entry["transfer_syntax_uid"]
    return ds


@pytest.mark.parametrize("entry", _corpus_entries())
def test_corpus(entry, installed):
    """pixel_array through the plugin has the manifest's hash (default and raw)."""
    ds = _corpus_ds(entry)
    expected = entry["expected"]
    ds.pixel_array_options(decoding_plugin=LABEL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arr = ds.pixel_array
    assert arr.dtype == np.dtype(expected["dtype"])
    assert list(arr.shape) == expected["shape"]
    assert _sha256(arr) == expected["sha256"]
    raw, _ = decode(ds, raw=True, decoding_plugin=LABEL)
    assert _sha256(raw) == expected["sha256_raw"]


@pytest.mark.skipif(not (_have("pylibjpeg") and _have("openjpeg")),
                    reason="pylibjpeg-openjpeg is not installed")
@pytest.mark.parametrize("entry", [
    pytest.param(e, id=e["file"]) for e in manifest_entries("compressed", expect="pixels")
    if e["codec"] in ("j2k", "htj2k") and e["lossy"]
] or [pytest.param(None, marks=pytest.mark.skip(reason="no lossy JPEG 2000 in the corpus"))])
def test_corpus_lossy_j2k_matches_pylibjpeg(entry, installed):
    """Lossy JPEG 2000: the same OpenJPEG arithmetic, so exactly pylibjpeg's output."""
    ds = _corpus_ds(entry)
    for raw in (True, False):
        assert_same(decode(ds, raw=raw, decoding_plugin=LABEL),
                    decode(ds, raw=raw, decoding_plugin="pylibjpeg"))


# --- decoding options ---

def _testdata(name: str) -> Any:
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"{name} is not among pydicom's bundled test files")
    return dcmread(path)


@pytest.mark.parametrize("as_rgb", [True, False])
def test_ybr_full_rle_colour_conversion(installed, as_rgb):
    """YBR_FULL is returned as decoded and converted by pydicom, like the RLE plugin."""
    ds = _testdata("SC_rgb_rle_2frame.dcm")
    ds.PhotometricInterpretation = "YBR_FULL"
    ours = decode(ds, as_rgb=as_rgb, decoding_plugin=LABEL)
    assert_same(ours, decode(ds, as_rgb=as_rgb, decoding_plugin="pydicom"))
    assert ours[1]["photometric_interpretation"] == ("RGB" if as_rgb else "YBR_FULL")


@pytest.mark.parametrize("name, option, other", [
    ("J2K_pixelrep_mismatch.dcm", "apply_j2k_sign_correction", "pylibjpeg"),
    ("MR_small_jpeg_ls_lossless.dcm", "apply_jls_sign_correction", "pyjpegls"),
    ("MR_small_RLE.dcm", "correct_unused_bits", "pydicom"),
])
@pytest.mark.parametrize("value", [True, False])
def test_correction_switches(installed, name, option, other, value):
    """The sign / unused-bit correction options give the reference plugin's
    output, whether on (default) or off."""
    ds = _testdata(name)
    if other == "pylibjpeg" and not (_have("pylibjpeg") and _have("openjpeg")):
        pytest.skip("pylibjpeg-openjpeg is not installed")
    if other == "pyjpegls" and not _have("jpeg_ls"):
        pytest.skip("pyjpegls is not installed")
    kwargs = {option: value}
    assert_same(decode(ds, decoding_plugin=LABEL, **kwargs),
                decode(ds, decoding_plugin=other, **kwargs))


def _with_unused_bits(ds: Any) -> Any:
    """MR_small_RLE with Bits Stored 12 (its values use all 16 bits)."""
    ds.BitsStored = 12
    ds.HighBit = 11
    return ds


@pytest.mark.parametrize("value", [True, False])
def test_rle_unused_bits(installed, value):
    ds = _with_unused_bits(_testdata("MR_small_RLE.dcm"))
    ours = decode(ds, decoding_plugin=LABEL, correct_unused_bits=value)
    assert_same(ours, decode(ds, decoding_plugin="pydicom", correct_unused_bits=value))
    if value:
        assert ours[0].min() >= -2048 and ours[0].max() <= 2047


def test_signed_jls_precision_8_in_16_bits(installed):
    """JPEG-LS precision 8 with Bits Allocated 16, signed: the container size
    and the sign extension follow pyjpegls + pydicom."""
    if not _have("jpeg_ls"):
        pytest.skip("pyjpegls is not installed")
    ds = _testdata("JPEGLSNearLossless_08.dcm")
    ds.BitsAllocated = 16
    ds.PixelRepresentation = 1
    for value in (True, False):
        ours = decode(ds, decoding_plugin=LABEL, apply_jls_sign_correction=value)
        assert ours[0].dtype == np.int16
        assert_same(ours, decode(ds, decoding_plugin="pyjpegls", apply_jls_sign_correction=value))


@pytest.mark.parametrize("name, other", [
    ("JPEGLSNearLossless_08.dcm", "pyjpegls"),
    ("emri_small_jpeg_2k_lossless.dcm", "pylibjpeg"),
    ("SC_rgb_rle_2frame.dcm", "pydicom"),
])
def test_as_buffer_matches_reference_plugin(installed, name, other):
    """Raw buffers: the same container size and bytes as the reference plugin
    (unsigned data, so no correction is involved)."""
    if other == "pyjpegls" and not _have("jpeg_ls"):
        pytest.skip("pyjpegls is not installed")
    if other == "pylibjpeg" and not (_have("pylibjpeg") and _have("openjpeg")):
        pytest.skip("pylibjpeg-openjpeg is not installed")
    if name == "emri_small_jpeg_2k_lossless.dcm":
        if not (CORPUS / name).is_file():
            pytest.skip(f"{name} is not in the corpus")
        ds = dcmread(CORPUS / name)
    else:
        ds = _testdata(name)
    decoder = get_decoder(ds.file_meta.TransferSyntaxUID)
    buffer, meta = decoder.as_buffer(ds, decoding_plugin=LABEL)
    ref_buffer, ref_meta = decoder.as_buffer(ds, decoding_plugin=other)
    assert meta["bits_allocated"] == ref_meta["bits_allocated"]
    assert len(buffer) == len(ref_buffer)
    if other != "pydicom":  # pydicom's RLE buffer is colour-by-plane
        assert bytes(buffer) == bytes(ref_buffer)


def test_bits_allocated_larger_than_precision(installed):
    """JPEG-LS precision 8 decoded for Bits Allocated 16 (pydicom's own test)."""
    if not _have("jpeg_ls"):
        pytest.skip("pyjpegls is not installed")
    ds = _testdata("JPEGLSNearLossless_08.dcm")
    ours = decode(ds, raw=True, decoding_plugin=LABEL, bits_allocated=16)
    assert ours[0].dtype == np.uint16
    assert ours[1]["bits_allocated"] == 16
    assert_same(ours, decode(ds, raw=True, decoding_plugin="pyjpegls", bits_allocated=16))


def test_rle_little_endian_segments_unsupported(installed):
    """An option dicomframes cannot honour makes it fail, so pydicom's RLE
    decoder is used instead."""
    ds = _testdata("MR_small_RLE.dcm")
    with pytest.raises(RuntimeError, match="dicomframes: .*standard"):
        decode(ds, decoding_plugin=LABEL, rle_segment_order="<")
    fallback, _ = decode(ds, rle_segment_order="<")  # decoded by another plugin
    assert fallback.shape == (64, 64)


def test_bad_data_reports_our_error(installed):
    ds = _testdata("MR_small_RLE.dcm")
    from pydicom.encaps import encapsulate

    ds.PixelData = encapsulate([b"\x00" * 80])
    with pytest.raises(RuntimeError, match="dicomframes: "):
        decode(ds, decoding_plugin=LABEL)


def test_concurrent_decoding(installed):
    ds = _testdata("SC_rgb_rle_2frame.dcm")
    expected, _ = decode(ds, decoding_plugin=LABEL)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                results.append(decode(ds, decoding_plugin=LABEL)[0])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 20
    for arr in results:
        np.testing.assert_array_equal(arr, expected)


# --- registration ---

def test_module_contract():
    assert set(map(str, plugin.DECODER_DEPENDENCIES)) == set(UIDS)
    for deps in plugin.DECODER_DEPENDENCIES.values():
        assert deps == ("numpy", "dicomframes")
    assert callable(plugin._decode_frame)


@pytest.mark.parametrize("uid", UIDS)
def test_is_available(uid):
    from pydicom.uid import UID

    assert plugin.is_available(uid) is True
    assert plugin.is_available(UID(uid)) is True


@pytest.mark.parametrize("uid", ["1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.1", "1.2.3.4",
                                 ""])
def test_is_not_available(uid):
    assert plugin.is_available(uid) is False


def test_install_prefers(clean_decoders):
    before = {uid: _order(uid) for uid in UIDS}
    assert not plugin.installed()
    assert sorted(plugin.install()) == sorted(UIDS)
    assert plugin.installed()
    for uid in UIDS:
        order = _order(uid)
        assert order[0] == LABEL
        assert order[1:] == before[uid]  # the other plugins keep their order
        assert LABEL in get_decoder(uid).available_plugins


def test_install_twice_and_reorder(clean_decoders):
    plugin.install()
    plugin.install()
    for uid in UIDS:
        order = _order(uid)
        assert order.count(LABEL) == 1 and order[0] == LABEL
    plugin.install(prefer=False)
    for uid in UIDS:
        order = _order(uid)
        assert order.count(LABEL) == 1 and order[-1] == LABEL
    plugin.install(prefer=True)
    assert all(_order(uid)[0] == LABEL for uid in UIDS)


def test_uninstall(clean_decoders):
    before = {uid: _order(uid) for uid in UIDS}
    plugin.install()
    plugin.uninstall()
    plugin.uninstall()  # harmless
    assert not plugin.installed()
    for uid in UIDS:
        assert _order(uid) == before[uid]
    ds = _testdata("MR_small_RLE.dcm")
    with pytest.raises(ValueError, match="No plugin named 'dicomframes'"):
        decode(ds, decoding_plugin=LABEL)


def test_preferred_plugin_is_used(clean_decoders, monkeypatch):
    """After install(prefer=True) pydicom decodes with dicomframes unasked."""
    calls = []
    original = plugin._decode_frame

    def counting(src, runner):
        calls.append(len(src))
        return original(src, runner)

    # pydicom takes the plugin's decode function when the plugin is added
    monkeypatch.setattr(plugin, "_decode_frame", counting)
    plugin.install(prefer=True)
    ds = _testdata("SC_rgb_rle_2frame.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arr = ds.pixel_array
    assert len(calls) == 2  # one call per frame, no other plugin tried first
    assert_same((arr, {}), (decode(ds, decoding_plugin="pydicom")[0], {}))


def test_not_preferred_plugin_is_fallback(clean_decoders, monkeypatch):
    calls = []
    original = plugin._decode_frame
    monkeypatch.setattr(plugin, "_decode_frame",
                        lambda src, runner: calls.append(1) or original(src, runner))
    plugin.install(prefer=False)
    ds = _testdata("SC_rgb_rle.dcm")
    ds.pixel_array  # noqa: B018 - decoded by the first plugin (pylibjpeg or pydicom)
    assert calls == []


# --- the pydicom 3.1 per-frame option API, on a stand-in runner ---

class PerFrameRunner:
    """The parts of a pydicom 3.1 DecodeRunner the plugin uses: runner-wide
    options plus get/set_frame_option(index, ...) and `index`."""

    def __init__(self, tsyntax: str, **opts: Any) -> None:
        from pydicom.uid import UID

        self.transfer_syntax = UID(tsyntax)
        self._opts = dict(opts)
        self.index = 3
        self._frame = {3: {k: opts[k] for k in ("bits_allocated", "photometric_interpretation",
                                               "planar_configuration") if k in opts}}
        self.global_sets: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name in ("rows", "columns", "samples_per_pixel", "bits_allocated", "bits_stored",
                    "pixel_representation", "photometric_interpretation"):
            return self._opts[name]
        raise AttributeError(name)

    def get_option(self, name: str, default: Any = None) -> Any:
        return self._opts.get(name, default)

    def set_option(self, name: str, value: Any) -> None:
        self.global_sets.append(name)
        self._opts[name] = value

    def get_frame_option(self, index: int, name: str, default: Any = None) -> Any:
        return self._frame[index].get(name, default)

    def set_frame_option(self, index: int, name: str, value: Any) -> None:
        self._frame[index][name] = value


def test_per_frame_options_pydicom_3_1():
    """With set_frame_option the plugin describes the frame per frame and
    leaves the runner-wide options alone."""
    ds = _testdata("SC_rgb_gdcm_KY.dcm")  # JPEG 2000, 8-bit RGB
    from pydicom.encaps import get_frame

    src = get_frame(ds.PixelData, 0, number_of_frames=1)
    runner = PerFrameRunner(
        str(ds.file_meta.TransferSyntaxUID), rows=ds.Rows, columns=ds.Columns,
        samples_per_pixel=3, bits_allocated=16, bits_stored=8, pixel_representation=0,
        photometric_interpretation="YBR_ICT", planar_configuration=1)
    runner._frame[3]["j2k_precision"] = 8
    out = plugin._decode_frame(src, runner)
    assert runner.global_sets == []
    frame = runner._frame[3]
    assert frame["bits_allocated"] == 8
    assert frame["planar_configuration"] == 0
    assert frame["photometric_interpretation"] == "RGB"
    assert frame["decoding_plugin"] == LABEL
    assert len(out) == ds.Rows * ds.Columns * 3
    expected, _ = decode(ds, raw=True, decoding_plugin="pylibjpeg") if (
        _have("pylibjpeg") and _have("openjpeg")) else (None, None)
    if expected is not None:
        np.testing.assert_array_equal(
            np.frombuffer(out, np.uint8).reshape(ds.Rows, ds.Columns, 3), expected)


def test_global_options_pydicom_3_0():
    """Without the per-frame API the runner-wide options are set (pydicom 3.0)."""
    ds = _testdata("JPEGLSNearLossless_16.dcm")
    from pydicom.encaps import get_frame

    src = get_frame(ds.PixelData, 0, number_of_frames=1)

    class Runner30(PerFrameRunner):
        get_frame_option = None  # type: ignore[assignment]
        set_frame_option = None  # type: ignore[assignment]

    runner = Runner30(str(ds.file_meta.TransferSyntaxUID), rows=ds.Rows, columns=ds.Columns,
                      samples_per_pixel=1, bits_allocated=16, bits_stored=16,
                      pixel_representation=0, photometric_interpretation="MONOCHROME2",
                      jls_precision=16)
    out = plugin._decode_frame(src, runner)
    assert runner.global_sets == ["bits_allocated"]
    assert len(out) == ds.Rows * ds.Columns * 2


@pytest.mark.parametrize("entry", [e for e in manifest_entries("compressed", expect="pixels")
                                   if e["codec"] in ("jpeg", "jpeg-lossless")]
                         or [pytest.param(None, marks=pytest.mark.skip(reason="no corpus"))],
                         ids=lambda e: e["file"] if e else "none")
def test_jpeg_corpus_through_pydicom(entry, installed):
    """pydicom + this plugin on every JPEG file of the conformance corpus: the manifest's
    checksums, with pydicom's colour conversion (default) and without (raw=True)."""
    from conftest import manifest_sha256

    ds = dcmread(CORPUS / entry["file"])
    expected = entry["expected"]
    for raw, key in ((False, "sha256"), (True, "sha256_raw")):
        arr, _ = decode(ds, raw=raw, decoding_plugin=LABEL)
        assert manifest_sha256(arr.reshape(expected["shape"])) == expected[key], (raw, key)
