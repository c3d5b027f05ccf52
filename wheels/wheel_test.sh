#!/usr/bin/env bash
# `make wheel-test`: install a wheel into a fresh virtual environment and run the smoke test
# and the corpus/codec tests against it, with the system's OpenJPEG and libjpeg masked
# (wheels/mask_system_codecs.sh).
#
#   wheels/wheel_test.sh WHEEL VENV            # must pass
#   wheels/wheel_test.sh WHEEL VENV --expect-fail
#       the negative control: the same steps must fail (an un-repaired wheel that links the
#       system's libraries); the script succeeds only if they do.
set -euo pipefail
wheel=$(readlink -f "$1"); venv=$2; mode=${3:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}

# The tests that exercise the codecs: the shared corpus, each decoder's own tests, deflate.
TESTS=(test_corpus_native.py test_corpus_compressed.py test_codecs_lowlevel.py
       test_jpeg8.py test_jpeg_files.py test_jpeg_own.py test_jls_decoder.py
       test_reduce.py test_deflate_frames.py)
# References and encoders the tests (and the smoke test) use. pylibjpeg-openjpeg, Pillow and
# imagecodecs bring their own OpenJPEG / libjpeg copies into the same process as ours.
# Not glymur: it loads the system's libopenjp2 through ctypes, which the mask hides.
DEPS=(pytest hypothesis pydicom pylibjpeg pylibjpeg-openjpeg pylibjpeg-rle pyjpegls
      imagecodecs pillow)

# The corpus tests skip without the conformance corpus (<repo>/../shared/corpus, see
# tests/conftest.py); a wheel test without them proves little, so say so and stop.
if [ ! -f "$repo/../shared/corpus/manifest.json" ] && [ "${DCF_WHEEL_TEST_NO_CORPUS:-}" != 1 ]; then
  echo "wheel_test: no conformance corpus at $(cd "$repo/.." && pwd)/shared/corpus; the corpus" \
       "tests would all skip. Put it there, or set DCF_WHEEL_TEST_NO_CORPUS=1 to run without." >&2
  exit 2
fi
quiet_pip() { "$venv/bin/python" -m pip install -q "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }

rm -rf "$venv"
"$py" -m venv "$venv"
venv=$(cd "$venv" && pwd)
quiet_pip --upgrade pip
quiet_pip "$wheel" "${DEPS[@]}"
echo "installed $(basename "$wheel") into $venv"

run() {
  # From a directory outside the source tree; PYTHONPATH holds only wheels/ (for the guard
  # plugin), never src/. tests/ itself goes on sys.path (pytest's rootdir-less conftest
  # import), which has no dicomframes package in it.
  cd "$repo/tests"
  PYTHONPATH="$repo/wheels" PYTHONDONTWRITEBYTECODE=1 \
    "$repo/wheels/mask_system_codecs.sh" "$@"
}
smoke() { (cd /tmp && "$repo/wheels/mask_system_codecs.sh" "$venv/bin/python" "$repo/wheels/smoke.py"); }
tests() { run "$venv/bin/python" -m pytest -q -p no:cacheprovider -p installed_guard "$@" "${TESTS[@]}"; }

if [ "$mode" = --expect-fail ]; then
  status=0
  if smoke; then echo "negative control: the smoke test PASSED with the system codecs masked" >&2; status=1; fi
  if tests -x; then echo "negative control: the tests PASSED with the system codecs masked" >&2; status=1; fi
  [ $status = 0 ] && echo "negative control ok: $(basename "$wheel") fails with the system codecs masked"
  exit $status
fi
smoke
tests
echo "wheel test ok: $(basename "$wheel")"
