/* See dcf_config.h. */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1 /* dladdr on glibc */
#endif

#include "dcf_config.h"

#include <stdio.h> /* jpeglib.h needs FILE and size_t */
#include <string.h>

#include <jpeglib.h>
#include <openjpeg.h>
#if defined(__has_include)
#if __has_include(<opj_config.h>)
#include <opj_config.h>
#endif
#endif
#include <zlib.h>

#if defined(_WIN32)
#include <windows.h>
#define DCF_HAVE_MODULE_PATH 1
#elif defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define DCF_HAVE_MODULE_PATH 1
#endif

#define CONFIG_PATH_SIZE 4096

/* A function of each library, as this object file resolved it. Data pointers
 * are not used: a copy-relocated variable would report the executable. */
static void (*library_probe(int library))(void)
{
    switch (library) {
    case DCF_LIBRARY_OPENJPEG:
        return (void (*)(void))opj_version;
    case DCF_LIBRARY_LIBJPEG:
        return (void (*)(void))jpeg_std_error;
    case DCF_LIBRARY_ZLIB:
        return (void (*)(void))zlibVersion;
    case DCF_LIBRARY_CORE:
        return (void (*)(void))dcf_library_path;
    default:
        return NULL;
    }
}

const char *dcf_library_path(int library)
{
    static char paths[DCF_LIBRARY_COUNT][CONFIG_PATH_SIZE];
    void (*probe)(void) = library_probe(library);
    if (probe == NULL)
        return "";
    char *out = paths[library];
    out[0] = '\0';
#if defined(_WIN32)
    HMODULE module = NULL;
    if (GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                               GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                           (LPCSTR)(void *)probe, &module)) {
        DWORD n = GetModuleFileNameA(module, out, CONFIG_PATH_SIZE);
        if (n == 0 || n >= CONFIG_PATH_SIZE)
            out[0] = '\0';
    }
#elif defined(DCF_HAVE_MODULE_PATH)
    Dl_info info;
    /* Casting a function pointer to void * is what dladdr takes (POSIX). */
    if (dladdr(*(void **)&probe, &info) && info.dli_fname != NULL) {
        strncpy(out, info.dli_fname, CONFIG_PATH_SIZE - 1);
        out[CONFIG_PATH_SIZE - 1] = '\0';
    }
#endif
    return out;
}

const char *dcf_zlib_version(void)
{
    return zlibVersion();
}

const char *dcf_zlib_header_version(void)
{
    return ZLIB_VERSION;
}

#define CONFIG_STR2(x) #x
#define CONFIG_STR(x) CONFIG_STR2(x)

const char *dcf_openjpeg_header_version(void)
{
#if defined(OPJ_VERSION_MAJOR) && defined(OPJ_VERSION_MINOR) && defined(OPJ_VERSION_BUILD)
    return CONFIG_STR(OPJ_VERSION_MAJOR) "." CONFIG_STR(OPJ_VERSION_MINOR) "." CONFIG_STR(
        OPJ_VERSION_BUILD);
#else
    return "";
#endif
}

const char *dcf_cpu_features(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    static char features[64];
    features[0] = '\0';
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse2"))
        strcat(features, "sse2 ");
    if (__builtin_cpu_supports("ssse3"))
        strcat(features, "ssse3 ");
    if (__builtin_cpu_supports("sse4.2"))
        strcat(features, "sse4.2 ");
    if (__builtin_cpu_supports("avx2"))
        strcat(features, "avx2 ");
    if (__builtin_cpu_supports("avx512f"))
        strcat(features, "avx512f ");
    size_t n = strlen(features);
    if (n > 0)
        features[n - 1] = '\0';
    return features;
#elif defined(__aarch64__) || defined(_M_ARM64)
    return "neon";
#else
    return "";
#endif
}
