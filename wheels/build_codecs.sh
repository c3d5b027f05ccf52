#!/usr/bin/env bash
# cibuildwheel before-all on Linux (manylinux_2_28 images, AlmaLinux 8; x86_64 and aarch64):
# the codec libraries the wheel links and auditwheel then bundles.
#   * libjpeg-turbo and zlib from the image's package manager (EL8: libjpeg-turbo 1.5.3, whose
#     libjpeg 6.2 API is all dcf_jpeg8.c uses; zlib stays the system's, on the manylinux list);
#   * OpenJPEG built from source: EL8 and EL9 ship 2.4, and CMakeLists.txt needs >= 2.5 (HTJ2K).
# Not run on the development machines (no containers there): see wheels/README.md.
set -euxo pipefail
OPENJPEG_TAG=${OPENJPEG_TAG:-v2.5.3}

if command -v dnf >/dev/null; then PM=dnf; else PM=yum; fi
$PM install -y libjpeg-turbo-devel zlib-devel git

work=$(mktemp -d)
git clone --depth 1 --branch "$OPENJPEG_TAG" https://github.com/uclouvain/openjpeg.git "$work/openjpeg"
cmake -S "$work/openjpeg" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_SHARED_LIBS=ON -DBUILD_STATIC_LIBS=OFF -DBUILD_CODEC=OFF -DBUILD_TESTING=OFF \
      -DCMAKE_INSTALL_PREFIX=/usr/local
cmake --build "$work/build" --parallel "$(nproc)"
cmake --install "$work/build"
ldconfig
rm -rf "$work"
