"""The values of a scanned data set: `Item` (one data set of the element
index: the top level or one sequence item) and `DatasetValues`, which decodes
an element's value from the source bytes by its VR and character set, and
reads the Image Pixel module in one pass.
"""

from __future__ import annotations

from typing import Any

from ._core import FLAG_BIG_ENDIAN, FLAG_ENCAPSULATED, FLAG_IMPLICIT_VR
from .errors import MalformedError, format_tag
from .keywords import parse_tag
from .pixels import PIXEL_MODULE_TAGS, PixelModule
from .source import Source
from .values import (
    LENIENT_TEXT_BYTES,
    decode_value,
    first_cs,
    first_is,
    implicit_vr,
    python_encoding,
)

__all__ = ["DatasetValues", "Item", "MISSING", "as_tag"]

MISSING: Any = object()
# PixelModule's fields are its US attributes, then Number of Frames and Photometric
# Interpretation.
_US_TAGS = PIXEL_MODULE_TAGS[:7]
_TEXT_TAGS = PIXEL_MODULE_TAGS[7:]
TAG_SPECIFIC_CHARACTER_SET = 0x00080005
_TAG_NUMBER_OF_FRAMES = PIXEL_MODULE_TAGS[7]
_TAG_HIGH_BIT = 0x00280102  # not read, but checked as the others
_PIXEL_NAMES = dict(zip(PIXEL_MODULE_TAGS, (
    "Rows", "Columns", "Samples per Pixel", "Bits Allocated", "Bits Stored",
    "Pixel Representation", "Planar Configuration", "Number of Frames",
    "Photometric Interpretation")))
_PIXEL_NAMES[_TAG_HIGH_BIT] = "High Bit"
_TAG_PHOTOMETRIC = 0x00280004
# The US attributes and Number of Frames, High Bit, then Photometric Interpretation (VR only).
_CHECKED_TAGS = (*PIXEL_MODULE_TAGS[:8], _TAG_HIGH_BIT, _TAG_PHOTOMETRIC)
_new_tuple = tuple.__new__
# Checked, not read, by the fast way (ElementIndex.plain_values).
_PLAIN_CHECKED_TAGS = (_TAG_HIGH_BIT,)
# Values at least this long are decoded from a view, not copied first.
_COPY_BELOW_BYTES = 4096


# An int tag from an int, a (group, element) pair, a standard keyword
# ("PatientName") or a hex string ("(0010,0010)", "00100010").
as_tag = parse_tag


class DatasetValues:
    """Decodes values of the elements of `index` from `source`'s bytes."""

    __slots__ = ("_index", "_source", "_charset")

    def __init__(self, index: Any, source: Source) -> None:
        self._index = index
        self._source = source
        self._charset: str | None = None

    def _buffer(self) -> memoryview:
        if self._source.closed:
            raise ValueError("I/O operation on a closed DicomFile")
        return self._source.buffer

    def raw(self, index: int) -> memoryview:
        """Element `index`'s value bytes, as a view."""
        record = self._index.record(index)
        return self._buffer()[record.offset:record.offset + record.length]

    def decode(self, index: int, item: Any) -> Any:
        """The value of element `index`, decoded by its VR; a list of
        `item(element)` for each item of a sequence."""
        tag, vr, flags, offset, length = self._index.record(index)
        if flags & FLAG_IMPLICIT_VR and vr in ("UN", "OW"):
            vr = implicit_vr(tag)
        if vr == "SQ":
            return [item(i) for i in self._index.items_of(index)]
        if flags & FLAG_ENCAPSULATED:
            raise MalformedError(f"{format_tag(tag)} holds encapsulated fragments, not a value",
                                 tag=tag, offset=offset)
        raw = self._buffer()[offset:offset + length]
        try:
            return decode_value(raw.tobytes() if length < _COPY_BELOW_BYTES else raw, vr,
                                big_endian=bool(flags & FLAG_BIG_ENDIAN),
                                encoding=self.text_encoding())
        except (ValueError, OverflowError) as exc:  # IS "1A": not a number; "1e999"
            raise MalformedError(f"{format_tag(tag)} at offset {offset}: invalid {vr} value "
                                 f"{bytes(raw[:64])!r}: {exc}", tag=tag, offset=offset) from None

    def text_encoding(self) -> str:
        """The Python codec for the top level's Specific Character Set."""
        if self._charset is None:
            # Read directly: decoding it through decode() would need the encoding
            # being worked out here. Its CS values are ASCII.
            index = self._index.find(-1, TAG_SPECIFIC_CHARACTER_SET)
            charset = None
            if index >= 0:
                charset = decode_value(self.raw(index).tobytes(), "CS")
            self._charset = python_encoding(charset)
        return self._charset

    def pixel_module(self) -> PixelModule:
        """The top-level Image Pixel attributes as stored (None where absent or
        unreadable), read leniently: the first value of IS and CS, US of any
        length >= 2. The checks belong to `pixels.describe_pixels`."""
        buffer = self._buffer()
        # The usual case in one C pass: every attribute absent or plainly well-formed
        # (anything else, errors included, is left to the general way below).
        plain = self._index.plain_values(buffer, _US_TAGS, _PLAIN_CHECKED_TAGS,
                                         _TAG_NUMBER_OF_FRAMES, _TAG_PHOTOMETRIC,
                                         LENIENT_TEXT_BYTES)
        if plain is not None:
            return _new_tuple(PixelModule, plain)  # _make, without its Python frame
        return self._read_pixel_module(buffer)

    def _read_pixel_module(self, buffer: memoryview) -> PixelModule:
        """`pixel_module` the general way, whatever the file holds: the one place
        that words the errors."""
        *numbers, frames, photometric = self._index.top_level_values(
            buffer, _US_TAGS, _TEXT_TAGS, LENIENT_TEXT_BYTES)
        self._check_pixel_values(numbers, frames)
        return PixelModule._make([*numbers, None if frames is None else first_is(frames),
                                  None if photometric is None else first_cs(photometric)])

    def _check_pixel_values(self, numbers: list[int | None], frames: bytes | None) -> None:
        """Refuse Image Pixel attributes that are present but cannot be read as
        their VR: a US value of the wrong VR or of 1 or an odd number of bytes,
        a Number of Frames that is not an IS (such as "1A"). MalformedError,
        naming the tag and the value; an empty value counts as absent."""
        values = (*numbers, frames, 0)  # High Bit: not read, checked as the others
        records = self._index.top_level_records(_CHECKED_TAGS)
        for tag, value, record in zip(_CHECKED_TAGS, values, records):
            if record is None:
                continue
            found, vr, flags, offset, length = record
            is_frames = tag == _TAG_NUMBER_OF_FRAMES
            if not flags & FLAG_IMPLICIT_VR and vr not in (_IS_VRS if is_frames else _US_VRS):
                raise MalformedError(f"{_where(tag, offset)} has VR {vr}, not "
                                     f"{'IS' if is_frames else 'US'}", tag=tag, offset=offset)
            if length == 0:
                continue  # empty: absent, as pydicom reads it
            if not is_frames:
                if length % 2 or value is None:
                    raw = bytes(self.raw(found)[:8])
                    raise MalformedError(f"{_where(tag, offset)} is {length} bytes ({raw!r}), "
                                         f"not a US value (2 bytes)", tag=tag, offset=offset)
                continue
            # the value as top_level_values cut it, else (past the end of the data) read here
            raw = frames if frames is not None else bytes(self.raw(found)[:LENIENT_TEXT_BYTES + 1])
            text = raw.split(b"\\")[0].strip(b" \x00")
            if text and (len(raw) > LENIENT_TEXT_BYTES or first_is(raw) is None):
                shown = raw[:LENIENT_TEXT_BYTES].decode("latin-1")
                raise MalformedError(f"{_where(tag, offset)} is {shown!r}, not a valid IS "
                                     f"(integer string)", tag=tag, offset=offset)
        photometric = records[-1]
        if photometric is not None:
            _, vr, flags, offset, _ = photometric
            if not flags & FLAG_IMPLICIT_VR and vr not in _PHOTOMETRIC_VRS:
                raise MalformedError(f"{format_tag(_TAG_PHOTOMETRIC)} Photometric Interpretation "
                                     f"at offset {offset} has VR {vr}, not CS",
                                     tag=_TAG_PHOTOMETRIC, offset=offset)


_US_VRS = frozenset(["US", "SS", "UN", "OW", "OB"])
_IS_VRS = frozenset(["IS", "UN"])


def _where(tag: int, offset: int) -> str:
    """How an Image Pixel attribute is named in messages (formatted only for one)."""
    return f"{format_tag(tag)} {_PIXEL_NAMES[tag]} at offset {offset}"


# Photometric Interpretation is read from any text VR (or UN), not from a number or a
# sequence.
_PHOTOMETRIC_VRS = frozenset(["CS", "UN", "LO", "SH", "ST", "LT", "UT", "UC", "OB"])


def _describe(value: Any) -> str:
    """A short account of a decoded value of the wrong kind, for error messages."""
    if isinstance(value, list) and value and all(isinstance(v, Item) for v in value):
        return f"a sequence of {len(value)} item(s)"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


class Item:
    """A read-only view of one data set in the index: the top level of a file
    or one item of a sequence."""

    __slots__ = ("_file", "_index", "_table")

    def __init__(self, file: Any, index: int) -> None:
        self._file = file
        self._index = index  # -1 for the top level
        self._table: dict[int, int] | None = None

    def _lookup(self) -> dict[int, int]:
        if self._table is None:
            self._table = self._file._index.children(self._index)
        return self._table

    def __contains__(self, tag: Any) -> bool:
        """Whether `tag` (any form :meth:`value` accepts) is in this data set.
        An unknown keyword raises KeyError rather than answering False."""
        return as_tag(tag) in self._lookup()

    def tags(self) -> list[int]:
        """The tags of this data set's elements, in file order."""
        return list(self._lookup())

    def element_index(self, tag: Any) -> int | None:
        """Row of `tag` in :attr:`DicomFile.elements`, or None."""
        found = self._file._index.find(self._index, as_tag(tag))
        return None if found < 0 else found

    def value_offset(self, tag: Any) -> int | None:
        """Byte offset of `tag`'s value in the file, or None when absent."""
        index = self.element_index(tag)
        return None if index is None else self._file._index.record(index).offset

    def value(self, tag: Any, default: Any = MISSING) -> Any:
        """The value of `tag` (an int such as ``0x00280010``, a ``(group,
        element)`` pair, a keyword such as ``"Rows"`` or a string such as
        ``"(0028,0010)"``), decoded by its VR; a list of :class:`Item` for a
        sequence. Raises KeyError when absent unless `default` is given, and
        for an unknown keyword whatever `default` is (a typo is not absence)."""
        index = self.element_index(tag)
        if index is None:
            if default is MISSING:
                raise KeyError(format_tag(as_tag(tag)))
            return default
        file = self._file
        return file._values.decode(index, lambda i: Item(file, i))

    # ---- typed access, for the attributes the library interprets ------------

    def malformed(self, tag: int, expected: str, value: Any) -> MalformedError:
        """The error for `tag` holding `value` where `expected` was needed."""
        offset = self.value_offset(tag)
        where = "" if offset is None else f" at offset {offset}"
        return MalformedError(f"{format_tag(tag)}{where}: {expected} expected, found "
                              f"{_describe(value)}", tag=tag, offset=offset)

    def sequence(self, tag: int) -> list[Item] | None:
        """The items of sequence `tag`; None when absent or empty. Raises
        MalformedError when `tag` is there with a value of another VR."""
        value = self.value(tag, None)
        if value is None or (isinstance(value, (str, bytes)) and not value):
            return None
        if isinstance(value, list) and all(isinstance(v, Item) for v in value):
            return value or None
        raise self.malformed(tag, "a sequence (SQ)", value)

    def numbers(self, tag: int) -> list[int | float | None] | None:
        """The values of `tag` as numbers (DS, IS or a binary number VR; an
        empty entry of a DS / IS list is None); None when absent or empty.
        Raises MalformedError for any other value (text, bytes, items)."""
        value = self.value(tag, None)
        if value is None or (isinstance(value, (str, bytes)) and not value):
            return None
        values = value if isinstance(value, list) else [value]
        if values and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                          for v in values):
            return values
        raise self.malformed(tag, "a number", value)

    def __repr__(self) -> str:
        where = "top level" if self._index < 0 else f"element {self._index}"
        return f"<dicomframes.Item {where}, {len(self._lookup())} elements>"
