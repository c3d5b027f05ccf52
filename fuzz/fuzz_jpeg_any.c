/* libFuzzer target for the JPEG routing (csrc/dcf_jpeg_any.c): each frame goes by its
 * frame header to libjpeg-turbo (8-bit DCT) or to our own decoder (lossless, 12-bit).
 * The spec comes from the frame header; the last input byte picks Pixel
 * Representation, to_rgb and reduce (0..3, the output sized ceil(n / 2^reduce)).
 * Any dcf_status is fine; a crash, a sanitizer report or a hang is a finding.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *     -Icsrc fuzz/fuzz_jpeg_any.c csrc/dcf_jpeg_any.c csrc/dcf_jpeg.c \
 *     csrc/dcf_jpeg_markers.c csrc/dcf_jpeg_huffman.c csrc/dcf_jpeg_lossless.c \
 *     csrc/dcf_jpeg_dct12.c csrc/dcf_jpeg8.c csrc/dcf_codec.c csrc/dcf_status.c -ljpeg \
 *     -o /tmp/fuzz_jpeg_any
 *   /tmp/fuzz_jpeg_any -runs=1000000 -max_len=16384 -timeout=10 <seed folders>
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcf_jpeg.h"
#include "dcf_jpeg_any.h"

#define MAX_OUTPUT (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcf_jpeg_info info;
    dcf_error err;
    dcf_frame_spec spec;
    const uint8_t knob = size > 0 ? data[size - 1] : 0;
    const int reduce = (knob >> 4) & 3;
    int colour_done = 0;

    if (dcf_jpeg_peek(data, size, &info, &err) != DCF_OK || info.rows == 0 ||
        info.columns == 0 || info.components == 0)
        return 0;
    memset(&spec, 0, sizeof(spec));
    spec.rows = (info.rows + (1u << reduce) - 1) >> reduce;
    spec.columns = (info.columns + (1u << reduce) - 1) >> reduce;
    spec.samples_per_pixel = info.components;
    spec.bits_allocated = info.precision <= 8 ? 8 : 16;
    spec.bits_stored = info.precision >= 1 && info.precision <= spec.bits_allocated
                           ? info.precision
                           : spec.bits_allocated;
    spec.pixel_representation = knob & 1u;
    spec.photometric = info.components == 1 ? DCF_PHOTOMETRIC_MONOCHROME2
                                            : DCF_PHOTOMETRIC_YBR_FULL_422;
    size_t bytes = (size_t)spec.rows * spec.columns * spec.samples_per_pixel *
                   (spec.bits_allocated / 8u);
    if (bytes > MAX_OUTPUT)
        return 0;
    uint8_t *dst = malloc(bytes);
    if (dst == NULL)
        return 0;
    (void)dcf_jpeg_any_decode(data, size, &spec, (knob >> 3) & 1, reduce, dst, bytes,
                              &colour_done, &err);
    free(dst);
    return 0;
}
