"""dicomframes.show_config() / config() / `dicomframes --config`: what a bug report needs."""

from __future__ import annotations

import io
import json
import platform
from pathlib import Path

import numpy as np
import pytest

import dicomframes
from dicomframes import _config as config_module
from dicomframes.cli import main

ENGINES = {"openjpeg", "libjpeg", "zlib", "rle", "jpeg-ls", "jpeg", "native"}


def test_config_dict():
    info = dicomframes.config()
    json.dumps(info)  # plain data, pasteable
    assert info["dicomframes"]["version"] == dicomframes.__version__
    assert set(info["engines"]) == ENGINES
    assert info["numpy"]["version"] == np.__version__
    assert info["python"]["version"] == platform.python_version()
    for name, engine in info["engines"].items():
        assert engine["version"], name
        assert engine["origin"] in ("bundled", "static", "system", "builtin", "unknown"), name
    assert info["engines"]["openjpeg"]["version"].startswith("2.")
    assert "jpeg" in info["engines"]["libjpeg"]["version"]
    assert info["engines"]["rle"]["origin"] == "builtin"


def test_libraries_are_located():
    # On Linux and macOS dladdr names the file each codec library was loaded from.
    if platform.system() not in ("Linux", "Darwin"):
        pytest.skip("dladdr only")
    info = dicomframes.config()
    for name in ("openjpeg", "libjpeg", "zlib"):
        engine = info["engines"][name]
        assert engine["library"] and Path(engine["library"]).exists(), name
        assert engine["origin"] != "unknown"
        if engine["origin"] == "system":
            assert "openjp2" in engine["library"] if name == "openjpeg" else True


def test_simd_variants_follow_the_cpu():
    info = dicomframes.config()
    features = set(info["cpu"]["features"])
    dct12 = info["engines"]["jpeg"]["simd"]
    rle = info["engines"]["rle"]["simd"]
    if platform.machine() == "x86_64" and platform.system() == "Linux":
        assert dct12 == f"12-bit IDCT: {'avx2' if 'avx2' in features else 'default'}"
        assert rle == ("ssse3" if "ssse3" in features else "default")
    else:
        assert dct12 in ("12-bit IDCT: avx2", "12-bit IDCT: default")


def test_origin():
    package = Path(config_module.__file__).resolve().parent
    core = str(package / "_codecs.so")
    assert config_module._origin("", core) == "unknown"
    assert config_module._origin(core, core) == "static"
    assert config_module._origin(str(package.parent / "dicomframes.libs" / "libopenjp2-1a2b.so.2.5"),
                                 core) == "bundled"
    assert config_module._origin(str(package / ".dylibs" / "libjpeg.62.dylib"), core) == "bundled"
    assert config_module._origin("/usr/lib/x86_64-linux-gnu/libopenjp2.so.7", core) == "system"


def test_libjpeg_simd_inference(monkeypatch):
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    for name in config_module._JSIMD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert config_module._libjpeg_simd("libjpeg-turbo 2.1.5", "sse2 avx2").startswith("avx2")
    assert config_module._libjpeg_simd("libjpeg-turbo 2.1.5", "sse2").startswith("sse2")
    assert config_module._libjpeg_simd("libjpeg 80", "sse2 avx2") is None
    monkeypatch.setenv("JSIMD_FORCENONE", "1")
    assert config_module._libjpeg_simd("libjpeg-turbo 3.0", "avx2").startswith("none")


def test_show_config_prints():
    out = io.StringIO()
    assert dicomframes.show_config(file=out) is None
    text = out.getvalue()
    assert text.startswith(f"dicomframes {dicomframes.__version__}")
    for word in ("openjpeg", "libjpeg", "zlib", "rle", "jpeg-ls", "python:", "numpy:",
                 "platform:", "cpu:"):
        assert word in text


def test_show_config_as_dict():
    info = dicomframes.show_config(as_dict=True)
    assert isinstance(info, dict) and set(info["engines"]) == ENGINES


def test_cli_config(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--config"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"dicomframes {dicomframes.__version__}")
    assert "openjpeg" in out and "numpy:" in out
