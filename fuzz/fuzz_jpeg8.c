/* libFuzzer target for the 8-bit DCT JPEG decoder (csrc/dcf_jpeg8.c).
 *
 * Input: one option byte, then the JPEG stream. The option byte picks
 *   bits 0-1  reduce (0..3)
 *   bit 2     to_rgb
 *   bit 3     Photometric Interpretation RGB (else YBR_FULL_422)
 *   bit 4     planar output
 *   bit 5     Bits Stored 7 instead of 8 (unused-bit correction)
 *   bit 6     a spec one row taller than the stream (must fail cleanly)
 * The header is read first (dcf_jpeg8_read_header) and inputs whose full or
 * reduced image would exceed 16 MB are skipped. The output buffer ends right
 * at a PROT_NONE page, so that a write past it by libjpeg (which is not built
 * with the sanitizers) faults instead of passing unnoticed.
 *
 * Build and run: see fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dcf_jpeg8.h"

#define MAX_BYTES (16u << 20)

static uint32_t reduced(uint32_t n, int r)
{
    return (uint32_t)(((uint64_t)n + ((1u << r) - 1)) >> r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcf_error err;
    dcf_frame_spec spec;
    uint32_t rows, columns;
    uint16_t components;
    uint8_t opt;
    int reduce, taller;
    uint64_t full, need;
    size_t page, span;
    uint8_t *region, *dst;
    dcf_status status;

    if (size < 1)
        return 0;
    opt = data[0];
    data++;
    size--;

    status = dcf_jpeg8_read_header(data, size, &rows, &columns, &components, &err);
    if (status != DCF_OK) {
        if (err.message[0] == '\0')
            abort(); /* every failure carries a message */
        return 0;
    }
    reduce = opt & 3;
    taller = (opt >> 6) & 1;
    full = (uint64_t)rows * columns * components;
    if (rows == 0 || columns == 0 || components == 0 || full > MAX_BYTES)
        return 0;

    memset(&spec, 0, sizeof spec);
    spec.rows = reduced(rows, reduce) + (uint32_t)taller;
    spec.columns = reduced(columns, reduce);
    spec.samples_per_pixel = components;
    spec.bits_allocated = 8;
    spec.bits_stored = (opt & 0x20) ? 7 : 8;
    spec.pixel_representation = 0;
    spec.planar_configuration = (opt & 0x10) ? 1 : 0;
    spec.photometric = (opt & 0x08) ? DCF_PHOTOMETRIC_RGB : DCF_PHOTOMETRIC_YBR_FULL_422;
    need = (uint64_t)spec.rows * spec.columns * components;

    page = (size_t)sysconf(_SC_PAGESIZE);
    span = ((size_t)need + page - 1) / page * page;
    region = mmap(NULL, span + page, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED)
        abort();
    if (mprotect(region + span, page, PROT_NONE) != 0)
        abort();
    dst = region + span - need; /* the buffer ends at the guard page */

    status = dcf_jpeg8_decode(data, size, &spec, (opt >> 2) & 1, reduce, dst,
                              (size_t)need, &err);
    if (status != DCF_OK && err.message[0] == '\0')
        abort();
    if (taller && status == DCF_OK)
        abort(); /* a spec that does not match the stream must be refused */
    if (status == DCF_OK && spec.bits_stored == 7) {
        for (uint64_t i = 0; i < need; i++)
            if (dst[i] > 0x7F)
                abort();
    }
    munmap(region, span + page);
    return 0;
}
