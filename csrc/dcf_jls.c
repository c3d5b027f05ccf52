/* JPEG-LS frame decoder on CharLS's C API.
 *
 * CharLS writes samples of 1 byte (precision <= 8) or 2 bytes, pixel-
 * interleaved for interleave modes line and sample, one plane after another
 * for mode none. When that already is the requested layout and size, it
 * decodes straight into dst; otherwise into a scratch buffer converted to dst
 * in one pass. JPEG-LS has no signed samples: with Pixel Representation 1 the
 * values are sign-extended from the codestream precision, as pydicom does. */
#include <stdlib.h>
#include <string.h>

#include <charls/charls.h>

#include "dcf_codec.h"

static dcf_status charls_status(charls_jpegls_errc code)
{
    switch (code) {
    case CHARLS_JPEGLS_ERRC_SOURCE_BUFFER_TOO_SMALL:
    case CHARLS_JPEGLS_ERRC_END_OF_IMAGE_MARKER_NOT_FOUND:
        return DCF_E_TRUNCATED;
    case CHARLS_JPEGLS_ERRC_PARAMETER_VALUE_NOT_SUPPORTED:
    case CHARLS_JPEGLS_ERRC_BIT_DEPTH_FOR_TRANSFORM_NOT_SUPPORTED:
    case CHARLS_JPEGLS_ERRC_COLOR_TRANSFORM_NOT_SUPPORTED:
    case CHARLS_JPEGLS_ERRC_ENCODING_NOT_SUPPORTED:
    case CHARLS_JPEGLS_ERRC_JPEGLS_PRESET_EXTENDED_PARAMETER_TYPE_NOT_SUPPORTED:
        return DCF_E_UNSUPPORTED;
    case CHARLS_JPEGLS_ERRC_NOT_ENOUGH_MEMORY:
        return DCF_E_NO_MEMORY;
    default:
        return DCF_E_CODEC;
    }
}

/* Data errors in a frame that did not end with EOI are put down to truncation. */
static dcf_status charls_fail(dcf_error *err, const char *step, charls_jpegls_errc code,
                              int had_no_eoi)
{
    const dcf_status status = charls_status(code);

    if (had_no_eoi && (status == DCF_E_CODEC || status == DCF_E_TRUNCATED))
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, 0,
                        "JPEG-LS: %s failed on a frame with no EOI marker at its "
                        "end, probably truncated: %s (CharLS error %d)", step,
                        charls_get_error_message(code), (int)code);
    return dcf_fail(err, status, DCF_NO_TAG, 0,
                    "JPEG-LS: %s failed: %s (CharLS error %d)", step,
                    charls_get_error_message(code), (int)code);
}

/* CharLS takes seconds to give up on a scan that runs off the end of its
 * buffer, as in a truncated frame, but stops at once at a marker. A frame
 * that does not end with EOI (before any 00 or FF padding) is decoded from
 * a copy that ends with one; intact frames decode the same either way.
 * Returns the copy (to free) or NULL when `src` already ends with EOI;
 * `*size` is the size to decode and `*failed` is set if malloc failed. */
static uint8_t *terminate_with_eoi(const uint8_t *src, size_t *size, int *failed)
{
    size_t end = *size;
    uint8_t *copy;

    *failed = 0;
    while (end > 0 && (src[end - 1] == 0x00 || src[end - 1] == 0xFF))
        end--;
    if (end >= 2 && src[end - 2] == 0xFF && src[end - 1] == 0xD9)
        return NULL;

    copy = malloc(*size + 2);
    if (copy == NULL) {
        *failed = 1;
        return NULL;
    }
    memcpy(copy, src, *size);
    end = *size;
    if (end == 0 || copy[end - 1] != 0xFF)
        copy[end++] = 0xFF;
    copy[end++] = 0xD9;
    *size = end;
    return copy;
}

static uint32_t read_sample(const uint8_t *p, size_t bytes)
{
    if (bytes == 1)
        return p[0];
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static void write_sample(uint8_t *p, size_t bytes, uint32_t value)
{
    if (bytes == 1) {
        p[0] = (uint8_t)value;
    } else if (bytes == 2) {
        const uint16_t v = (uint16_t)value;
        memcpy(p, &v, 2);
    } else {
        memcpy(p, &value, 4);
    }
}

/* Sign-extend dst's samples in place (they already have the output size). */
static void sign_extend_in_place(uint8_t *dst, size_t count, size_t bytes,
                                 unsigned precision)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t *p = dst + i * bytes;
        write_sample(p, bytes, dcf_extend_bits(read_sample(p, bytes), precision, 1));
    }
}

/* Convert CharLS's output (`in_bytes` per sample, planar or interleaved) to
 * dst's sample size and layout, sign-extending when asked. */
static void convert_samples(const uint8_t *in, size_t in_bytes, int in_planar,
                            uint8_t *dst, size_t out_bytes, int out_planar,
                            size_t pixels, size_t samples, unsigned precision,
                            int is_signed)
{
    for (size_t s = 0; s < samples; s++) {
        const size_t in_step = in_planar ? 1 : samples;
        const size_t out_step = out_planar ? 1 : samples;
        const uint8_t *from = in + (in_planar ? s * pixels : s) * in_bytes;
        uint8_t *to = dst + (out_planar ? s * pixels : s) * out_bytes;

        for (size_t i = 0; i < pixels; i++) {
            uint32_t v = read_sample(from + i * in_step * in_bytes, in_bytes);
            if (is_signed)
                v = dcf_extend_bits(v, precision, 1);
            write_sample(to + i * out_step * out_bytes, out_bytes, v);
        }
    }
}

dcf_status dcf_jls_decode(const uint8_t *src, size_t src_size,
                          const dcf_frame_spec *spec, uint8_t *dst,
                          size_t dst_size, dcf_error *err)
{
    dcf_error scratch;
    charls_jpegls_decoder *decoder = NULL;
    charls_frame_info info;
    charls_interleave_mode mode = CHARLS_INTERLEAVE_MODE_NONE;
    charls_jpegls_errc code;
    uint8_t *terminated = NULL;
    uint8_t *buffer = NULL;
    size_t buffer_size = 0, in_bytes, out_bytes, pixels;
    unsigned max_precision;
    int in_planar, out_planar, is_signed, copy_failed;
    dcf_status status;

    if (err == NULL)
        err = &scratch;
    dcf_error_clear(err);
    if (src == NULL || spec == NULL || dst == NULL)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "JPEG-LS: NULL argument");
    status = dcf_frame_spec_check(spec, dst_size, err);
    if (status != DCF_OK)
        return status;
    if (src_size == 0)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, 0, "JPEG-LS: empty frame");

    terminated = terminate_with_eoi(src, &src_size, &copy_failed);
    if (copy_failed)
        return dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, 0,
                        "JPEG-LS: cannot allocate %zu bytes", src_size + 2);
    decoder = charls_jpegls_decoder_create();
    if (decoder == NULL) {
        status = dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, 0,
                          "JPEG-LS: cannot create a CharLS decoder");
        goto done;
    }
    code = charls_jpegls_decoder_set_source_buffer(
        decoder, terminated != NULL ? terminated : src, src_size);
    if (code != CHARLS_JPEGLS_ERRC_SUCCESS) {
        status = charls_fail(err, "setting the source buffer", code, terminated != NULL);
        goto done;
    }
    code = charls_jpegls_decoder_read_header(decoder);
    if (code != CHARLS_JPEGLS_ERRC_SUCCESS) {
        status = charls_fail(err, "reading the header", code, terminated != NULL);
        goto done;
    }
    code = charls_jpegls_decoder_get_frame_info(decoder, &info);
    if (code != CHARLS_JPEGLS_ERRC_SUCCESS) {
        status = charls_fail(err, "reading the frame info", code, terminated != NULL);
        goto done;
    }
    code = charls_jpegls_decoder_get_interleave_mode(decoder, &mode);
    if (code != CHARLS_JPEGLS_ERRC_SUCCESS) {
        status = charls_fail(err, "reading the interleave mode", code, terminated != NULL);
        goto done;
    }

    /* The codestream must describe the frame the caller expects. */
    max_precision = spec->bits_allocated == 1 ? 8u : spec->bits_allocated;
    if (info.width != spec->columns || info.height != spec->rows ||
        info.component_count != (int32_t)spec->samples_per_pixel) {
        status = dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, 0,
                          "JPEG-LS frame is %u x %u with %d components, the "
                          "dataset says %u x %u with %u samples per pixel",
                          info.height, info.width, (int)info.component_count,
                          (unsigned)spec->rows, (unsigned)spec->columns,
                          (unsigned)spec->samples_per_pixel);
        goto done;
    }
    if (info.bits_per_sample < 2 || info.bits_per_sample > 16 ||
        (unsigned)info.bits_per_sample > max_precision) {
        status = dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, 0,
                          "JPEG-LS precision %d bits does not fit bits allocated %u",
                          (int)info.bits_per_sample, (unsigned)spec->bits_allocated);
        goto done;
    }

    pixels = (size_t)spec->rows * spec->columns;
    in_bytes = info.bits_per_sample <= 8 ? 1u : 2u;
    out_bytes = dcf_sample_bytes(spec);
    in_planar = spec->samples_per_pixel > 1 && mode == CHARLS_INTERLEAVE_MODE_NONE;
    out_planar = spec->samples_per_pixel > 1 && spec->planar_configuration == 1;
    is_signed = spec->pixel_representation == 1;

    if (in_bytes == out_bytes && in_planar == out_planar) {
        code = charls_jpegls_decoder_decode_to_buffer(decoder, dst, dst_size, 0);
        if (code != CHARLS_JPEGLS_ERRC_SUCCESS) {
            status = charls_fail(err, "decoding", code, terminated != NULL);
            goto done;
        }
        /* At full width the reinterpretation as signed is all it takes. */
        if (is_signed && (unsigned)info.bits_per_sample < 8u * out_bytes)
            sign_extend_in_place(dst, pixels * spec->samples_per_pixel, out_bytes,
                                 (unsigned)info.bits_per_sample);
        status = DCF_OK;
        goto done;
    }

    code = charls_jpegls_decoder_get_destination_size(decoder, 0, &buffer_size);
    if (code != CHARLS_JPEGLS_ERRC_SUCCESS) {
        status = charls_fail(err, "computing the decoded size", code, terminated != NULL);
        goto done;
    }
    if (buffer_size != pixels * spec->samples_per_pixel * in_bytes) {
        status = dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, 0,
                          "JPEG-LS: CharLS wants %zu bytes for a %zu-byte frame",
                          buffer_size, pixels * spec->samples_per_pixel * in_bytes);
        goto done;
    }
    buffer = malloc(buffer_size);
    if (buffer == NULL) {
        status = dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, 0,
                          "JPEG-LS: cannot allocate %zu bytes", buffer_size);
        goto done;
    }
    code = charls_jpegls_decoder_decode_to_buffer(decoder, buffer, buffer_size, 0);
    if (code != CHARLS_JPEGLS_ERRC_SUCCESS) {
        status = charls_fail(err, "decoding", code, terminated != NULL);
        goto done;
    }
    convert_samples(buffer, in_bytes, in_planar, dst, out_bytes, out_planar, pixels,
                    spec->samples_per_pixel, (unsigned)info.bits_per_sample, is_signed);
    status = DCF_OK;

done:
    free(buffer);
    free(terminated);
    charls_jpegls_decoder_destroy(decoder);
    return status;
}

const char *dcf_charls_version(void)
{
    return charls_get_version_string();
}
