"""Transfer syntaxes: what each UID means for reading Pixel Data."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CODECS",
    "DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN",
    "DEFLATED_IMAGE_FRAME_COMPRESSION",
    "EXPLICIT_VR_BIG_ENDIAN",
    "EXPLICIT_VR_LITTLE_ENDIAN",
    "HTJ2K",
    "HTJ2K_LOSSLESS",
    "HTJ2K_LOSSLESS_RPCL",
    "IMPLICIT_VR_LITTLE_ENDIAN",
    "JPEG_2000",
    "JPEG_2000_LOSSLESS",
    "JPEG_BASELINE",
    "JPEG_EXTENDED",
    "JPEG_LOSSLESS",
    "JPEG_LOSSLESS_SV1",
    "JPEG_LS_LOSSLESS",
    "JPEG_LS_NEAR_LOSSLESS",
    "LOSSLESS_UID",
    "NATIVE",
    "RLE_LOSSLESS",
    "TransferSyntax",
    "transfer_syntax",
]

IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1.99"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEG_LS_NEAR_LOSSLESS = "1.2.840.10008.1.2.4.81"
JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
JPEG_2000 = "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
HTJ2K_LOSSLESS_RPCL = "1.2.840.10008.1.2.4.202"
HTJ2K = "1.2.840.10008.1.2.4.203"
DEFLATED_IMAGE_FRAME_COMPRESSION = "1.2.840.10008.1.2.8.1"

# The codec keys: TransferSyntax.key, benchmark inputs, reports. Native data is "native".
NATIVE = "native"
CODECS = (NATIVE, "rle", "jpegls", "j2k", "htj2k", "jpeg", "deflate")
# The lossless transfer syntax a codec key stands for when writing files.
LOSSLESS_UID = {
    NATIVE: EXPLICIT_VR_LITTLE_ENDIAN,
    "rle": RLE_LOSSLESS,
    "jpegls": JPEG_LS_LOSSLESS,
    "j2k": JPEG_2000_LOSSLESS,
    "htj2k": HTJ2K_LOSSLESS,
    "jpeg": JPEG_LOSSLESS_SV1,
    "deflate": DEFLATED_IMAGE_FRAME_COMPRESSION,
}


@dataclass(frozen=True)
class TransferSyntax:
    uid: str
    name: str
    encapsulated: bool
    codec: str | None  # None for native data; "rle", "jpegls", "j2k", "htj2k", "jpeg", ...
    lossy: bool = False

    @property
    def key(self) -> str:
        """The codec key (one of CODECS; "native" for uncompressed data), or
        the codec name for one outside CODECS."""
        return self.codec or NATIVE


_KNOWN = [
    TransferSyntax(IMPLICIT_VR_LITTLE_ENDIAN, "Implicit VR Little Endian", False, None),
    TransferSyntax(EXPLICIT_VR_LITTLE_ENDIAN, "Explicit VR Little Endian", False, None),
    TransferSyntax(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, "Deflated Explicit VR Little Endian",
                   False, None),
    TransferSyntax(EXPLICIT_VR_BIG_ENDIAN, "Explicit VR Big Endian", False, None),
    TransferSyntax(RLE_LOSSLESS, "RLE Lossless", True, "rle"),
    TransferSyntax(JPEG_BASELINE, "JPEG Baseline (Process 1)", True, "jpeg", True),
    TransferSyntax(JPEG_EXTENDED, "JPEG Extended (Process 2 & 4)", True, "jpeg", True),
    TransferSyntax(JPEG_LOSSLESS, "JPEG Lossless (Process 14)", True, "jpeg"),
    TransferSyntax(JPEG_LOSSLESS_SV1, "JPEG Lossless (Process 14, SV1)", True, "jpeg"),
    TransferSyntax(JPEG_LS_LOSSLESS, "JPEG-LS Lossless", True, "jpegls"),
    TransferSyntax(JPEG_LS_NEAR_LOSSLESS, "JPEG-LS Near-Lossless", True, "jpegls", True),
    TransferSyntax(JPEG_2000_LOSSLESS, "JPEG 2000 Lossless", True, "j2k"),
    TransferSyntax(JPEG_2000, "JPEG 2000", True, "j2k", True),
    TransferSyntax(HTJ2K_LOSSLESS, "HTJ2K Lossless", True, "htj2k"),
    TransferSyntax(HTJ2K_LOSSLESS_RPCL, "HTJ2K Lossless RPCL", True, "htj2k"),
    TransferSyntax(HTJ2K, "HTJ2K", True, "htj2k", True),
    TransferSyntax(DEFLATED_IMAGE_FRAME_COMPRESSION, "Deflated Image Frame Compression", True,
                   "deflate"),
]
# Encapsulated syntaxes we name but do not decode (video, JPEG XL, JPIP).
_KNOWN += [TransferSyntax(uid, name, True, None, True) for uid, name in (
    ("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile @ Main Level"),
    ("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile @ High Level"),
    ("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
    ("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1"),
    ("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1"),
    ("1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1"),
    ("1.2.840.10008.1.2.4.110", "JPEG XL Lossless"),
    ("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression"),
    ("1.2.840.10008.1.2.4.112", "JPEG XL"),
    ("1.2.840.10008.1.2.4.94", "JPIP Referenced"),
)]
_BY_UID = {ts.uid: ts for ts in _KNOWN}


def transfer_syntax(uid: str) -> TransferSyntax:
    """The TransferSyntax for `uid`; unknown UIDs are taken as encapsulated
    explicit VR little endian (every syntax defined after 1.2.840.10008.1.2.2
    is), with no codec."""
    ts = _BY_UID.get(uid)
    if ts is None:
        ts = TransferSyntax(uid, f"unknown ({uid})", True, None)
    return ts
