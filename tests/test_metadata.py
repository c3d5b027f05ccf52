"""pyproject.toml's metadata: the optional extras cover what the package imports.

Every import in src/dicomframes of a module outside the standard library, numpy and
dicomframes itself is optional (the package's only dependency is numpy); each must be
provided by a distribution named in some extra, and the extras the README and the
code name must exist.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "dicomframes"

# Import name -> the distribution that provides it.
DISTRIBUTION = {
    "PIL": "pillow",
    "torch": "torch",
    "pydicom": "pydicom",
    "gdcm": "python-gdcm",
    "dicomsdl": "dicomsdl",
    "imagecodecs": "imagecodecs",
    "openjpeg": "pylibjpeg-openjpeg",
    "pylibjpeg": "pylibjpeg",
    "libjpeg": "pylibjpeg-libjpeg",
    "rle": "pylibjpeg-rle",
    "jpeg_ls": "pyjpegls",
    "dask": "dask",
    "distributed": "distributed",
    "fsspec": "fsspec",
}

# Modules of the package and the extra that must provide each of their optional imports.
EXTRA_OF_MODULE = {
    "torch.py": "torch",
    "dask.py": "dask",
    "cli.py": "image",
    "pydicom_plugin.py": "pydicom",
    "values.py": "pydicom",
    "bench": "bench",
}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def _extras() -> dict[str, set[str]]:
    return {extra: {_name(r) for r in reqs}
            for extra, reqs in _project()["optional-dependencies"].items()}


def _optional_imports() -> dict[Path, set[str]]:
    """{file: top-level names of its imports outside the stdlib, numpy, dicomframes}."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        names -= set(sys.stdlib_module_names) | {"__future__", "numpy", "dicomframes"}
        if names:
            found[path] = names
    return found


def test_the_only_dependency_is_numpy():
    assert [_name(r) for r in _project()["dependencies"]] == ["numpy"]


def test_every_optional_import_is_in_an_extra():
    extras = _extras()
    provided = set().union(*extras.values())
    missing = []
    for path, names in _optional_imports().items():
        for name in sorted(names):
            dist = DISTRIBUTION.get(name)
            if dist is None:
                missing.append(f"{path.relative_to(ROOT)}: '{name}' is not in DISTRIBUTION")
            elif dist not in provided:
                missing.append(f"{path.relative_to(ROOT)}: '{name}' ({dist}) is in no extra")
    assert not missing, "\n".join(missing)


def test_modules_have_their_extra():
    extras = _extras()
    wrong = []
    for path, names in _optional_imports().items():
        rel = path.relative_to(PACKAGE)
        key = rel.parts[0] if len(rel.parts) > 1 else rel.name
        extra = EXTRA_OF_MODULE.get(key)
        if extra is None:
            continue
        for name in sorted(names):
            if name == "torch" and key == "bench":
                continue  # the bench's DataLoader case runs only where torch is installed
            if DISTRIBUTION.get(name) not in extras[extra]:
                wrong.append(f"{rel}: '{name}' is not in the '{extra}' extra")
    assert not wrong, "\n".join(wrong)


def test_declared_extras():
    assert {"torch", "dask", "remote", "image", "bench", "test"} <= set(_extras())
    assert "mypy" in _extras()["test"]
    assert "dask" in _extras()["dask"] and "fsspec" in _extras()["remote"]


def test_license_and_classifiers():
    project = _project()
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    classifiers = project["classifiers"]
    assert "Typing :: Typed" in classifiers
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert project["requires-python"] == ">=3.10"
    assert {"Homepage", "Source", "Issues", "Documentation"} <= set(project["urls"])


def test_py_typed_and_stubs_ship():
    assert (PACKAGE / "py.typed").exists()
    for pyx in PACKAGE.glob("_*.pyx"):
        assert pyx.with_suffix(".pyi").exists(), f"{pyx.name} has no .pyi stub"
