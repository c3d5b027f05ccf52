/* DICOM RLE Lossless decoder (PS3.5 Annex G).
 *
 * A frame is a 64-byte header (segment count, then 15 little-endian segment
 * offsets) followed by PackBits segments. Each segment holds one byte plane:
 * for each sample, the most significant byte first. Segments are decoded
 * straight into their byte position of the output samples, with a stride, so
 * no plane is ever buffered. */
#include <string.h>

#include "dcf_codec.h"

#define RLE_HEADER_SIZE 64u
#define RLE_MAX_SEGMENTS 15u

static uint32_t read_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int host_is_little_endian(void)
{
    const uint16_t probe = 1;
    uint8_t first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

/* Write `count` copies of `value` every `stride` bytes. */
static void fill_strided(uint8_t *out, size_t stride, size_t count, uint8_t value)
{
    if (stride == 1) {
        memset(out, value, count);
        return;
    }
    for (size_t i = 0; i < count; i++)
        out[i * stride] = value;
}

/* Copy `count` bytes to every `stride`-th output byte. */
static void copy_strided(uint8_t *out, size_t stride, const uint8_t *in, size_t count)
{
    if (stride == 1) {
        memcpy(out, in, count);
        return;
    }
    for (size_t i = 0; i < count; i++)
        out[i * stride] = in[i];
}

/* Decode PackBits data src[begin, end) until `count` bytes are produced.
 * Runs that go past `count` are cut (a trailing pad byte is common). */
static dcf_status decode_segment(const uint8_t *src, size_t begin, size_t end,
                                 uint8_t *out, size_t stride, size_t count,
                                 unsigned segment, dcf_error *err)
{
    size_t pos = begin;
    size_t produced = 0;

    while (produced < count) {
        size_t run, take;
        uint8_t header;

        if (pos >= end)
            goto short_segment;
        header = src[pos++];
        if (header == 128)
            continue; /* no-op, PS3.5 G.3.2 */

        if (header < 128) {
            /* literal: the next header + 1 bytes */
            run = (size_t)header + 1;
            take = run < count - produced ? run : count - produced;
            if (take > end - pos)
                goto short_segment;
            copy_strided(out + produced * stride, stride, src + pos, take);
            pos += take;
        } else {
            /* replicate: the next byte 257 - header times */
            run = 257u - header;
            take = run < count - produced ? run : count - produced;
            if (pos >= end)
                goto short_segment;
            fill_strided(out + produced * stride, stride, take, src[pos]);
            pos++;
        }
        produced += take;
    }
    return DCF_OK;

short_segment:
    return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, pos,
                    "RLE segment %u ends after %zu of the %zu bytes of its byte "
                    "plane (segment data %zu..%zu)",
                    segment + 1, produced, count, begin, end);
}

/* Clear or sign-fill the bits above Bits Stored, as pydicom does for RLE. */
static void correct_unused_bits(uint8_t *dst, size_t count, const dcf_frame_spec *spec)
{
    const unsigned width = spec->bits_stored;
    const int is_signed = spec->pixel_representation == 1;

    switch (dcf_sample_bytes(spec)) {
    case 1:
        for (size_t i = 0; i < count; i++)
            dst[i] = (uint8_t)dcf_extend_bits(dst[i], width, is_signed);
        break;
    case 2:
        for (size_t i = 0; i < count; i++) {
            uint16_t v;
            memcpy(&v, dst + 2 * i, 2);
            v = (uint16_t)dcf_extend_bits(v, width, is_signed);
            memcpy(dst + 2 * i, &v, 2);
        }
        break;
    default:
        for (size_t i = 0; i < count; i++) {
            uint32_t v;
            memcpy(&v, dst + 4 * i, 4);
            v = dcf_extend_bits(v, width, is_signed);
            memcpy(dst + 4 * i, &v, 4);
        }
        break;
    }
}

dcf_status dcf_rle_decode(const uint8_t *src, size_t src_size,
                          const dcf_frame_spec *spec, uint8_t *dst,
                          size_t dst_size, dcf_error *err)
{
    dcf_error scratch;
    uint32_t offsets[RLE_MAX_SEGMENTS + 1];
    size_t bytes, pixels, sample_stride, plane_stride;
    uint32_t n_segments, expected_segments;
    dcf_status status;
    int little_endian = host_is_little_endian();

    if (err == NULL)
        err = &scratch;
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
    pixels = (size_t)spec->rows * spec->columns;
    expected_segments = (uint32_t)(spec->samples_per_pixel * bytes);
    if (expected_segments > RLE_MAX_SEGMENTS)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "RLE Lossless holds at most 15 segments, %u samples of "
                        "%zu bytes need %u",
                        (unsigned)spec->samples_per_pixel, bytes, expected_segments);

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
                        n_segments, (unsigned)spec->samples_per_pixel,
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

    /* Output byte layout: planar keeps each sample's plane contiguous. */
    sample_stride = spec->planar_configuration ? bytes : bytes * spec->samples_per_pixel;
    plane_stride = spec->planar_configuration ? pixels * bytes : bytes;

    for (uint32_t i = 0; i < n_segments; i++) {
        const size_t sample = i / bytes;
        const size_t significance = i % bytes; /* 0 = most significant byte */
        const size_t byte_in_sample =
            little_endian ? bytes - 1 - significance : significance;
        const size_t end = i + 1 < n_segments ? offsets[i + 1] : src_size;

        status = decode_segment(src, offsets[i], end,
                                dst + sample * plane_stride + byte_in_sample,
                                sample_stride, pixels, i, err);
        if (status != DCF_OK)
            return status;
    }

    if (spec->bits_stored < spec->bits_allocated)
        correct_unused_bits(dst, pixels * spec->samples_per_pixel, spec);
    return DCF_OK;
}
