/* What this build of the C core runs with, for dicomframes.show_config():
 * the codec libraries' versions (compiled against and loaded), the file each
 * one was loaded from, and which SIMD variant of our own kernels is active. */
#ifndef DCF_CONFIG_H
#define DCF_CONFIG_H

#ifdef __cplusplus
extern "C" {
#endif

enum dcf_library {
    DCF_LIBRARY_OPENJPEG = 0,
    DCF_LIBRARY_LIBJPEG = 1,
    DCF_LIBRARY_ZLIB = 2,
    DCF_LIBRARY_CORE = 3, /* the module holding the C core itself */
    DCF_LIBRARY_COUNT
};

/* The path of the shared object (or executable) that holds the code of
 * `library` as this process resolved it, or "" where the platform cannot
 * tell (no dladdr / GetModuleFileName). A library linked statically into the
 * extension module reports the module's own path. The string is owned by a
 * static buffer per library: copy it before the next call for the same one. */
const char *dcf_library_path(int library);

/* zlib's version: the one loaded (zlibVersion()) and the header's. */
const char *dcf_zlib_version(void);
const char *dcf_zlib_header_version(void);

/* OpenJPEG's header version (the loaded one is dcf_openjpeg_version()). */
const char *dcf_openjpeg_header_version(void);

/* The variant of the 12-bit IDCT (dcf_jpeg_dct12.c) this CPU runs: "avx2"
 * (the target_clones AVX2 clone) or "default" (portable C). */
const char *dcf_dct12_variant(void);

/* The variant of the RLE 3-plane interleave (dcf_rle.c): "ssse3" or "default". */
const char *dcf_rle_variant(void);

/* The CPU's SIMD extensions that matter to the codecs, space-separated
 * ("sse2 ssse3 sse4.2 avx2 avx512f" on x86, "neon" on ARM64, "" elsewhere). */
const char *dcf_cpu_features(void);

#ifdef __cplusplus
}
#endif

#endif
