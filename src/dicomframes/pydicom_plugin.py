"""dicomframes as a pydicom (>= 3.0) pixel data decoding plugin.

    import dicomframes.pydicom_plugin as dcf_plugin
    dcf_plugin.install()                 # tried first for RLE, JPEG, JPEG-LS, J2K, HTJ2K
    ds.pixel_array                       # decoded by dicomframes' C codecs
    ds.pixel_array_options(decoding_plugin="dicomframes")   # ... or only by dicomframes
    dcf_plugin.uninstall()

The module follows pydicom's plugin contract: ``DECODER_DEPENDENCIES``,
``is_available(uid)`` and the decode callable ``_decode_frame(src, runner)``,
which decodes one frame with the GIL released and returns it as a
``bytearray``. pydicom then does what it does after any plugin (reshape, sign
and unused-bit corrections, YCbCr to RGB), so ``pixel_array`` comes out as it
does with the reference plugins: pylibjpeg-openjpeg for JPEG 2000 and HTJ2K,
pyjpegls (CharLS) for JPEG-LS, pydicom's own RLE decoder. What the frame holds
is described to pydicom through the runner options, as those plugins do:

* samples are colour-by-pixel (``planar_configuration`` 0);
* JPEG 2000 and JPEG-LS samples are in the container of the codestream
  precision (8, 16 or 32 bits, ``bits_allocated``), like pylibjpeg-openjpeg
  and pyjpegls, so that :meth:`Decoder.as_buffer` gives the same bytes too;
* JPEG 2000 YBR_RCT / YBR_ICT are returned as RGB (the inverse component
  transform belongs to the codec): ``photometric_interpretation`` RGB;
* YBR_FULL / YBR_FULL_422 are returned as decoded: pydicom converts them to
  RGB unless ``as_rgb=False``, exactly as for the other plugins;
* JPEG (baseline, extended, lossless) samples are returned as stored, in the
  Bits Allocated container: YCbCr stays YCbCr and pydicom converts it, as with
  its Pillow plugin (equal to pydicom + Pillow on every 8-bit file of the
  conformance corpus);
* sign and unused-bit corrections are already applied by the C codecs (the
  same arithmetic as pydicom's ``_apply_sign_correction`` and
  ``_correct_unused_bits``). pydicom's own corrections are left switched on:
  on already corrected samples they change nothing, and they keep frames
  right that pydicom hands to another plugin when this one fails. The
  options that switch them off (``apply_j2k_sign_correction``,
  ``apply_jls_sign_correction``, ``correct_unused_bits`` = False) are
  honoured: the C codec is then asked for the uncorrected values.

With pydicom 3.1, which keeps these properties per frame, the per-frame
options (``runner.set_frame_option``) are used; with 3.0 the runner-wide ones.
Options that dicomframes cannot honour (RLE ``rle_segment_order="<"``) make
the plugin raise, so that pydicom falls back to its other plugins.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from . import uids
from .decode import decode_frame

__all__ = [
    "DECODER_DEPENDENCIES",
    "PLUGIN_LABEL",
    "install",
    "installed",
    "is_available",
    "uninstall",
]

PLUGIN_LABEL = "dicomframes"

# The syntaxes this plugin decodes.
_UIDS = (uids.RLE_LOSSLESS, uids.JPEG_BASELINE, uids.JPEG_EXTENDED, uids.JPEG_LOSSLESS,
         uids.JPEG_LOSSLESS_SV1, uids.JPEG_LS_LOSSLESS, uids.JPEG_LS_NEAR_LOSSLESS,
         uids.JPEG_2000_LOSSLESS, uids.JPEG_2000, uids.HTJ2K_LOSSLESS, uids.HTJ2K_LOSSLESS_RPCL,
         uids.HTJ2K)


def _uid(value: str) -> Any:
    """`value` as a pydicom UID when pydicom is importable (the keys of
    DECODER_DEPENDENCIES then print with their names), else as a str."""
    try:
        from pydicom.uid import UID
    except ImportError:  # pragma: no cover - the plugin is only used by pydicom
        return value
    return UID(value)


DECODER_DEPENDENCIES: dict[Any, tuple[str, ...]] = {
    _uid(uid): ("numpy", "dicomframes") for uid in _UIDS
}

_J2K_COLOUR_TRANSFORMS = ("YBR_ICT", "YBR_RCT")


def is_available(uid: str) -> bool:
    """True if dicomframes can decode Pixel Data of Transfer Syntax `uid`
    (its compiled codecs import)."""
    if str(uid).rstrip("\x00 ") not in _UIDS:
        return False
    try:
        from . import _codecs  # noqa: F401 - the compiled codecs decode_frame calls
    except ImportError:
        return False
    return True


# --- the per-frame options of pydicom 3.1, with the runner-wide ones of 3.0 ---

def _option_access(runner: Any) -> tuple[Callable[..., Any], Callable[[str, Any], None]]:
    """(get, set) for the options that describe the frame being decoded.

    pydicom >= 3.1 keeps bits_allocated, photometric_interpretation,
    planar_configuration and the J2K / JPEG-LS codestream facts per frame
    (``get_frame_option(index, ...)`` / ``set_frame_option(index, ...)``);
    pydicom 3.0 has only the runner-wide ``get_option`` / ``set_option``.
    """
    get_frame_option = getattr(runner, "get_frame_option", None)
    set_frame_option = getattr(runner, "set_frame_option", None)
    if get_frame_option is not None and set_frame_option is not None:
        index = getattr(runner, "index", None)
        if index is None:
            index = getattr(runner, "_index", None)
        if index is not None:

            def get(name: str, default: Any = None) -> Any:
                value = get_frame_option(index, name, default)
                return default if value is None else value

            def set_(name: str, value: Any) -> None:
                set_frame_option(index, name, value)

            return get, set_

    def get_global(name: str, default: Any = None) -> Any:
        value = runner.get_option(name, default)
        return default if value is None else value

    return get_global, runner.set_option


def _container_bits(precision: int) -> int:
    """The sample size pylibjpeg-openjpeg / pyjpegls use for `precision`."""
    if precision <= 8:
        return 8
    if precision <= 16:
        return 16
    return 32


def _decode_frame(src: bytes, runner: Any) -> bytearray:
    """Decode one encoded frame `src` for pydicom's DecodeRunner `runner`.

    Returns the samples as a bytearray (native byte order, colour-by-pixel)
    and sets the runner's frame options to describe them.
    """
    tsyntax = str(runner.transfer_syntax)
    if tsyntax not in _UIDS:
        raise ValueError(f"the dicomframes plugin does not decode transfer syntax {tsyntax}")
    codec = uids.transfer_syntax(tsyntax).key
    get, set_ = _option_access(runner)

    bits_stored = runner.bits_stored
    pixel_representation = runner.pixel_representation
    photometric = str(get("photometric_interpretation", runner.photometric_interpretation))
    correct_sign = True
    if codec == "jpeg":
        # Colour as pydicom's Pillow plugin leaves it: the stored components (YCbCr
        # stays YCbCr), converted by pydicom itself when the photometric
        # interpretation says YBR_FULL(_422); samples in the Bits Allocated container.
        bits_allocated = get("bits_allocated", runner.bits_allocated)
    elif codec == "rle":
        if runner.get_option("rle_segment_order", ">") != ">":
            raise NotImplementedError(
                "the dicomframes plugin only decodes RLE segments in the standard "
                "(most significant byte first) order")
        bits_allocated = get("bits_allocated", runner.bits_allocated)
        # pydicom clears / sign-fills the bits above Bits Stored unless told not to.
        if not runner.get_option("correct_unused_bits", True):
            bits_stored = bits_allocated
    elif codec == "jpegls":
        bits_allocated = _container_bits(int(get("jls_precision", bits_stored)))
        # JPEG-LS has no signed samples: pydicom sign-extends from the precision.
        correct_sign = runner.get_option("apply_jls_sign_correction", True)
    else:
        bits_allocated = _container_bits(int(get("j2k_precision", bits_stored)))
        correct_sign = runner.get_option("apply_j2k_sign_correction", True)
    rows, columns, samples = runner.rows, runner.columns, runner.samples_per_pixel
    dtype = np.dtype(f"={'i' if pixel_representation else 'u'}{max(bits_allocated // 8, 1)}")
    shape = (rows, columns, samples) if samples > 1 else (rows, columns)
    out = bytearray(rows * columns * samples * dtype.itemsize)
    decode_frame(src, tsyntax, rows=rows, columns=columns, samples_per_pixel=samples,
                 bits_allocated=bits_allocated, bits_stored=min(bits_stored, bits_allocated),
                 pixel_representation=pixel_representation,
                 photometric_interpretation=photometric, as_rgb=False,
                 correct_sign=correct_sign, out=np.frombuffer(out, dtype).reshape(shape))
    if codec in ("j2k", "htj2k") and photometric in _J2K_COLOUR_TRANSFORMS:
        set_("photometric_interpretation", "RGB")

    if codec != "rle":
        set_("bits_allocated", bits_allocated)
    if samples > 1:
        set_("planar_configuration", 0)
    if getattr(runner, "set_frame_option", None) is not None:
        try:
            set_("decoding_plugin", PLUGIN_LABEL)
        except Exception:  # pragma: no cover - informative only
            pass
    return out


# --- registration with pydicom's decoders ---

_LOCK = threading.Lock()
_IMPORT_PATH = (__name__, "_decode_frame")


def _decoders() -> list[Any]:
    """pydicom's Decoder for every syntax this plugin decodes (that this
    pydicom version has)."""
    from pydicom.pixels.decoders.base import get_decoder

    decoders = []
    for uid in _UIDS:
        try:
            decoders.append(get_decoder(uid))
        except NotImplementedError:  # pragma: no cover - older pydicom
            continue
    return decoders


def _move(available: dict[str, Any], first: bool) -> None:
    """Put our entry first (or last) in a decoder's plugin dict, in place:
    pydicom tries the available plugins in the order of this dict."""
    if PLUGIN_LABEL not in available:
        return
    ours = available.pop(PLUGIN_LABEL)
    if first:
        rest = dict(available)
        available.clear()
        available[PLUGIN_LABEL] = ours
        available.update(rest)
    else:
        available[PLUGIN_LABEL] = ours


def install(prefer: bool = True) -> list[str]:
    """Register the plugin, under the label ``"dicomframes"``, with pydicom's
    decoders for RLE Lossless, JPEG-LS, JPEG 2000 and HTJ2K.

    With `prefer` (the default) it is moved first in each decoder's plugin
    order, so that pydicom tries it before the other available plugins (which
    remain as fall-backs); otherwise it is tried last. pydicom keeps no
    public plugin order: this reorders the decoder's ``_available`` dict,
    which pydicom 3.0 and 3.1 try in order. Calling install() again only
    re-applies `prefer`. Returns the Transfer Syntax UIDs it is available for.
    """
    registered = []
    with _LOCK:
        for decoder in _decoders():
            if (PLUGIN_LABEL not in decoder._available
                    and PLUGIN_LABEL not in decoder._unavailable):
                decoder.add_plugin(PLUGIN_LABEL, _IMPORT_PATH)
            _move(decoder._available, prefer)
            if PLUGIN_LABEL in decoder._available:
                registered.append(str(decoder.UID))
    return registered


def uninstall() -> None:
    """Remove the plugin from every pydicom decoder (harmless when absent)."""
    with _LOCK:
        for decoder in _decoders():
            if PLUGIN_LABEL in decoder._available or PLUGIN_LABEL in decoder._unavailable:
                decoder.remove_plugin(PLUGIN_LABEL)


def installed() -> bool:
    """True when the plugin is registered with any pydicom decoder."""
    return any(PLUGIN_LABEL in d._available or PLUGIN_LABEL in d._unavailable
               for d in _decoders())
