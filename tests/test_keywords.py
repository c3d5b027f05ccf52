"""Standard DICOM keywords wherever a tag is accepted (issue 11), and the built-in data
dictionary they come from (src/dicomframes/_dictionary.py, made by
scripts/make_dictionary.py from pydicom's data dictionary)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dicomframes
from dicomframes import keyword_for, tag_for
from dicomframes.keywords import dictionary_entry, parse_tag

pydicom = pytest.importorskip("pydicom")
from pydicom._dicom_dict import DicomDictionary, RepeatersDictionary  # noqa: E402
from pydicom.dataset import Dataset  # noqa: E402
from pydicom.sequence import Sequence  # noqa: E402

from dicomframes.testing import make_dicom  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def f():
    item = Dataset()
    item.CodeValue = "T-D3000"
    item.CodeMeaning = "Chest"
    inner = Dataset()
    inner.CodeValue = "121311"
    item.ConceptNameCodeSequence = Sequence([inner])
    data = make_dicom(np.arange(12, dtype=np.uint16).reshape(3, 4),
                      extra={"AnatomicRegionSequence": Sequence([item]),
                             "PatientID": "KW-11", "SliceThickness": 2.5})
    with dicomframes.open(data) as f:
        yield f


@pytest.mark.parametrize("keyword, tag", [
    ("PatientName", 0x00100010), ("PatientID", 0x00100020), ("Rows", 0x00280010),
    ("Columns", 0x00280011), ("SliceThickness", 0x00180050),
    ("TransferSyntaxUID", 0x00020010), ("SOPInstanceUID", 0x00080018),
])
def test_value_and_in_by_keyword_equal_numeric(f, keyword, tag):
    assert f.value(keyword) == f.value(tag) == f.value((tag >> 16, tag & 0xFFFF))
    assert f.value(keyword) == f.dataset.value(keyword)
    assert keyword in f and tag in f
    assert f.dataset.element_index(keyword) == f.dataset.element_index(tag)
    assert f.dataset.value_offset(keyword) == f.dataset.value_offset(tag)


def test_issue_example(f):
    assert f.value("PatientName") == "Test^DicomFrames"
    assert f.value("Rows") == 3


def test_keywords_in_nested_items(f):
    [item] = f.value("AnatomicRegionSequence")
    [same] = f.value(0x00082218)
    assert item.value("CodeValue") == same.value(0x00080100) == "T-D3000"
    assert item.value("CodeMeaning") == "Chest"
    assert "CodeMeaning" in item and "PatientName" not in item
    [inner] = item.value("ConceptNameCodeSequence")
    assert inner.value("CodeValue") == inner.value((0x0008, 0x0100)) == "121311"
    assert item.value("PatientName", None) is None


def test_absent_keyword(f):
    assert "NumberOfFrames" not in f
    assert f.value("NumberOfFrames", None) is None
    with pytest.raises(KeyError, match=r"\(0028,0008\)"):
        f.value("NumberOfFrames")


@pytest.mark.parametrize("text", ["(0010,0010)", "0010,0010", "( 0010 , 0010 )", "00100010",
                                  "0x00100010", "PatientName"])
def test_string_forms(f, text):
    assert parse_tag(text) == 0x00100010
    assert f.value(text) == "Test^DicomFrames"


def test_unknown_keyword_suggests(f):
    with pytest.raises(KeyError, match=r"unknown DICOM keyword 'PatientNam'; "
                                       r"did you mean 'PatientName'\?"):
        f.value("PatientNam")
    # Lookup is case-sensitive; the suggestion is not.
    with pytest.raises(KeyError, match=r"did you mean 'PatientName'\?"):
        f.value("patientname")
    with pytest.raises(KeyError, match=r"did you mean 'StudyInstanceUID'\?"):
        "StudyInstanceUid" in f  # noqa: B015 - a typo is an error, not "absent"
    with pytest.raises(KeyError, match=r"did you mean 'CodeValue'\?"):
        f.value("AnatomicRegionSequence")[0].value("CodeValu")
    # A default answers absence, not a typo.
    with pytest.raises(KeyError, match="unknown DICOM keyword"):
        f.value("PatientNam", None)
    with pytest.raises(KeyError) as caught:
        tag_for("NoSuchThingAtAll")
    assert "did you mean" not in str(caught.value)


def test_repeating_group_keyword():
    with pytest.raises(KeyError, match=r"repeating-group element \(60xx,0010\)"):
        tag_for("OverlayRows")
    assert keyword_for(0x60000010) == keyword_for(0x601E0010) == "OverlayRows"
    assert keyword_for(0x50000005) == "CurveDimensions"


def test_public_helpers():
    assert tag_for("PixelData") == 0x7FE00010
    assert keyword_for(0x7FE00010) == keyword_for("(7FE0,0010)") == "PixelData"
    assert keyword_for(0x00091001) is None  # private
    assert keyword_for(0x00100010) == "PatientName"
    entry = dictionary_entry("NumberOfFrames")
    assert (entry.tag, entry.vr, entry.vm, entry.name, entry.retired) == (
        0x00280008, "IS", "1", "Number of Frames", False)
    assert "tag_for" in dicomframes.__all__ and "keyword_for" in dicomframes.__all__


def test_table_complete_against_pydicom():
    from dicomframes import _dictionary
    from dicomframes.keywords import _load

    tables = _load()
    with_keyword = {tag: v for tag, v in DicomDictionary.items() if v[4]}
    assert len(tables.by_tag) == len(tables.by_keyword) == len(with_keyword) > 5000
    for tag, (vr, vm, name, retired, keyword) in with_keyword.items():
        assert tables.by_tag[tag] == (tag, vr, vm, keyword, name, bool(retired))
    assert len(tables.masks) == sum(1 for v in RepeatersDictionary.values() if v[4])
    assert _dictionary.PYDICOM_VERSION == pydicom.__version__
    spot = {"PixelData": (0x7FE00010, "OB or OW"), "NumberOfFrames": (0x00280008, "IS"),
            "PatientName": (0x00100010, "PN")}
    for keyword, (tag, vr) in spot.items():
        assert tag_for(keyword) == tag
        assert dictionary_entry(tag).vr == vr
    # parse_tag reads 8 hex digits as a tag before looking up keywords: no keyword is one.
    assert not [k for k in tables.by_keyword if re.fullmatch("[0-9A-Fa-f]{8}", k)]


def test_script_regenerates_identical_table(tmp_path):
    out = tmp_path / "_dictionary.py"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_dictionary.py"), str(out)],
                   check=True, capture_output=True)
    committed = ROOT / "src" / "dicomframes" / "_dictionary.py"
    assert out.read_bytes() == committed.read_bytes()


def test_import_does_not_load_the_table():
    code = ("import sys, dicomframes; "
            "assert 'dicomframes._dictionary' not in sys.modules; "
            "dicomframes.tag_for('Rows'); assert 'dicomframes._dictionary' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
