"""Shared test set-up: where the conformance corpus is and how to parametrize over it.

The corpus lives beside the repository (``<repo>/../shared/corpus``, see its README.md and
manifest.json). Tests that need it are parametrized by :func:`pytest_generate_tests`:

    @pytest.mark.corpus("native")            # or "all", "pixels", "error", "compressed"
    def test_something(corpus_entry): ...    # one manifest entry (a dict), id = file name

When the corpus is absent the test gets a single parameter that is skipped, so collection
never fails. Tests that only need a file of the corpus use the ``corpus_dir`` fixture, which
skips when the folder is missing.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
MANIFEST = CORPUS / "manifest.json"
SAMPLES = REPO / "samples"
FUZZ_CORPUS = REPO / "fuzz" / "corpus"

NATIVE_UIDS = frozenset({
    "1.2.840.10008.1.2",        # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",      # Explicit VR Little Endian
    "1.2.840.10008.1.2.1.99",   # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.2",      # Explicit VR Big Endian
})

KINDS = ("all", "native", "compressed", "pixels", "error")


@lru_cache(maxsize=1)
def _manifest_files() -> tuple[dict[str, Any], ...]:
    if not MANIFEST.is_file():
        return ()
    with MANIFEST.open(encoding="utf-8") as fh:
        return tuple(json.load(fh)["files"])


def manifest_entries(kind: str = "all", *, expect: str | None = None,
                     max_size: int | None = None,
                     min_size: int | None = None) -> list[dict[str, Any]]:
    """Manifest entries of one kind, in manifest order ([] when the corpus is absent).

    kind: ``all``; ``native`` (uncompressed transfer syntaxes, deflate included);
    ``compressed`` (encapsulated syntaxes); ``pixels`` (files that must decode);
    ``error`` (files malformed on purpose, which must raise). ``expect``
    (``"pixels"`` / ``"error"``) narrows any kind the same way; ``max_size`` /
    ``min_size`` filter on the file size in bytes.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown corpus kind {kind!r}; one of {KINDS}")
    selected = []
    for entry in _manifest_files():
        native = entry["transfer_syntax_uid"] in NATIVE_UIDS
        if kind == "native" and not native:
            continue
        if kind == "compressed" and native:
            continue
        if kind in ("pixels", "error") and entry["expect"] != kind:
            continue
        if expect is not None and entry["expect"] != expect:
            continue
        if max_size is not None and entry["file_size"] > max_size:
            continue
        if min_size is not None and entry["file_size"] < min_size:
            continue
        selected.append(entry)
    return selected


def manifest_sha256(array: np.ndarray) -> str:
    """The manifest's hash: the values as little-endian bytes in C order."""
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<")))
    return hashlib.sha256(little.tobytes()).hexdigest()


def assert_decoding_fails(path: Path) -> None:
    """An ``expect: "error"`` entry: opening or decoding raises a DicomFramesError."""
    import dicomframes

    with pytest.raises(dicomframes.DicomFramesError):
        with dicomframes.open(path) as f:
            f.frames()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (exhaustive sweeps)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `slow` tests run with --run-slow, or when a -m expression names them.
    if config.getoption("--run-slow") or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (or -m slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "corpus(kind='all', expect=None, max_size=None, min_size=None): parametrize the "
        "test's "
        "`corpus_entry` argument over the manifest entries of that kind",
    )


# The optional peers (reference decoders and encoders, the torch integration, benchmark
# tools), by distribution name: tests that need one skip where it is absent.
PEERS = ("pydicom", "hypothesis", "pylibjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle",
         "pyjpegls", "glymur", "python-gdcm", "dicomsdl", "imagecodecs", "torch", "psutil",
         "pytest-benchmark")


def pytest_report_header(config: pytest.Config) -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    lines = [f"numpy {np.__version__}"]
    try:
        import dicomframes
        from dicomframes._codecs import codec_versions

        where = Path(dicomframes.__file__).parent
        lines.append(f"dicomframes {dicomframes.__version__} from {where}")
        lines.append("linked: " + ", ".join(f"{name} {v}"
                                            for name, v in codec_versions().items()))
    except ImportError as exc:  # pragma: no cover - the suite fails anyway
        lines.append(f"dicomframes not importable: {exc}")
    present, absent = [], []
    for name in PEERS:
        try:
            present.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            absent.append(name)
    lines.append("peers: " + (", ".join(present) or "none"))
    if absent:
        lines.append("peers absent (their tests skip): " + ", ".join(absent))
    files = _manifest_files()
    lines.append(f"corpus: {CORPUS} ({len(files)} manifest entries)" if files
                 else f"corpus: not found at {CORPUS} (corpus tests are skipped)")
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "corpus_entry" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("corpus")
    args = marker.args if marker else ()
    kwargs = dict(marker.kwargs) if marker else {}
    entries = manifest_entries(*args, **kwargs)
    if entries:
        metafunc.parametrize("corpus_entry", [_with_decoder_mark(e) for e in entries],
                             ids=[e["file"] for e in entries])
    else:
        reason = (f"no conformance corpus at {CORPUS}" if not _manifest_files()
                  else "no corpus entry of this kind")
        metafunc.parametrize("corpus_entry",
                             [pytest.param(None, marks=pytest.mark.skip(reason=reason))],
                             ids=["no-corpus"])


def has_decoder(transfer_syntax_uid: str) -> bool:
    """Whether dicomframes decodes Pixel Data of this transfer syntax yet."""
    from dicomframes import uids
    from dicomframes.frames import codec_for

    ts = uids.transfer_syntax(transfer_syntax_uid)
    if not ts.encapsulated:
        return True
    try:
        codec_for(ts)
    except NotImplementedError:
        return False
    return True


def _with_decoder_mark(entry: dict[str, Any]) -> Any:
    """`entry`, expected to fail (strictly, with UnsupportedTransferSyntaxError) when it
    must decode but its transfer syntax has no decoder yet: the day one lands, these
    tests pass and the mark goes."""
    if entry["expect"] != "pixels" or has_decoder(entry["transfer_syntax_uid"]):
        return entry
    from dicomframes import UnsupportedTransferSyntaxError

    return pytest.param(entry, marks=pytest.mark.xfail(
        raises=UnsupportedTransferSyntaxError, strict=True,
        reason=f"no decoder yet for {entry['transfer_syntax_name']}"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The corpus folder; skips the test when it is absent."""
    if not MANIFEST.is_file():
        pytest.skip(f"no conformance corpus at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def corpus_file(corpus_dir: Path):
    """``corpus_file(name)`` -> Path of a corpus file, skipping when it is missing."""

    def get(name: str) -> Path:
        path = corpus_dir / name
        if not path.is_file():
            pytest.skip(f"{name} is not in the corpus")
        return path

    return get


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The generated sample files (``samples/*.dcm``); skips when there are none."""
    if not any(SAMPLES.glob("*.dcm")):
        pytest.skip("no generated samples (run scripts/make_samples.py samples)")
    return SAMPLES
