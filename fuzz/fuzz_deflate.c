/* libFuzzer target for Deflated Image Frame Compression (csrc/dcf_deflate.c).
 *
 * The first 8 input bytes choose the frame layout (rows, columns, samples,
 * bits allocated / stored, signedness, planar configuration); the rest is the
 * deflated frame. The decoder must fail cleanly or fill the whole output.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *       -Icsrc fuzz/fuzz_deflate.c csrc/dcf_deflate.c csrc/dcf_native.c csrc/dcf_status.c \
 *       -lz -o /tmp/fuzz_deflate
 *   /tmp/fuzz_deflate -runs=1000000 fuzz/corpus_deflate
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcf_deflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t bits_choices[4] = {1, 8, 16, 32};
    if (size < 8)
        return 0;
    dcf_native_layout layout;
    memset(&layout, 0, sizeof layout);
    layout.rows = 1u + data[0] % 64u;
    layout.columns = 1u + data[1] % 64u;
    layout.samples_per_pixel = data[2] & 1 ? 3u : 1u;
    layout.bits_allocated = bits_choices[data[3] & 3];
    layout.bits_stored = 1u + data[4] % layout.bits_allocated;
    layout.pixel_representation = data[5] & 1;
    layout.planar_configuration = (data[5] >> 1) & 1;
    layout.ybr_full_422 = (data[5] >> 2) & 1 && layout.samples_per_pixel == 3;
    dcf_error err;
    dcf_error_clear(&err);
    if (dcf_native_validate(&layout, &err) != DCF_OK)
        return 0;
    size_t out_size = (size_t)dcf_native_frame_size(&layout);
    uint8_t *out = malloc(out_size);
    if (!out)
        return 0;
    dcf_deflate_frame_decode(data + 8, size - 8, &layout, out, out_size, &err);
    free(out);
    return 0;
}
