/* DICOM RLE Lossless decoder (PS3.5 Annex G).
 *
 * A frame is a 64-byte header (segment count, then 15 little-endian segment
 * offsets) followed by PackBits segments. Each segment holds one byte plane:
 * for each sample, the most significant byte first.
 *
 * A lone byte plane that is contiguous in the output (8-bit grey, or 8-bit
 * planar colour) is decoded straight into place. Otherwise the frame is
 * decoded in chunks of pixels: each segment's PackBits runs for the chunk go
 * into a small contiguous scratch plane on the stack (memcpy / memset per
 * run, the run state carried over to the next chunk), then one pass joins or
 * interleaves the chunk's planes into the output, clearing or sign-filling
 * the unused high bits on the way. No heap allocation, no global state. */
#include <string.h>

#include "dcf_config.h"
#include "dcf_codec.h"

#define RLE_HEADER_SIZE 64u
#define RLE_MAX_SEGMENTS 15u
/* Stack scratch shared by the planes of one chunk. */
#define RLE_SCRATCH_BYTES 16384u
/* Bytes past a scratch plane that a short run may overwrite. */
#define RLE_SLACK 128u

static uint32_t read_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Decoding state of one PackBits segment, resumable across chunks. */
typedef struct rle_segment {
    const uint8_t *src; /* the whole frame */
    size_t begin, end;  /* segment data src[begin, end) */
    size_t pos;         /* next header or data byte */
    size_t produced;    /* bytes of the plane produced so far */
    size_t count;       /* bytes of the whole plane */
    size_t pending;     /* bytes of the current run not yet written */
    int pending_literal;/* the current run copies src[pos..], else fills */
    uint8_t fill;       /* value of a pending replicate run */
    unsigned index;     /* segment number, from 0 */
} rle_segment;

static dcf_status short_segment(const rle_segment *seg, size_t produced, dcf_error *err)
{
    return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, seg->pos,
                    "RLE segment %u ends after %zu of the %zu bytes of its byte "
                    "plane (segment data %zu..%zu)",
                    seg->index + 1, produced, seg->count, seg->begin, seg->end);
}

/* Copy / fill `count` (1..128) bytes as whole 16-byte blocks: up to 15 bytes
 * past `count` are overwritten (and read) too. */
static inline void copy_blocks(uint8_t *out, const uint8_t *in, size_t count)
{
    size_t k = 0;
    do {
        memcpy(out + k, in + k, 16);
        k += 16;
    } while (k < count);
}

static inline void fill_blocks(uint8_t *out, uint8_t value, size_t count)
{
    size_t k = 0;
    do {
        memset(out + k, value, 16);
        k += 16;
    } while (k < count);
}

/* Produce the next `n` bytes of the segment's plane into out[0, n).
 * out[n, cap) may be overwritten with junk (cap >= n), which lets short runs
 * be written as whole 16-byte blocks; reading src[pos, src_size) past the
 * segment's end is also allowed for that (the junk is never kept).
 * Runs that go past the plane's end are cut (a trailing pad byte is common);
 * the bytes a run needs are checked when the run starts. */
static dcf_status decode_run_bytes(rle_segment *seg, uint8_t *out, size_t n,
                                   size_t cap, size_t src_size, dcf_error *err)
{
    const uint8_t *src = seg->src;
    const size_t end = seg->end;
    size_t pos = seg->pos;
    size_t done = 0;

    if (seg->pending) {
        size_t take = seg->pending < n ? seg->pending : n;
        if (seg->pending_literal) {
            memcpy(out, src + pos, take);
            pos += take;
        } else {
            memset(out, seg->fill, take);
        }
        seg->pending -= take;
        done = take;
    }

    /* Fast loop: while any whole run fits in the output and its bytes are in
     * the segment, runs need no cutting, no carrying over and no checks. */
    while (n - done >= 128 && end - pos > 129) {
        const uint8_t header = src[pos++];
        if (header < 128) {
            const size_t run = (size_t)header + 1;
            copy_blocks(out + done, src + pos, run);
            pos += run;
            done += run;
        } else if (header > 128) {
            const size_t run = 257u - header;
            fill_blocks(out + done, src[pos], run);
            pos++;
            done += run;
        }
    }

    while (done < n) {
        const size_t left = seg->count - seg->produced - done; /* of the plane */
        size_t run, take, room = n - done;
        uint8_t header;

        if (pos >= end)
            goto short_data;
        header = src[pos++];
        if (header < 128) {
            /* literal: the next header + 1 bytes */
            run = (size_t)header + 1;
            if (run > left)
                run = left;
            if (run > end - pos)
                goto short_data;
            take = run < room ? run : room;
            if (cap - done >= RLE_SLACK && src_size - pos >= RLE_SLACK)
                copy_blocks(out + done, src + pos, take);
            else
                memcpy(out + done, src + pos, take);
            pos += take;
            if (take < run) {
                seg->pending = run - take;
                seg->pending_literal = 1;
            }
        } else if (header > 128) {
            /* replicate: the next byte 257 - header times */
            run = 257u - header;
            if (run > left)
                run = left;
            if (pos >= end)
                goto short_data;
            take = run < room ? run : room;
            if (cap - done >= RLE_SLACK)
                fill_blocks(out + done, src[pos], take);
            else
                memset(out + done, src[pos], take);
            if (take < run) {
                seg->pending = run - take;
                seg->pending_literal = 0;
                seg->fill = src[pos];
            }
            pos++;
        } else {
            continue; /* 128: no-op, PS3.5 G.3.2 */
        }
        done += take;
    }
    seg->pos = pos;
    seg->produced += done;
    return DCF_OK;

short_data:
    seg->pos = pos;
    return short_segment(seg, seg->produced + done, err);
}

/* Unused-bit correction of a value: keep `mask`, then sign-fill from `sign`
 * (0 for unsigned). mask = all ones, sign = 0 is the identity. */
typedef struct rle_fix {
    uint32_t mask, sign;
} rle_fix;

static inline uint32_t apply_fix(uint32_t v, rle_fix fix)
{
    return ((v & fix.mask) ^ fix.sign) - fix.sign;
}

/* 16-bit samples `stride` bytes apart from two planes (msb, lsb). */
static inline void join16(uint8_t *restrict dst, size_t stride,
                          const uint8_t *restrict msb, const uint8_t *restrict lsb,
                          size_t n, rle_fix fix, int fixing)
{
    const uint16_t mask = (uint16_t)fix.mask, sign = (uint16_t)fix.sign;
    if (stride == 2) {
        if (fixing) {
            for (size_t i = 0; i < n; i++) {
                uint16_t v = (uint16_t)(msb[i] << 8 | lsb[i]);
                v = (uint16_t)(((v & mask) ^ sign) - sign);
                memcpy(dst + 2 * i, &v, 2);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                uint16_t v = (uint16_t)(msb[i] << 8 | lsb[i]);
                memcpy(dst + 2 * i, &v, 2);
            }
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint16_t v = (uint16_t)(msb[i] << 8 | lsb[i]);
        v = (uint16_t)(((v & mask) ^ sign) - sign);
        memcpy(dst + stride * i, &v, 2);
    }
}

/* 32-bit samples `stride` bytes apart from four planes, most significant first. */
static inline void join32(uint8_t *restrict dst, size_t stride,
                          const uint8_t *restrict b3, const uint8_t *restrict b2,
                          const uint8_t *restrict b1, const uint8_t *restrict b0,
                          size_t n, rle_fix fix)
{
    if (stride == 4) {
        for (size_t i = 0; i < n; i++) {
            uint32_t v = (uint32_t)b3[i] << 24 | (uint32_t)b2[i] << 16 |
                         (uint32_t)b1[i] << 8 | b0[i];
            v = apply_fix(v, fix);
            memcpy(dst + 4 * i, &v, 4);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)b3[i] << 24 | (uint32_t)b2[i] << 16 |
                     (uint32_t)b1[i] << 8 | b0[i];
        v = apply_fix(v, fix);
        memcpy(dst + stride * i, &v, 4);
    }
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define RLE_HAVE_SSSE3 1

/* Interleave three 8-bit planes, 16 pixels (48 bytes) per step with pshufb;
 * returns the pixels done (a multiple of 16). */
__attribute__((target("ssse3"))) static size_t
interleave3_ssse3(uint8_t *restrict dst, const uint8_t *restrict p0,
                  const uint8_t *restrict p1, const uint8_t *restrict p2, size_t n)
{
    /* Output byte j of block b is channel (16b + j) % 3 of pixel (16b + j) / 3. */
#define X (-128)
    const __m128i m00 = _mm_setr_epi8(0, X, X, 1, X, X, 2, X, X, 3, X, X, 4, X, X, 5);
    const __m128i m01 = _mm_setr_epi8(X, 0, X, X, 1, X, X, 2, X, X, 3, X, X, 4, X, X);
    const __m128i m02 = _mm_setr_epi8(X, X, 0, X, X, 1, X, X, 2, X, X, 3, X, X, 4, X);
    const __m128i m10 = _mm_setr_epi8(X, X, 6, X, X, 7, X, X, 8, X, X, 9, X, X, 10, X);
    const __m128i m11 = _mm_setr_epi8(5, X, X, 6, X, X, 7, X, X, 8, X, X, 9, X, X, 10);
    const __m128i m12 = _mm_setr_epi8(X, 5, X, X, 6, X, X, 7, X, X, 8, X, X, 9, X, X);
    const __m128i m20 = _mm_setr_epi8(X, 11, X, X, 12, X, X, 13, X, X, 14, X, X, 15, X, X);
    const __m128i m21 = _mm_setr_epi8(X, X, 11, X, X, 12, X, X, 13, X, X, 14, X, X, 15, X);
    const __m128i m22 = _mm_setr_epi8(10, X, X, 11, X, X, 12, X, X, 13, X, X, 14, X, X, 15);
#undef X
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p0 + i));
        const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p1 + i));
        const __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p2 + i));
        __m128i *o = (__m128i *)(void *)(dst + 3 * i);
        _mm_storeu_si128(o, _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, m00),
                                                      _mm_shuffle_epi8(b, m01)),
                                         _mm_shuffle_epi8(c, m02)));
        _mm_storeu_si128(o + 1, _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, m10),
                                                          _mm_shuffle_epi8(b, m11)),
                                             _mm_shuffle_epi8(c, m12)));
        _mm_storeu_si128(o + 2, _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, m20),
                                                          _mm_shuffle_epi8(b, m21)),
                                             _mm_shuffle_epi8(c, m22)));
    }
    return i;
}
#endif

/* Interleave `spp` 8-bit planes into dst (spp bytes per pixel). */
static void interleave8(uint8_t *restrict dst, const uint8_t *planes, size_t plane_size,
                        size_t spp, size_t n, rle_fix fix, int fixing)
{
    if (spp == 3 && !fixing) {
        const uint8_t *restrict p0 = planes;
        const uint8_t *restrict p1 = planes + plane_size;
        const uint8_t *restrict p2 = planes + 2 * plane_size;
        size_t i = 0;
#ifdef RLE_HAVE_SSSE3
        if (__builtin_cpu_supports("ssse3"))
            i = interleave3_ssse3(dst, p0, p1, p2, n);
#endif
        for (; i < n; i++) {
            dst[3 * i] = p0[i];
            dst[3 * i + 1] = p1[i];
            dst[3 * i + 2] = p2[i];
        }
        return;
    }
    for (size_t s = 0; s < spp; s++) {
        const uint8_t *restrict p = planes + s * plane_size;
        for (size_t i = 0; i < n; i++)
            dst[spp * i + s] = (uint8_t)apply_fix(p[i], fix);
    }
}

/* Clear or sign-fill the bits above Bits Stored of 8-bit samples. */
static void fix8(uint8_t *dst, size_t count, rle_fix fix)
{
    const uint8_t mask = (uint8_t)fix.mask, sign = (uint8_t)fix.sign;
    for (size_t i = 0; i < count; i++)
        dst[i] = (uint8_t)(((dst[i] & mask) ^ sign) - sign);
}

dcf_status dcf_rle_decode(const uint8_t *src, size_t src_size,
                          const dcf_frame_spec *spec, uint8_t *dst,
                          size_t dst_size, dcf_error *err)
{
    dcf_error scratch_err;
    uint32_t offsets[RLE_MAX_SEGMENTS + 1];
    rle_segment segs[RLE_MAX_SEGMENTS];
    size_t bytes, spp, pixels, sample_stride, plane_stride;
    uint32_t n_segments, expected_segments;
    dcf_status status;
    rle_fix fix = {0xFFFFFFFFu, 0};
    int fixing;

    if (err == NULL)
        err = &scratch_err;
    dcf_error_clear(err);
    if (src == NULL || spec == NULL || dst == NULL)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "RLE: NULL argument");
    status = dcf_frame_spec_check(spec, dst_size, err);
    if (status != DCF_OK)
        return status;
    if (spec->bits_allocated == 1)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "RLE Lossless with bits allocated 1 is not supported");

    bytes = dcf_sample_bytes(spec);
    spp = spec->samples_per_pixel;
    pixels = (size_t)spec->rows * spec->columns;
    expected_segments = (uint32_t)(spp * bytes);
    if (expected_segments > RLE_MAX_SEGMENTS)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "RLE Lossless holds at most 15 segments, %u samples of "
                        "%zu bytes need %u",
                        (unsigned)spp, bytes, expected_segments);

    /* Validate the whole header before writing anything. */
    if (src_size < RLE_HEADER_SIZE)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, src_size,
                        "RLE frame is %zu bytes, shorter than its 64-byte header",
                        src_size);
    n_segments = read_le32(src);
    if (n_segments < 1 || n_segments > RLE_MAX_SEGMENTS)
        return dcf_fail(err, DCF_E_MALFORMED, DCF_NO_TAG, 0,
                        "RLE header gives %u segments, must be 1 to 15", n_segments);
    if (n_segments != expected_segments)
        return dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, 0,
                        "RLE header gives %u segments, but %u samples per pixel "
                        "of %u bits allocated need %u",
                        n_segments, (unsigned)spp,
                        (unsigned)spec->bits_allocated, expected_segments);
    for (uint32_t i = 0; i < n_segments; i++) {
        const size_t field = 4u + 4u * i;
        offsets[i] = read_le32(src + field);
        if (i == 0 && offsets[0] != RLE_HEADER_SIZE)
            return dcf_fail(err, DCF_E_MALFORMED, DCF_NO_TAG, field,
                            "RLE segment 1 starts at %u, must be 64", offsets[0]);
        if (i > 0 && offsets[i] < offsets[i - 1])
            return dcf_fail(err, DCF_E_MALFORMED, DCF_NO_TAG, field,
                            "RLE segment %u starts at %u, before segment %u (%u)",
                            i + 1, offsets[i], i, offsets[i - 1]);
        if (offsets[i] > src_size)
            return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, field,
                            "RLE segment %u starts at %u, past the end of the "
                            "%zu-byte frame", i + 1, offsets[i], src_size);
    }

    for (uint32_t i = 0; i < n_segments; i++) {
        rle_segment *seg = &segs[i];
        seg->src = src;
        seg->begin = seg->pos = offsets[i];
        seg->end = i + 1 < n_segments ? offsets[i + 1] : src_size;
        seg->produced = seg->pending = 0;
        seg->pending_literal = 0;
        seg->fill = 0;
        seg->count = pixels;
        seg->index = i;
    }

    /* Unused high bits: cleared, or filled with the sign bit, as pydicom does. */
    fixing = spec->bits_stored < spec->bits_allocated;
    if (fixing) {
        const unsigned width = spec->bits_stored;
        fix.mask = width >= 32u ? 0xFFFFFFFFu : (1u << width) - 1u;
        fix.sign = spec->pixel_representation == 1 ? 1u << (width - 1u) : 0u;
    }

    /* Output byte layout: planar keeps each sample's plane contiguous. */
    sample_stride = spec->planar_configuration ? bytes : bytes * spp;
    plane_stride = spec->planar_configuration ? pixels * bytes : bytes;

    if (bytes == 1 && sample_stride == 1) {
        /* Every plane is contiguous in the output: decode in place. */
        for (uint32_t i = 0; i < n_segments; i++) {
            status = decode_run_bytes(&segs[i], dst + i * plane_stride, pixels,
                                      pixels, src_size, err);
            if (status != DCF_OK)
                return status;
        }
        if (fixing)
            fix8(dst, pixels * spp, fix);
        return DCF_OK;
    }

    {
        uint8_t scratch[RLE_SCRATCH_BYTES + RLE_SLACK];
        const size_t chunk = RLE_SCRATCH_BYTES / n_segments;

        for (size_t p0 = 0; p0 < pixels; p0 += chunk) {
            const size_t n = pixels - p0 < chunk ? pixels - p0 : chunk;

            for (uint32_t i = 0; i < n_segments; i++) {
                status = decode_run_bytes(&segs[i], scratch + i * chunk, n,
                                          n + RLE_SLACK, src_size, err);
                if (status != DCF_OK)
                    return status;
            }

            if (bytes == 1) {
                interleave8(dst + p0 * spp, scratch, chunk, spp, n, fix, fixing);
                continue;
            }
            for (size_t s = 0; s < spp; s++) {
                const uint8_t *planes = scratch + s * bytes * chunk;
                uint8_t *out = dst + s * plane_stride + p0 * sample_stride;
                if (bytes == 2)
                    join16(out, sample_stride, planes, planes + chunk, n, fix, fixing);
                else
                    join32(out, sample_stride, planes, planes + chunk,
                           planes + 2 * chunk, planes + 3 * chunk, n, fix);
            }
        }
    }
    return DCF_OK;
}

const char *dcf_rle_variant(void)
{
#ifdef RLE_HAVE_SSSE3
    __builtin_cpu_init();
    if (__builtin_cpu_supports("ssse3"))
        return "ssse3";
#endif
    return "default";
}
