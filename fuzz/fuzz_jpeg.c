/* libFuzzer target for our JPEG decoder (csrc/dcf_jpeg*.c): lossless SOF3 and
 * 12-bit SOF0/SOF1. Each input is peeked; the frame spec is derived from
 * the frame header (bits allocated 8 or 16 from the precision; the last
 * input byte picks Pixel Representation and Planar Configuration), the
 * output is bounded to 16 MB, and the frame is decoded. A crash, a
 * sanitizer report, a hang or a leak is a finding; any dcf_status is fine.
 * Build and run: see fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcf_jpeg.h"

#define MAX_OUTPUT (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcf_jpeg_info info;
    dcf_error err;
    dcf_frame_spec spec;
    size_t bytes;
    uint8_t *dst;
    const uint8_t knob = size > 0 ? data[size - 1] : 0;

    if (dcf_jpeg_peek(data, size, &info, &err) != DCF_OK)
        return 0;
    memset(&spec, 0, sizeof(spec));
    /* Rows 0 (to come from DNL): the decoder takes the spec's rows. */
    spec.rows = info.rows != 0 ? info.rows : 1u + (knob >> 4);
    spec.columns = info.columns;
    spec.samples_per_pixel = info.components;
    spec.bits_allocated = info.precision <= 8 ? 8 : 16;
    spec.bits_stored = info.precision >= 1 && info.precision <= spec.bits_allocated
                           ? info.precision
                           : spec.bits_allocated;
    spec.pixel_representation = knob & 1u;
    spec.planar_configuration = (knob >> 1) & 1u;
    spec.photometric = info.components == 1 ? DCF_PHOTOMETRIC_MONOCHROME2 : DCF_PHOTOMETRIC_RGB;
    if (spec.columns == 0 || spec.samples_per_pixel == 0)
        return 0;
    bytes = (size_t)spec.rows * spec.columns * spec.samples_per_pixel *
            (spec.bits_allocated / 8u);
    if (bytes > MAX_OUTPUT)
        return 0;
    dst = malloc(bytes);
    if (dst == NULL)
        return 0;
    (void)dcf_jpeg_decode(data, size, &spec, dst, bytes, &err);
    /* A mismatching spec must be refused without harm too. */
    if (knob & 4u) {
        spec.samples_per_pixel = (uint16_t)(spec.samples_per_pixel % 4u + 1u);
        bytes = (size_t)spec.rows * spec.columns * spec.samples_per_pixel *
                (spec.bits_allocated / 8u);
        if (bytes <= MAX_OUTPUT) {
            uint8_t *other = realloc(dst, bytes);
            if (other != NULL) {
                dst = other;
                (void)dcf_jpeg_decode(data, size, &spec, dst, bytes, &err);
            }
        }
    }
    free(dst);
    return 0;
}
