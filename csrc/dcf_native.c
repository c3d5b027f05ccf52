#include "dcf_native.h"

#include <string.h>

#if defined(__x86_64__) || (defined(_M_X64) && !defined(_M_ARM64EC))
#include <emmintrin.h> /* SSE2: part of x86-64 */
#define DCF_HAVE_STREAM 1
#else
#define DCF_HAVE_STREAM 0
#endif

#define TAG_FMT "(%04X,%04X)"
#define TAG_ARGS(tag) (unsigned)((tag) >> 16), (unsigned)((tag) & 0xFFFFu)

static uint64_t pixels_per_frame(const dcf_native_layout *l)
{
    return (uint64_t)l->rows * l->columns;
}

uint64_t dcf_native_frame_size(const dcf_native_layout *l)
{
    uint64_t bytes = l->bits_allocated == 1 ? 1 : l->bits_allocated / 8;
    return pixels_per_frame(l) * l->samples_per_pixel * bytes;
}

uint64_t dcf_native_frame_bits(const dcf_native_layout *l)
{
    uint64_t samples = pixels_per_frame(l) * l->samples_per_pixel;
    if (l->ybr_full_422)
        samples = samples / 3 * 2;
    return samples * l->bits_allocated;
}

dcf_status dcf_native_validate(const dcf_native_layout *l, dcf_error *err)
{
    uint32_t ba = l->bits_allocated;
    if (ba != 1 && ba != 8 && ba != 16 && ba != 32 && ba != 64)
        return dcf_fail(err, DCF_E_UNSUPPORTED, 0x00280100u, 0,
                        "Bits Allocated %u is not supported for native Pixel Data", ba);
    if (l->bits_stored == 0 || l->bits_stored > ba)
        return dcf_fail(err, DCF_E_PIXEL_DATA, 0x00280101u, 0,
                        "Bits Stored %u is not in 1..%u (Bits Allocated)", l->bits_stored, ba);
    if (l->samples_per_pixel == 0)
        return dcf_fail(err, DCF_E_PIXEL_DATA, 0x00280002u, 0, "Samples per Pixel is 0");
    if (l->ybr_full_422 && (l->samples_per_pixel != 3 || l->columns % 2 || ba == 1))
        return dcf_fail(err, DCF_E_PIXEL_DATA, 0x00280004u, 0,
                        "YBR_FULL_422 needs 3 samples and an even number of columns "
                        "(have %u samples, %u columns)", l->samples_per_pixel, l->columns);
    if (ba == 64 && !l->is_float)
        return dcf_fail(err, DCF_E_UNSUPPORTED, 0x00280100u, 0,
                        "Bits Allocated 64 is only supported for Double Float Pixel Data");
    return DCF_OK;
}

/* ---- sample access ------------------------------------------------------- */

/* Byte `i` of the logical value stream; 8-bit OW big endian data has its
 * bytes swapped in pairs relative to the start of the value. */
static inline uint8_t source_byte(const uint8_t *src, uint64_t i, int swap_ow)
{
    return src[swap_ow ? (i ^ 1u) : i];
}

static inline uint64_t load_sample(const uint8_t *src, uint64_t sample, unsigned bytes,
                                   int big_endian, int swap_ow)
{
    uint64_t at = sample * bytes, v = 0;
    if (bytes == 1)
        return source_byte(src, at, swap_ow);
    for (unsigned b = 0; b < bytes; b++) {
        unsigned shift = big_endian ? 8 * (bytes - 1 - b) : 8 * b;
        v |= (uint64_t)src[at + b] << shift;
    }
    return v;
}

/* The value with the bits above bits_stored made canonical: cleared, or
 * copies of the sign bit (pydicom's left-shift / right-shift). */
static inline uint64_t correct_bits(uint64_t v, unsigned bits_allocated, unsigned bits_stored,
                                    int is_signed)
{
    if (bits_stored >= bits_allocated)
        return v;
    uint64_t mask = (bits_stored >= 64) ? ~0ull : ((1ull << bits_stored) - 1);
    v &= mask;
    if (is_signed && (v >> (bits_stored - 1)) & 1u)
        v |= ~mask;
    if (bits_allocated < 64)
        v &= (1ull << bits_allocated) - 1;
    return v;
}

static inline void store_sample(uint8_t *dst, uint64_t i, unsigned bytes, uint64_t v)
{
    switch (bytes) { /* native order, through memcpy for alignment safety */
    case 1: dst[i] = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(dst + 2 * i, &x, 2); } break;
    case 4: { uint32_t x = (uint32_t)v; memcpy(dst + 4 * i, &x, 4); } break;
    default: memcpy(dst + 8 * i, &v, 8); break;
    }
}

/* ---- conversions ------------------------------------------------------- */

static void unpack_bits(const uint8_t *src, uint64_t first_bit, uint64_t count, uint8_t *dst)
{
    /* PS3.5 8.1.1 / D: the first pixel is the least significant bit. */
    for (uint64_t i = 0; i < count; i++) {
        uint64_t bit = first_bit + i;
        dst[i] = (src[bit >> 3] >> (bit & 7)) & 1u;
    }
}

/* With GCC or Clang on x86-64 glibc (ELF, ifunc), the 16-bit loops get an AVX2
 * clone picked at load time (as jpeg_idct_islow12): 16 lanes a step, which
 * matters while the frame is in cache. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__GLIBC__) && \
    (defined(__GNUC__) || defined(__clang__)) && !defined(DCF_NO_TARGET_CLONES)
#define DCF_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define DCF_AVX2_CLONE
#endif

/* n 16-bit samples (little endian, or big endian when `swap`) into native
 * order with the bits above `bits_stored` made canonical, in 16-bit modular
 * arithmetic only: mask, then ((v ^ sign) - sign) sign-extends (sign = 0 for
 * unsigned data). No branch and no widening in the loop, so compilers
 * vectorise it on 16-bit lanes and it runs at the speed of a copy. */
DCF_AVX2_CLONE
static void correct16(const uint8_t *restrict src, uint64_t n, uint8_t *restrict dst,
                      unsigned bits_stored, int is_signed, int swap)
{
    const uint16_t mask = (uint16_t)(0xFFFFu >> (16 - bits_stored));
    const uint16_t sign = is_signed ? (uint16_t)(1u << (bits_stored - 1)) : 0;
    if (swap) {
        for (uint64_t i = 0; i < n; i++) {
            uint16_t v, w;
            memcpy(&v, src + 2 * i, 2);
            v = (uint16_t)((v >> 8) | (v << 8));
            w = (uint16_t)(((v & mask) ^ sign) - sign);
            memcpy(dst + 2 * i, &w, 2);
        }
    } else {
        for (uint64_t i = 0; i < n; i++) {
            uint16_t v, w;
            memcpy(&v, src + 2 * i, 2);
            w = (uint16_t)(((v & mask) ^ sign) - sign);
            memcpy(dst + 2 * i, &w, 2);
        }
    }
}

#if DCF_HAVE_STREAM
/* correct16 for little-endian samples, with non-temporal stores (mask 0xFFFF
 * and sign 0 make it a plain copy of n 16-bit units): the destination lines are
 * written around the cache, with no read for ownership first. For batches of
 * frames larger than the caches, which would only be thrashed: 157 MB into an
 * output already in memory took 7.5 ms instead of 11 (into a fresh one, the
 * kernel's zeroing of its pages dominates either way). Values as correct16's. */
static void stream16(const uint8_t *restrict src, uint64_t n, uint8_t *restrict dst,
                     uint16_t mask, uint16_t sign)
{
    uint64_t i = 0;
    /* the head, one sample at a time, until dst is 16-byte aligned (never, for an
     * odd address: then all of it, with ordinary stores) */
    for (; i < n && ((uintptr_t)(dst + 2 * i) & 15u); i++) {
        uint16_t v, w;
        memcpy(&v, src + 2 * i, 2);
        w = (uint16_t)(((v & mask) ^ sign) - sign);
        memcpy(dst + 2 * i, &w, 2);
    }
    const __m128i m = _mm_set1_epi16((short)mask), sg = _mm_set1_epi16((short)sign);
    for (; n - i >= 8; i += 8) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i));
        v = _mm_sub_epi16(_mm_xor_si128(_mm_and_si128(v, m), sg), sg);
        _mm_stream_si128((__m128i *)(void *)(dst + 2 * i), v);
    }
    _mm_sfence(); /* the streamed stores are visible before the caller goes on */
    for (; i < n; i++) {
        uint16_t v, w;
        memcpy(&v, src + 2 * i, 2);
        w = (uint16_t)(((v & mask) ^ sign) - sign);
        memcpy(dst + 2 * i, &w, 2);
    }
}
#endif

/* The byte-aligned, colour-by-pixel frame at `frame` (n samples of `bytes`
 * each) into dst: the common cases in one vectorised pass. */
static void convert_plain(const uint8_t *frame, uint64_t n, unsigned bytes, unsigned bs,
                          int is_signed, int big_endian, int stream, uint8_t *dst)
{
    unsigned ba = 8 * bytes;
#if DCF_HAVE_STREAM
    if (stream && !big_endian && (bytes == 2 || (bs == ba && n * bytes % 2 == 0))) {
        /* 16-bit correction, or a plain copy of any sample size as 16-bit units */
        uint16_t mask = bytes == 2 ? (uint16_t)(0xFFFFu >> (16 - bs)) : 0xFFFFu;
        uint16_t sign = bytes == 2 && is_signed ? (uint16_t)(1u << (bs - 1)) : 0;
        stream16(frame, n * bytes / 2, dst, mask, sign);
        return;
    }
#endif
    (void)stream;
    if (!big_endian && bs == ba) {
        memcpy(dst, frame, n * bytes);
    } else if (bytes == 2) {
        correct16(frame, n, dst, bs, is_signed, big_endian);
    } else {
        for (uint64_t i = 0; i < n; i++) {
            uint64_t v = load_sample(frame, i, bytes, big_endian, 0);
            store_sample(dst, i, bytes, correct_bits(v, ba, bs, is_signed));
        }
    }
}

static dcf_status decode_frame(const uint8_t *src, size_t src_size, uint64_t index,
                               const dcf_native_layout *l, uint8_t *dst, size_t dst_size,
                               int stream, uint32_t pixel_tag, uint64_t value_offset,
                               dcf_error *err)
{
    dcf_status st = dcf_native_validate(l, err);
    if (st)
        return st;
    uint64_t out_size = dcf_native_frame_size(l);
    if (dst_size != out_size)
        return dcf_fail(err, DCF_E_ARGUMENT, pixel_tag, value_offset,
                        "output buffer has %zu bytes, frame needs %llu", dst_size,
                        (unsigned long long)out_size);

    uint64_t frame_bits = dcf_native_frame_bits(l);
    if (index > 0 && frame_bits > UINT64_MAX / (index + 1))
        return dcf_fail(err, DCF_E_ARGUMENT, pixel_tag, value_offset, "frame index too large");
    uint64_t first_bit = frame_bits * index;
    uint64_t end_byte = (first_bit + frame_bits + 7) / 8;
    /* 8-bit OW data swapped in pairs may need the byte after the frame too. */
    uint64_t need = end_byte + (l->swap_ow_bytes && l->bits_allocated == 8 ? (end_byte & 1u) : 0);
    if (need > src_size)
        return dcf_fail(err, DCF_E_PIXEL_DATA, pixel_tag, value_offset,
                        "Pixel Data " TAG_FMT " at offset %llu holds %zu bytes, too few for "
                        "frame %llu, which needs %llu bytes (%llu short)",
                        TAG_ARGS(pixel_tag), (unsigned long long)value_offset, src_size,
                        (unsigned long long)index, (unsigned long long)need,
                        (unsigned long long)(need - src_size));

    uint64_t pixels = pixels_per_frame(l);
    if (l->bits_allocated == 1) {
        unpack_bits(src, first_bit, pixels * l->samples_per_pixel, dst);
        return DCF_OK;
    }

    unsigned bytes = l->bits_allocated / 8;
    unsigned ba = l->bits_allocated;
    unsigned bs = l->is_float ? ba : l->bits_stored;
    int is_signed = l->pixel_representation == 1;
    int swap_ow = l->swap_ow_bytes && bytes == 1;
    uint64_t first_sample = first_bit / ba;
    uint64_t spp = l->samples_per_pixel;
    uint64_t n = pixels * spp;

    if (l->ybr_full_422) {
        /* Y1 Y2 Cb Cr -> Y1 Cb Cr Y2 Cb Cr */
        for (uint64_t p = 0; p < pixels; p += 2) {
            uint64_t s = first_sample + p * 2;
            uint64_t y1 = correct_bits(load_sample(src, s, bytes, l->big_endian, swap_ow), ba, bs, is_signed);
            uint64_t y2 = correct_bits(load_sample(src, s + 1, bytes, l->big_endian, swap_ow), ba, bs, is_signed);
            uint64_t cb = correct_bits(load_sample(src, s + 2, bytes, l->big_endian, swap_ow), ba, bs, is_signed);
            uint64_t cr = correct_bits(load_sample(src, s + 3, bytes, l->big_endian, swap_ow), ba, bs, is_signed);
            store_sample(dst, 3 * p, bytes, y1);
            store_sample(dst, 3 * p + 1, bytes, cb);
            store_sample(dst, 3 * p + 2, bytes, cr);
            store_sample(dst, 3 * p + 3, bytes, y2);
            store_sample(dst, 3 * p + 4, bytes, cb);
            store_sample(dst, 3 * p + 5, bytes, cr);
        }
        return DCF_OK;
    }

    if (l->planar_configuration == 1 && spp > 1) {
        for (uint64_t c = 0; c < spp; c++)
            for (uint64_t p = 0; p < pixels; p++) {
                uint64_t v = load_sample(src, first_sample + c * pixels + p, bytes,
                                         l->big_endian, swap_ow);
                store_sample(dst, p * spp + c, bytes, correct_bits(v, ba, bs, is_signed));
            }
        return DCF_OK;
    }

    if (swap_ow) {
        for (uint64_t i = 0; i < n; i++) {
            uint64_t v = load_sample(src, first_sample + i, bytes, l->big_endian, swap_ow);
            store_sample(dst, i, bytes, correct_bits(v, ba, bs, is_signed));
        }
        return DCF_OK;
    }
    convert_plain(src + first_sample * bytes, n, bytes, bs, is_signed, l->big_endian, stream,
                  dst);
    return DCF_OK;
}

dcf_status dcf_native_decode(const uint8_t *src, size_t src_size, uint64_t index,
                             const dcf_native_layout *l, uint8_t *dst, size_t dst_size,
                             uint32_t pixel_tag, uint64_t value_offset, dcf_error *err)
{
    return decode_frame(src, src_size, index, l, dst, dst_size, 0, pixel_tag, value_offset,
                        err);
}

dcf_status dcf_native_decode_streaming(const uint8_t *src, size_t src_size, uint64_t index,
                                       const dcf_native_layout *l, uint8_t *dst,
                                       size_t dst_size, uint32_t pixel_tag,
                                       uint64_t value_offset, dcf_error *err)
{
    return decode_frame(src, src_size, index, l, dst, dst_size, 1, pixel_tag, value_offset,
                        err);
}

/* Samples checked between two looks at the result: a non-canonical frame is
 * usually found within its first block, a canonical one costs one read. */
#define CHECK_BLOCK 2048u

/* 1 if all n little-endian 16-bit values already have canonical unused bits.
 * A signed value is canonical when adding 2^(bs-1) leaves it below 2^bs, so
 * both cases are one branch-free OR over a block, which vectorises; the scan
 * stops at the first block holding a non-canonical value. */
DCF_AVX2_CLONE
static int canonical16(const uint8_t *frame, uint64_t n, unsigned bs, int is_signed)
{
    const uint16_t high = (uint16_t)(0xFFFFu << bs);
    const uint16_t bias = is_signed ? (uint16_t)(1u << (bs - 1)) : 0;
    for (uint64_t start = 0; start < n; start += CHECK_BLOCK) {
        uint64_t end = n - start < CHECK_BLOCK ? n : start + CHECK_BLOCK;
        uint16_t bad = 0;
        for (uint64_t i = start; i < end; i++) {
            uint16_t v;
            memcpy(&v, frame + 2 * i, 2);
            bad |= (uint16_t)(v + bias) & high;
        }
        if (bad)
            return 0;
    }
    return 1;
}

int dcf_native_viewable(const uint8_t *src, size_t src_size, uint64_t index,
                        const dcf_native_layout *l)
{
    dcf_error ignored;
    if (dcf_native_validate(l, &ignored) != DCF_OK)
        return 0;
    if (l->bits_allocated == 1 || l->big_endian || l->swap_ow_bytes || l->ybr_full_422 ||
        (l->planar_configuration == 1 && l->samples_per_pixel > 1))
        return 0;
    uint64_t size = dcf_native_frame_size(l);
    if (index > 0 && size > UINT64_MAX / (index + 1))
        return 0;
    if (size * (index + 1) > src_size)
        return 0;
    if (l->is_float || l->bits_stored == l->bits_allocated)
        return 1;

    unsigned bytes = l->bits_allocated / 8, ba = l->bits_allocated, bs = l->bits_stored;
    int is_signed = l->pixel_representation == 1;
    const uint8_t *frame = src + size * index;
    uint64_t n = size / bytes;
    if (bytes == 2)
        return canonical16(frame, n, bs, is_signed);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = load_sample(frame, i, bytes, 0, 0);
        if (correct_bits(v, ba, bs, is_signed) != v)
            return 0;
    }
    return 1;
}
