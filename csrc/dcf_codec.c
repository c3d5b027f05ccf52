/* Validation of the frame description shared by every frame codec. */
#include "dcf_codec.h"

dcf_status dcf_frame_spec_check(const dcf_frame_spec *spec, size_t dst_size,
                                dcf_error *err)
{
    const unsigned ba = spec->bits_allocated;
    uint64_t expected;

    if (spec->rows == 0 || spec->columns == 0 || spec->samples_per_pixel == 0)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "rows (%u), columns (%u) and samples per pixel (%u) "
                        "must all be at least 1",
                        (unsigned)spec->rows, (unsigned)spec->columns,
                        (unsigned)spec->samples_per_pixel);
    if (ba != 1 && ba != 8 && ba != 16 && ba != 32)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "bits allocated %u is not supported (1, 8, 16 or 32)", ba);
    if (spec->bits_stored == 0 || spec->bits_stored > ba)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "bits stored %u must be between 1 and bits allocated %u",
                        (unsigned)spec->bits_stored, ba);
    if (spec->pixel_representation > 1)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "pixel representation %u must be 0 or 1",
                        (unsigned)spec->pixel_representation);
    if (spec->planar_configuration > 1)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "planar configuration %u must be 0 or 1",
                        (unsigned)spec->planar_configuration);
    if (spec->photometric > DCF_PHOTOMETRIC_OTHER)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "unknown photometric interpretation code %u",
                        (unsigned)spec->photometric);

    /* rows and columns are 32-bit and samples 16-bit, so the pixel count fits
     * in 64 bits; only the final byte count can overflow. */
    expected = (uint64_t)spec->rows * spec->columns;
    expected *= spec->samples_per_pixel;
    if (expected > UINT64_MAX / 4u || expected * dcf_sample_bytes(spec) > SIZE_MAX)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "the frame size does not fit in memory");
    expected *= dcf_sample_bytes(spec);
    if ((uint64_t)dst_size != expected)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "output buffer is %zu bytes, the frame needs %llu",
                        dst_size, (unsigned long long)expected);
    return DCF_OK;
}
