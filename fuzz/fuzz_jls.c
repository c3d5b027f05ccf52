/* libFuzzer target for our JPEG-LS frame decoder, dcf_jls_decode (csrc/dcf_jls*.c).
 *
 * Build (from the repository root; ASan + UBSan, libFuzzer):
 *
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *       -Icsrc fuzz/fuzz_jls.c csrc/dcf_jls*.c csrc/dcf_status.c csrc/dcf_codec.c \
 *       -o build/fuzz/fuzz_jls
 *   (add -DMAX_OUTPUT="(1u << 20)" for smaller images and ~4x the executions per second)
 *
 *   rm -rf /tmp/jls_work && cp -r fuzz/corpus_jls /tmp/jls_work
 *   build/fuzz/fuzz_jls -dict=fuzz/jls.dict -max_len=16384 -timeout=5 \
 *       -rss_limit_mb=2048 /tmp/jls_work
 *
 * Input: a JPEG-LS stream, as is (the seeds of fuzz/corpus_jls/ are plain
 * .jls streams). The frame spec comes from the stream's own SOF55 segment,
 * read by the small bounded parser below (markers walked by their lengths
 * up to the first SOS): rows Y, columns X, samples per pixel Nf, and bits
 * allocated 8 (P <= 8) or 16. Y = 0 (height from a DNL marker) takes rows
 * from the option byte. The input's LAST byte (0xD9 for an intact stream;
 * the fuzzer varies it, usually by appending bytes after EOI) is the option
 * byte; the whole input, option byte included, goes to the decoder:
 *   bit 0     Pixel Representation 1
 *   bit 1     Planar Configuration 1 (output layout)
 *   bits 2-3  bits allocated: 0 natural, 1 16, 2 32, 3 1 (1 is refused
 *             unless P <= 8; 32 exercises the widening copy)
 *   bit 4     Bits Stored = bits allocated instead of P
 *   bits 5-6  a mismatching spec for a second decode, which must fail:
 *             0 none, 1 one row more, 2 one column more, 3 another Nf
 *   bit 7     Photometric RGB/YBR_FULL instead of MONOCHROME2/RGB
 * Outputs over 16 MB are skipped. Each output buffer ends right at a
 * PROT_NONE page, so that a write past it faults even from code built
 * without the sanitizers (the CharLS library).
 *
 * Checked: every failure carries a message; the mismatching spec is refused;
 * with Pixel Representation 0 and a 16-bit output, a decoded sample never
 * exceeds 2^P - 1; for outputs up to 1 MB with several components, decoding
 * again with the other Planar Configuration gives the same samples. A crash,
 * a sanitizer report, a hang or an abort() is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dcf_codec.h"

#ifndef MAX_OUTPUT /* -DMAX_OUTPUT="(1u << 20)" fuzzes faster, on smaller images */
#define MAX_OUTPUT (16u << 20)
#endif
#define MAX_COMPARE (1u << 20)

typedef struct jls_sof {
    unsigned precision, rows, columns, components;
} jls_sof;

/* Find the first SOF55 (FFF7) before SOS, walking the marker segments by
 * their lengths. Returns 1 and fills `sof` when one was found and complete. */
static int find_sof55(const uint8_t *p, size_t n, jls_sof *sof)
{
    size_t i = 2;

    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return 0;
    while (i + 1 < n) {
        unsigned marker, length;

        if (p[i] != 0xFF)
            return 0;
        while (i < n && p[i] == 0xFF) /* fill bytes */
            i++;
        if (i >= n)
            return 0;
        marker = p[i++];
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8))
            continue; /* no length */
        if (marker == 0xD9 || marker == 0xDA || i + 2 > n)
            return 0;
        length = ((unsigned)p[i] << 8) | p[i + 1];
        if (length < 2 || i + length > n)
            return 0;
        if (marker == 0xF7) {
            if (length < 8)
                return 0;
            sof->precision = p[i + 2];
            sof->rows = ((unsigned)p[i + 3] << 8) | p[i + 4];
            sof->columns = ((unsigned)p[i + 5] << 8) | p[i + 6];
            sof->components = p[i + 7];
            return 1;
        }
        i += length;
    }
    return 0;
}

/* A buffer of `size` bytes that ends at a PROT_NONE page. */
typedef struct guarded {
    uint8_t *region, *data;
    size_t span;
} guarded;

static int guarded_alloc(guarded *g, size_t size)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);

    g->span = (size + page - 1) / page * page;
    g->region = mmap(NULL, g->span + page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->region == MAP_FAILED)
        abort();
    if (mprotect(g->region + g->span, page, PROT_NONE) != 0)
        abort();
    g->data = g->region + g->span - size;
    return 1;
}

static void guarded_free(guarded *g)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    munmap(g->region, g->span + page);
}

static size_t frame_bytes(const dcf_frame_spec *spec)
{
    const uint64_t n = (uint64_t)spec->rows * spec->columns * spec->samples_per_pixel *
                       dcf_sample_bytes(spec);
    return n > MAX_OUTPUT ? 0 : (size_t)n;
}

/* Decode into a guarded buffer; abort if a failure has no message. The
 * buffer is returned in `g` (caller frees) when `keep` is set. */
static dcf_status decode(const uint8_t *data, size_t size, const dcf_frame_spec *spec,
                         size_t bytes, guarded *g, int keep)
{
    dcf_error err;
    dcf_status status;
    guarded local;

    if (g == NULL)
        g = &local;
    guarded_alloc(g, bytes);
    memset(&err, 0, sizeof err);
    status = dcf_jls_decode(data, size, spec, g->data, bytes, &err);
    if (status != DCF_OK && err.message[0] == '\0') {
        fprintf(stderr, "dcf_jls_decode failed (status %d) with no message\n", (int)status);
        abort();
    }
    if (!keep)
        guarded_free(g);
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jls_sof sof;
    dcf_frame_spec spec, other;
    guarded out;
    size_t bytes, other_bytes;
    dcf_status status;
    uint8_t opt;
    unsigned kind, mismatch;
    int have_sof;

    if (size == 0) {
        /* Empty input must be refused cleanly too. */
        uint8_t one = 0;
        dcf_error err;
        memset(&spec, 0, sizeof spec);
        spec.rows = spec.columns = spec.samples_per_pixel = 1;
        spec.bits_allocated = spec.bits_stored = 8;
        if (dcf_jls_decode(data, 0, &spec, &one, 1, &err) == DCF_OK || err.message[0] == 0)
            abort();
        return 0;
    }
    opt = data[size - 1];
    have_sof = find_sof55(data, size, &sof);
    if (!have_sof) { /* no SOF55 found: still decode it against a small spec */
        sof.precision = 8;
        sof.rows = 1u + (opt >> 5);
        sof.columns = 1u + (opt & 15u);
        sof.components = 1;
    }
    if (sof.columns == 0 || sof.components == 0)
        return 0;

    memset(&spec, 0, sizeof spec);
    spec.rows = sof.rows != 0 ? sof.rows : 1u + (opt >> 5);
    spec.columns = sof.columns;
    spec.samples_per_pixel = (uint16_t)sof.components;
    kind = (opt >> 2) & 3u;
    spec.bits_allocated = kind == 1 ? 16 : kind == 2 ? 32 : kind == 3 ? 1
                          : sof.precision <= 8 ? 8 : 16;
    if (kind == 3 && sof.precision > 8)
        spec.bits_allocated = 16;
    spec.bits_stored = (opt & 0x10) || sof.precision == 0 || sof.precision > spec.bits_allocated
                           ? spec.bits_allocated
                           : (uint16_t)sof.precision;
    spec.pixel_representation = opt & 1u;
    spec.planar_configuration = (opt >> 1) & 1u;
    if (spec.samples_per_pixel == 1)
        spec.photometric = DCF_PHOTOMETRIC_MONOCHROME2;
    else
        spec.photometric = (opt & 0x80) ? DCF_PHOTOMETRIC_YBR_FULL : DCF_PHOTOMETRIC_RGB;
    bytes = frame_bytes(&spec);
    if (bytes == 0)
        return 0;

    status = decode(data, size, &spec, bytes, &out, 1);
    if (status == DCF_OK && spec.pixel_representation == 0 && spec.bits_allocated == 16 &&
        sof.precision >= 2 && sof.precision < 16) {
        const uint32_t maxval = (1u << sof.precision) - 1u;
        for (size_t i = 0; i < bytes / 2; i++) {
            uint16_t v;
            memcpy(&v, out.data + 2 * i, 2);
            if (v > maxval) {
                fprintf(stderr, "sample %zu is %u, over 2^%u - 1\n", i, (unsigned)v,
                        sof.precision);
                abort();
            }
        }
    }
    if (status == DCF_OK && spec.samples_per_pixel > 1 && bytes <= MAX_COMPARE) {
        /* The other layout must hold the same samples. */
        guarded alt;
        const size_t sb = dcf_sample_bytes(&spec);
        const size_t pixels = (size_t)spec.rows * spec.columns;
        const size_t spp = spec.samples_per_pixel;
        other = spec;
        other.planar_configuration ^= 1u;
        if (decode(data, size, &other, bytes, &alt, 1) != DCF_OK) {
            fprintf(stderr, "decodes with one planar configuration only\n");
            abort();
        }
        for (size_t s = 0; s < spp; s++)
            for (size_t i = 0; i < pixels; i++) {
                const uint8_t *a = out.data + (spec.planar_configuration
                                                   ? s * pixels + i : i * spp + s) * sb;
                const uint8_t *b = alt.data + (other.planar_configuration
                                                   ? s * pixels + i : i * spp + s) * sb;
                if (memcmp(a, b, sb) != 0) {
                    fprintf(stderr, "planar 0 and 1 differ at sample %zu of pixel %zu\n",
                            s, i);
                    abort();
                }
            }
        guarded_free(&alt);
    }
    guarded_free(&out);

    /* A spec that does not match the frame header must be refused. */
    mismatch = (opt >> 5) & 3u;
    if (mismatch == 0 || !have_sof || sof.rows == 0)
        return 0;
    other = spec;
    if (mismatch == 1)
        other.rows += 1;
    else if (mismatch == 2)
        other.columns += 1;
    else
        other.samples_per_pixel = (uint16_t)(spec.samples_per_pixel % 4u + 1u);
    other_bytes = frame_bytes(&other);
    if (other_bytes == 0)
        return 0;
    if (decode(data, size, &other, other_bytes, NULL, 0) == DCF_OK) {
        fprintf(stderr, "a %u x %u x %u spec was accepted for a %u x %u x %u frame\n",
                (unsigned)other.rows, (unsigned)other.columns,
                (unsigned)other.samples_per_pixel, sof.rows, sof.columns, sof.components);
        abort();
    }
    return 0;
}
