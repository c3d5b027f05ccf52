"""Transfer syntaxes: what each UID means for reading Pixel Data."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TransferSyntax", "transfer_syntax"]


@dataclass(frozen=True)
class TransferSyntax:
    uid: str
    name: str
    encapsulated: bool
    codec: str | None  # None for native data; "rle", "jpegls", "j2k", "htj2k", "jpeg", ...
    lossy: bool = False


_KNOWN = [
    TransferSyntax("1.2.840.10008.1.2", "Implicit VR Little Endian", False, None),
    TransferSyntax("1.2.840.10008.1.2.1", "Explicit VR Little Endian", False, None),
    TransferSyntax("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", False, None),
    TransferSyntax("1.2.840.10008.1.2.2", "Explicit VR Big Endian", False, None),
    TransferSyntax("1.2.840.10008.1.2.5", "RLE Lossless", True, "rle"),
    TransferSyntax("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", True, "jpeg", True),
    TransferSyntax("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", True, "jpeg", True),
    TransferSyntax("1.2.840.10008.1.2.4.57", "JPEG Lossless (Process 14)", True, "jpeg"),
    TransferSyntax("1.2.840.10008.1.2.4.70", "JPEG Lossless (Process 14, SV1)", True, "jpeg"),
    TransferSyntax("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless", True, "jpegls"),
    TransferSyntax("1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless", True, "jpegls", True),
    TransferSyntax("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless", True, "j2k"),
    TransferSyntax("1.2.840.10008.1.2.4.91", "JPEG 2000", True, "j2k", True),
    TransferSyntax("1.2.840.10008.1.2.4.201", "HTJ2K Lossless", True, "htj2k"),
    TransferSyntax("1.2.840.10008.1.2.4.202", "HTJ2K Lossless RPCL", True, "htj2k"),
    TransferSyntax("1.2.840.10008.1.2.4.203", "HTJ2K", True, "htj2k", True),
]
_BY_UID = {ts.uid: ts for ts in _KNOWN}


def transfer_syntax(uid: str) -> TransferSyntax:
    """The TransferSyntax for `uid`; unknown UIDs are taken as encapsulated
    explicit VR little endian (every syntax defined after 1.2.840.10008.1.2.2
    is), with no codec."""
    ts = _BY_UID.get(uid)
    if ts is None:
        ts = TransferSyntax(uid, f"unknown ({uid})", True, None)
    return ts
