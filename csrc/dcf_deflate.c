#include "dcf_deflate.h"

#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

#define PIXEL_DATA_TAG 0x7FE00010u

dcf_status dcf_deflate_frame_decode(const uint8_t *src, size_t src_size,
                                    const dcf_native_layout *layout, uint8_t *dst,
                                    size_t dst_size, dcf_error *err)
{
    dcf_status st = dcf_native_validate(layout, err);
    if (st)
        return st;
    const uint64_t bits = dcf_native_frame_bits(layout);
    const uint64_t expected = (bits + 7) / 8;
    if (expected > (uint64_t)src_size * DCF_DEFLATE_MAX_RATIO + DCF_DEFLATE_MAX_RATIO)
        return dcf_fail(err, DCF_E_TRUNCATED, PIXEL_DATA_TAG, 0,
                        "deflated frame of %zu bytes cannot inflate to the %llu bytes of a "
                        "%u x %u frame", src_size, (unsigned long long)expected,
                        (unsigned)layout->rows, (unsigned)layout->columns);
    if (expected > SIZE_MAX || expected > UINT_MAX)
        return dcf_fail(err, DCF_E_UNSUPPORTED, PIXEL_DATA_TAG, 0,
                        "deflated frame of %llu bytes is too large to inflate here",
                        (unsigned long long)expected);
    /* One byte of room past the frame: a stream that inflates to more than the
     * frame is caught instead of silently cut. */
    uint8_t *inflated = malloc((size_t)expected + 1);
    if (!inflated)
        return dcf_fail(err, DCF_E_NO_MEMORY, PIXEL_DATA_TAG, 0,
                        "out of memory inflating a frame of %llu bytes",
                        (unsigned long long)expected);

    z_stream z = {0};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
        free(inflated);
        return dcf_fail(err, DCF_E_NO_MEMORY, PIXEL_DATA_TAG, 0, "cannot start zlib");
    }
    /* zlib counts in uInt: feed the input in pieces it can take. */
    size_t fed = 0;
    int ret = Z_OK;
    z.next_out = inflated;
    z.avail_out = (uInt)expected + 1;
    while (ret == Z_OK) {
        if (z.avail_in == 0 && fed < src_size) {
            size_t piece = src_size - fed < UINT_MAX ? src_size - fed : UINT_MAX;
            z.next_in = (Bytef *)(uintptr_t)(src + fed); /* zlib does not write it */
            z.avail_in = (uInt)piece;
            fed += piece;
        }
        uInt before_in = z.avail_in, before_out = z.avail_out;
        ret = inflate(&z, Z_NO_FLUSH);
        if (ret == Z_BUF_ERROR || (ret == Z_OK && z.avail_in == before_in &&
                                   z.avail_out == before_out))
            break; /* no progress: input ended or the output is full */
    }
    const uint64_t produced = (uint64_t)expected + 1 - z.avail_out;
    const char *zmsg = z.msg ? z.msg : "";
    if (ret == Z_STREAM_END && produced == expected) {
        inflateEnd(&z);
        st = dcf_native_decode(inflated, (size_t)expected, 0, layout, dst, dst_size,
                               PIXEL_DATA_TAG, 0, err);
    } else if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_MEM_ERROR) {
        st = dcf_fail(err, ret == Z_MEM_ERROR ? DCF_E_NO_MEMORY : DCF_E_CODEC, PIXEL_DATA_TAG,
                      z.total_in, "deflated frame cannot be inflated at byte %lu: %s",
                      (unsigned long)z.total_in, ret == Z_NEED_DICT ? "needs a dictionary"
                                                                    : zmsg);
        inflateEnd(&z);
    } else if (produced > expected) {
        st = dcf_fail(err, DCF_E_PIXEL_DATA, PIXEL_DATA_TAG, 0,
                      "deflated frame inflates to more than the %llu bytes of a %u x %u frame",
                      (unsigned long long)expected, (unsigned)layout->rows,
                      (unsigned)layout->columns);
        inflateEnd(&z);
    } else {
        st = dcf_fail(err, DCF_E_TRUNCATED, PIXEL_DATA_TAG, z.total_in,
                      "deflated frame ends after %llu of its %llu bytes (%s)",
                      (unsigned long long)produced, (unsigned long long)expected,
                      ret == Z_STREAM_END ? "stream complete, frame short"
                                          : "deflate stream cut short");
        inflateEnd(&z);
    }
    free(inflated);
    return st;
}
