"""The C status codes and the exceptions they become: one table, complete, and the
error record's fields carried over (tag, offset, frame)."""

from __future__ import annotations

import pytest

import dicomframes
from dicomframes import _core
from dicomframes.errors import EXCEPTION_BY_STATUS, DicomFramesError, from_status


def test_every_failure_status_has_an_exception():
    failures = [status for status in _core.Status if status != _core.Status.OK]
    assert sorted(EXCEPTION_BY_STATUS) == failures
    for status in failures:
        exc = from_status(status, 0x00280010, 12, "boom")
        assert type(exc) is EXCEPTION_BY_STATUS[status]
        assert str(exc) == "boom"


@pytest.mark.parametrize("status, cls", [
    (_core.Status.TRUNCATED, dicomframes.TruncatedError),
    (_core.Status.MALFORMED, dicomframes.MalformedError),
    (_core.Status.TOO_DEEP, dicomframes.NestingError),
    (_core.Status.UNSUPPORTED, dicomframes.UnsupportedError),
    (_core.Status.CODEC, dicomframes.CodecError),
    (_core.Status.PIXEL_DATA, dicomframes.PixelDataError),
    (_core.Status.ARGUMENT, dicomframes.DicomFramesError),
])
def test_data_errors_carry_tag_offset_and_frame(status, cls):
    exc = from_status(status, 0x7FE00010, 1234, "cut short", frame=3)
    assert type(exc) is cls and isinstance(exc, ValueError)
    assert (exc.tag, exc.offset, exc.frame) == (0x7FE00010, 1234, 3)
    assert str(exc) == "frame 3: cut short"


def test_out_of_memory_is_memory_error_and_no_tag_is_none():
    exc = from_status(_core.Status.NO_MEMORY, _core.NO_TAG, 0, "no room")
    assert type(exc) is MemoryError and not isinstance(exc, DicomFramesError)
    exc = from_status(_core.Status.MALFORMED, _core.NO_TAG, 7, "bad")
    assert exc.tag is None and exc.offset == 7


def test_status_names_come_from_the_c_core():
    names = {status: _core.status_name(status) for status in _core.Status}
    assert names[_core.Status.TRUNCATED] == "truncated"
    assert len(set(names.values())) == len(names)  # stable, distinct names
    assert "unknown" not in names.values()


def test_c_limits_reach_python():
    assert _core.NO_TAG == 0xFFFFFFFF
    assert _core.ERROR_MESSAGE_SIZE >= 128
    assert _core.DEFAULT_MAX_DEPTH == 32
    assert len({_core.FLAG_ITEM, _core.FLAG_FRAGMENT, _core.FLAG_ENCAPSULATED,
                _core.FLAG_TRUNCATED, _core.FLAG_IMPLICIT_VR, _core.FLAG_BIG_ENDIAN,
                _core.FLAG_FILE_META, _core.FLAG_UNDEFINED_LENGTH}) == 8


def test_a_c_error_from_data_reaches_the_caller_typed():
    # (0008,0020) DA with a length running past the end: the scanner's TRUNCATED.
    data = b"\x08\x00\x20\x00DA\x10\x00" + b"2026"
    with pytest.raises(dicomframes.TruncatedError) as info:
        dicomframes.open(data)
    assert info.value.tag == 0x00080020 and info.value.offset == 0
