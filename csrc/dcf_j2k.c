/* JPEG 2000 and HTJ2K frame decoder on OpenJPEG's C API.
 *
 * OpenJPEG reads the frame through an in-memory opj_stream whose callbacks
 * work on a per-call struct, and reports errors to a handler that copies the
 * text into that struct, so nothing is shared between threads or printed.
 * The decoded int32 component planes go to dst in one pass.
 *
 * Sample values follow pydicom 3.0.2 with pylibjpeg-openjpeg: each sample is
 * truncated to the container of the codestream precision P (8, 16 or 32
 * bits) and read with the dataset's Pixel Representation; for MONOCHROME1/2
 * whose codestream signedness differs from Pixel Representation, pydicom's
 * sign correction instead keeps the low P bits and sign-extends (signed) or
 * zero-fills (unsigned) above them. */
#include <string.h>

#include <openjpeg.h>

#include "dcf_codec.h"

#define J2K_MIN_STREAM_CHUNK 4096u
#define J2K_MAX_STREAM_CHUNK (1u << 20) /* OpenJPEG's own default */

/* The compressed frame as OpenJPEG's stream callbacks see it. */
typedef struct j2k_source {
    const uint8_t *data;
    size_t size;
    size_t pos;
    int overran; /* OpenJPEG wanted bytes past the end */
} j2k_source;

/* OpenJPEG's error messages for this call, joined by "; ". */
typedef struct j2k_messages {
    char text[DCF_ERROR_MESSAGE_SIZE];
    size_t length;
} j2k_messages;

static OPJ_SIZE_T source_read(void *buffer, OPJ_SIZE_T n, void *user)
{
    j2k_source *source = user;
    const size_t left = source->size - source->pos;

    if (left == 0) {
        source->overran = 1;
        return (OPJ_SIZE_T)-1;
    }
    if (n > left)
        n = left;
    memcpy(buffer, source->data + source->pos, n);
    source->pos += n;
    return n;
}

static OPJ_OFF_T source_skip(OPJ_OFF_T n, void *user)
{
    j2k_source *source = user;

    if (n < 0) {
        if ((uint64_t)-(n + 1) >= source->pos)
            return (OPJ_OFF_T)-1;
        source->pos -= (size_t)-n;
        return n;
    }
    /* OpenJPEG loops until the whole skip is done: never answer 0. */
    if (source->pos == source->size) {
        source->overran = 1;
        return (OPJ_OFF_T)-1;
    }
    if ((uint64_t)n > source->size - source->pos) {
        source->overran = 1;
        n = (OPJ_OFF_T)(source->size - source->pos);
    }
    source->pos += (size_t)n;
    return n;
}

static OPJ_BOOL source_seek(OPJ_OFF_T position, void *user)
{
    j2k_source *source = user;

    if (position < 0 || (uint64_t)position > source->size)
        return OPJ_FALSE;
    source->pos = (size_t)position;
    return OPJ_TRUE;
}

static void keep_error_message(const char *message, void *user)
{
    j2k_messages *messages = user;
    size_t n = strlen(message);
    size_t room;

    while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == '\r'))
        n--;
    if (n == 0)
        return;
    if (messages->length > 0) {
        if (sizeof messages->text - messages->length <= 3)
            return;
        memcpy(messages->text + messages->length, "; ", 2);
        messages->length += 2;
    }
    room = sizeof messages->text - 1 - messages->length;
    if (n > room)
        n = room;
    /* OpenJPEG splits some messages over lines: keep them on one. */
    for (size_t i = 0; i < n; i++)
        messages->text[messages->length + i] = message[i] == '\n' ? ' ' : message[i];
    messages->length += n;
    messages->text[messages->length] = '\0';
}

static void ignore_message(const char *message, void *user)
{
    (void)message;
    (void)user;
}

/* A failure after OpenJPEG ran out of data is reported as truncation. */
static dcf_status opj_fail(dcf_error *err, const char *step,
                           const j2k_messages *messages, const j2k_source *source)
{
    const char *text = messages->length ? messages->text : "no message from OpenJPEG";

    if (source->overran)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, source->size,
                        "JPEG 2000: %s failed, the codestream ends early (%zu "
                        "bytes): %s", step, source->size, text);
    return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, 0, "JPEG 2000: %s failed: %s",
                    step, text);
}

static uint32_t ceil_div_pow2(uint32_t value, int power)
{
    return (uint32_t)(((uint64_t)value + (((uint64_t)1 << power) - 1)) >> power);
}

/* Check the image OpenJPEG describes against the frame the caller wants.
 * Before decoding the components still have their full size, so compare the
 * reduced image area; afterwards compare every component's own size. */
static dcf_status check_image(const opj_image_t *image, const dcf_frame_spec *spec,
                              int reduce, int decoded, dcf_error *err)
{
    const unsigned max_precision = spec->bits_allocated == 1 ? 8u : spec->bits_allocated;

    if (image->numcomps != spec->samples_per_pixel)
        return dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, 0,
                        "JPEG 2000 image has %u components, the dataset says %u "
                        "samples per pixel",
                        (unsigned)image->numcomps, (unsigned)spec->samples_per_pixel);
    if (image->x1 <= image->x0 || image->y1 <= image->y0)
        return dcf_fail(err, DCF_E_MALFORMED, DCF_NO_TAG, 0,
                        "JPEG 2000 image area is empty");
    if (!decoded) {
        const uint32_t width = ceil_div_pow2(image->x1, reduce) - ceil_div_pow2(image->x0, reduce);
        const uint32_t height = ceil_div_pow2(image->y1, reduce) - ceil_div_pow2(image->y0, reduce);
        if (width != spec->columns || height != spec->rows)
            return dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, 0,
                            "JPEG 2000 image is %u x %u (reduced %d times), the "
                            "dataset says %u x %u",
                            (unsigned)height, (unsigned)width, reduce,
                            (unsigned)spec->rows, (unsigned)spec->columns);
    }
    for (OPJ_UINT32 k = 0; k < image->numcomps; k++) {
        const opj_image_comp_t *comp = &image->comps[k];
        if (comp->dx != 1 || comp->dy != 1)
            return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                            "JPEG 2000 component %u is subsampled (%u x %u), "
                            "which is not supported",
                            (unsigned)k, (unsigned)comp->dx, (unsigned)comp->dy);
        if (comp->prec < 1 || comp->prec > max_precision)
            return dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, 0,
                            "JPEG 2000 component %u has precision %u, which does "
                            "not fit bits allocated %u",
                            (unsigned)k, (unsigned)comp->prec,
                            (unsigned)spec->bits_allocated);
        if (decoded && (comp->w != spec->columns || comp->h != spec->rows ||
                        comp->data == NULL))
            return dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, 0,
                            "JPEG 2000 component %u decoded to %u x %u, the "
                            "dataset says %u x %u",
                            (unsigned)k, (unsigned)comp->h, (unsigned)comp->w,
                            (unsigned)spec->rows, (unsigned)spec->columns);
    }
    if (decoded && image->color_space == OPJ_CLRSPC_SYCC)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "JPEG 2000 (JP2) image in the sYCC colour space is not "
                        "supported");
    return DCF_OK;
}

/* Bits kept from each int32 sample before extending to the output size. */
static unsigned kept_bits(const opj_image_t *image, const dcf_frame_spec *spec)
{
    const unsigned precision = image->comps[0].prec;
    const unsigned container = precision <= 8 ? 8u : precision <= 16 ? 16u : 32u;
    const int monochrome = spec->photometric == DCF_PHOTOMETRIC_MONOCHROME1 ||
                           spec->photometric == DCF_PHOTOMETRIC_MONOCHROME2;

    if (monochrome && (image->comps[0].sgnd != 0) != (spec->pixel_representation != 0))
        return precision;
    return container;
}

/* Write component planes into dst: one pass, each sample written once. */
static void store_components(const opj_image_t *image, const dcf_frame_spec *spec,
                             uint8_t *dst)
{
    const size_t pixels = (size_t)spec->rows * spec->columns;
    const size_t samples = spec->samples_per_pixel;
    const size_t step = spec->planar_configuration ? 1 : samples;
    const unsigned width = kept_bits(image, spec);
    const int is_signed = spec->pixel_representation == 1;

    for (size_t k = 0; k < samples; k++) {
        const OPJ_INT32 *in = image->comps[k].data;
        const size_t first = spec->planar_configuration ? k * pixels : k;

        switch (dcf_sample_bytes(spec)) {
        case 1: {
            uint8_t *out = dst + first;
            for (size_t i = 0; i < pixels; i++)
                out[i * step] = (uint8_t)dcf_extend_bits((uint32_t)in[i], width, is_signed);
            break;
        }
        case 2: {
            uint8_t *out = dst + 2 * first;
            for (size_t i = 0; i < pixels; i++) {
                const uint16_t v =
                    (uint16_t)dcf_extend_bits((uint32_t)in[i], width, is_signed);
                memcpy(out + 2 * i * step, &v, 2);
            }
            break;
        }
        default: {
            uint8_t *out = dst + 4 * first;
            for (size_t i = 0; i < pixels; i++) {
                const uint32_t v = dcf_extend_bits((uint32_t)in[i], width, is_signed);
                memcpy(out + 4 * i * step, &v, 4);
            }
            break;
        }
        }
    }
}

static int is_j2k_codestream(const uint8_t *src, size_t size)
{
    return size >= 4 && src[0] == 0xFF && src[1] == 0x4F && src[2] == 0xFF &&
           src[3] == 0x51;
}

static int is_jp2_file(const uint8_t *src, size_t size)
{
    return size >= 12 && memcmp(src + 4, "jP  ", 4) == 0;
}

dcf_status dcf_j2k_decode(const uint8_t *src, size_t src_size,
                          const dcf_frame_spec *spec, uint8_t *dst,
                          size_t dst_size, int reduce, int threads,
                          dcf_error *err)
{
    dcf_error scratch;
    j2k_source source;
    j2k_messages messages;
    opj_dparameters_t parameters;
    opj_codec_t *codec = NULL;
    opj_stream_t *stream = NULL;
    opj_image_t *image = NULL;
    OPJ_CODEC_FORMAT format;
    size_t chunk;
    dcf_status status;

    if (err == NULL)
        err = &scratch;
    dcf_error_clear(err);
    if (src == NULL || spec == NULL || dst == NULL)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "JPEG 2000: NULL argument");
    status = dcf_frame_spec_check(spec, dst_size, err);
    if (status != DCF_OK)
        return status;
    if (reduce < 0 || reduce > 32)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "JPEG 2000: reduce %d must be between 0 and 32", reduce);

    if (is_j2k_codestream(src, src_size))
        format = OPJ_CODEC_J2K;
    else if (is_jp2_file(src, src_size))
        format = OPJ_CODEC_JP2;
    else if (src_size < 12)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, src_size,
                        "JPEG 2000 frame of %zu bytes is too short", src_size);
    else
        return dcf_fail(err, DCF_E_MALFORMED, DCF_NO_TAG, 0,
                        "not a JPEG 2000 codestream (no SOC and SIZ markers) "
                        "nor a JP2 file (no signature box)");

    source.data = src;
    source.size = src_size;
    source.pos = 0;
    source.overran = 0;
    messages.text[0] = '\0';
    messages.length = 0;

    codec = opj_create_decompress(format);
    if (codec == NULL) {
        status = dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, 0,
                          "JPEG 2000: cannot create an OpenJPEG decoder");
        goto done;
    }
    if (!opj_set_error_handler(codec, keep_error_message, &messages) ||
        !opj_set_warning_handler(codec, ignore_message, NULL) ||
        !opj_set_info_handler(codec, ignore_message, NULL)) {
        status = dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, 0,
                          "JPEG 2000: cannot install the OpenJPEG message handlers");
        goto done;
    }

    opj_set_default_decoder_parameters(&parameters);
    parameters.cp_reduce = (OPJ_UINT32)reduce;
    if (!opj_setup_decoder(codec, &parameters)) {
        status = opj_fail(err, "setting up the decoder", &messages, &source);
        goto done;
    }
    if (threads > 1 && opj_has_thread_support() &&
        !opj_codec_set_threads(codec, threads)) {
        status = opj_fail(err, "starting decoder threads", &messages, &source);
        goto done;
    }

    /* OpenJPEG copies the input through a buffer of this size. */
    chunk = src_size < J2K_MIN_STREAM_CHUNK ? J2K_MIN_STREAM_CHUNK
            : src_size > J2K_MAX_STREAM_CHUNK ? J2K_MAX_STREAM_CHUNK
            : src_size;
    stream = opj_stream_create(chunk, OPJ_TRUE);
    if (stream == NULL) {
        status = dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, 0,
                          "JPEG 2000: cannot create an OpenJPEG stream");
        goto done;
    }
    opj_stream_set_read_function(stream, source_read);
    opj_stream_set_skip_function(stream, source_skip);
    opj_stream_set_seek_function(stream, source_seek);
    opj_stream_set_user_data(stream, &source, NULL);
    opj_stream_set_user_data_length(stream, (OPJ_UINT64)src_size);

    if (!opj_read_header(stream, codec, &image)) {
        status = opj_fail(err, "reading the header", &messages, &source);
        goto done;
    }
    status = check_image(image, spec, reduce, 0, err);
    if (status != DCF_OK)
        goto done;

    if (!opj_decode(codec, stream, image)) {
        status = opj_fail(err, "decoding", &messages, &source);
        goto done;
    }
    if (!opj_end_decompress(codec, stream)) {
        status = opj_fail(err, "finishing the decoding", &messages, &source);
        goto done;
    }
    status = check_image(image, spec, reduce, 1, err);
    if (status != DCF_OK)
        goto done;

    store_components(image, spec, dst);
    status = DCF_OK;

done:
    if (stream != NULL)
        opj_stream_destroy(stream);
    if (codec != NULL)
        opj_destroy_codec(codec);
    if (image != NULL)
        opj_image_destroy(image);
    return status;
}

const char *dcf_openjpeg_version(void)
{
    return opj_version();
}
