#include "dcf_jpeg_any.h"

#include "dcf_jpeg.h"
#include "dcf_jpeg8.h"

#define SOF_LOSSLESS 0xC3u

dcf_status dcf_jpeg_any_decode(const uint8_t *src, size_t size, const dcf_frame_spec *spec,
                               int to_rgb, int reduce, uint8_t *dst, size_t dst_size,
                               int *colour_done, dcf_error *err)
{
    dcf_jpeg_info info;
    *colour_done = 0;
    dcf_status st = dcf_jpeg_peek(src, size, &info, err);
    if (st)
        return st;
    if (info.sof == SOF_LOSSLESS || info.precision > 8) {
        if (reduce)
            return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, info.sof_offset,
                            "reduce=%d: a %s JPEG frame (SOF 0x%02X, %u bits) has no reduced "
                            "decode; only 8-bit DCT frames do", reduce,
                            info.sof == SOF_LOSSLESS ? "lossless" : "12-bit DCT",
                            (unsigned)info.sof, (unsigned)info.precision);
        return dcf_jpeg_decode(src, size, spec, dst, dst_size, err);
    }
    st = dcf_jpeg8_decode(src, size, spec, to_rgb, reduce, dst, dst_size, err);
    if (st == DCF_OK)
        *colour_done = 1;
    return st;
}
