/* 8-bit DCT JPEG frame decoder on the libjpeg API (libjpeg-turbo).
 *
 * Everything libjpeg needs for one call lives in a jpeg8_call on the stack:
 * the error manager (setjmp/longjmp, never exit() nor stderr), a source
 * manager reading the caller's bytes in place (no copy), and a progress
 * monitor that bounds the number of scans. Scanlines go straight into the
 * rows of dst; only planar output uses a few scratch rows. Every path out of
 * a started decompressor goes through jpeg_destroy_decompress().
 *
 * Warnings. libjpeg reports recoverable damage as warnings (emit_message with
 * level -1) and carries on with made-up data. Harmless ones are accepted, as
 * Pillow and GDCM accept them: "Invalid SOS parameters for sequential JPEG"
 * (wrong Ss/Se/Ah/Al in a sequential scan, ignored by libjpeg), "extraneous
 * bytes before marker" (padding between the entropy data and the next marker),
 * an unknown Adobe transform code or JFIF revision, a bad ICC marker. Every
 * other warning means lost data and fails the call: corrupt entropy data (bad
 * Huffman/arithmetic code), "premature end of data segment" (the entropy
 * decoder ran out of bits), a missing restart marker, an inconsistent
 * progression.
 *
 * End of data. When the bytes run out the source hands libjpeg a fake EOI
 * marker (as its own memory source does) and remembers it. Bytes after EOI
 * (DICOM fragments are padded to even length, some encoders add more) are
 * never read. If the entropy decoder needed the missing bytes it warns "premature
 * end of data segment" or fails to find a restart marker: fatal, reported as
 * DCF_E_TRUNCATED. A stream that only lacks its EOI marker still decodes when
 * it has a single scan (every coefficient came from real bits); with several
 * scans (progressive, non-interleaved) a missing EOI cannot be told from
 * missing scans, so it fails as truncated. This is more lenient than libjpeg's
 * own memory source ("Premature end of JPEG file" warning) and than Pillow
 * (which rejects a missing EOI unless LOAD_TRUNCATED_IMAGES), never less
 * exact: no pixel comes from made-up data.
 *
 * Colour (3 components). libjpeg decides the stored colour space: JFIF APP0
 * -> YCbCr; else Adobe APP14 transform 1 -> YCbCr, 0 -> RGB; else component
 * IDs 'R','G','B' -> RGB, anything else -> YCbCr. One exception, so that
 * DICOM RGB data without those markers is not colour converted: with neither
 * JFIF nor Adobe marker and Photometric Interpretation RGB the stream is taken
 * as RGB (this is what pydicom 3 with Pillow returns, and the only way to read
 * SC_jpeg_no_color_transform.dcm right). With to_rgb YCbCr is converted by
 * libjpeg (ISLOW IDCT, fancy upsampling: Pillow's defaults; bit-exact with
 * pydicom's own YBR_FULL -> RGB on the corpus); without it the stored YCbCr
 * comes out, upsampled to full size.
 *
 * Differences from pydicom 3 (Pillow plugin): pydicom lets Pillow convert
 * streams with an Adobe APP14 marker even when the caller asks for raw data
 * (as_rgb=False gives RGB there); here to_rgb=0 always gives the stored
 * components. For an Adobe transform 0 (RGB) stream in a dataset that says
 * YBR_FULL(_422) pydicom applies its YBR -> RGB conversion to data that is
 * already RGB; here it comes out as stored. pydicom changes the Photometric
 * Interpretation to RGB for 'R','G','B' component IDs and to YBR for a JFIF
 * marker, with a warning; libjpeg's own rules above give the same pixels.
 * 4-component streams (CMYK/YCCK, not DICOM; the T.83 compliance streams)
 * come out as stored, never converted (Pillow inverts Adobe CMYK). */
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE and size_t */
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "dcf_jpeg8.h"

/* A progressive stream may have any number of scans, each a full pass over
 * the coefficients: bound them, as libjpeg-turbo's own tools do. */
#define JPEG8_MAX_SCANS 500

/* Rows handed to jpeg_read_scanlines at once. */
#define JPEG8_ROWS_PER_CALL 16

typedef struct jpeg8_call {
    struct jpeg_error_mgr pub; /* first: libjpeg's err pointer is this struct */
    struct jpeg_source_mgr source;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    const uint8_t *data;
    size_t size;
    int eof;           /* the source ran out and handed out a fake EOI */
    int msg_code;      /* libjpeg's message code of the failure, or one below */
    char message[JMSG_LENGTH_MAX + 64];
} jpeg8_call;

#define JPEG8_MSG_TOO_MANY_SCANS (-2)

static const JOCTET fake_eoi[2] = {0xFF, JPEG_EOI};

/* ---- error manager ---------------------------------------------------------- */

static void fail_now(j_common_ptr cinfo)
{
    jpeg8_call *call = (jpeg8_call *)cinfo->err;

    call->msg_code = cinfo->err->msg_code;
    (*cinfo->err->format_message)(cinfo, call->message);
    longjmp(call->jump, 1);
}

/* Warnings that lose no data. */
static int harmless_warning(int code)
{
    switch (code) {
    case JWRN_NOT_SEQUENTIAL:  /* bad Ss/Se/Ah/Al in a sequential scan: ignored */
    case JWRN_EXTRANEOUS_DATA: /* padding before a marker */
    case JWRN_ADOBE_XFORM:     /* unknown transform code: YCbCr assumed */
    case JWRN_JFIF_MAJOR:      /* unknown JFIF revision */
#ifdef LIBJPEG_TURBO_VERSION
    case JWRN_BOGUS_ICC:       /* we do not read ICC profiles */
#endif
        return 1;
    default:
        return 0;
    }
}

static void on_message(j_common_ptr cinfo, int level)
{
    if (level >= 0)
        return; /* trace messages */
    if (harmless_warning(cinfo->err->msg_code)) {
        cinfo->err->num_warnings++;
        return;
    }
    fail_now(cinfo);
}

static void on_output(j_common_ptr cinfo)
{
    (void)cinfo; /* never print */
}

static void on_progress(j_common_ptr cinfo)
{
    jpeg8_call *call = (jpeg8_call *)cinfo->err;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;

    if (cinfo->is_decompressor && d->input_scan_number > JPEG8_MAX_SCANS) {
        call->msg_code = JPEG8_MSG_TOO_MANY_SCANS;
        snprintf(call->message, sizeof call->message,
                 "more than %d scans", JPEG8_MAX_SCANS);
        longjmp(call->jump, 1);
    }
}

/* ---- source manager: the caller's bytes, in place ------------------------------ */

static void source_init(j_decompress_ptr cinfo)
{
    (void)cinfo;
}

static boolean source_fill(j_decompress_ptr cinfo)
{
    jpeg8_call *call = (jpeg8_call *)cinfo->err;

    /* Out of data: a fake EOI ends whatever libjpeg is reading. */
    call->eof = 1;
    cinfo->src->next_input_byte = fake_eoi;
    cinfo->src->bytes_in_buffer = sizeof fake_eoi;
    return TRUE;
}

static void source_skip(j_decompress_ptr cinfo, long count)
{
    struct jpeg_source_mgr *src = cinfo->src;

    if (count <= 0)
        return;
    if ((unsigned long)count > src->bytes_in_buffer) {
        source_fill(cinfo); /* skipping past the end: only EOI is left */
        return;
    }
    src->next_input_byte += count;
    src->bytes_in_buffer -= (size_t)count;
}

static void source_term(j_decompress_ptr cinfo)
{
    (void)cinfo;
}

/* ---- the frame header, read by hand before libjpeg ---------------------------- */

/* Find the first SOFn marker and its precision, walking marker segments from
 * SOI. 0 when there is none before SOS/EOI or the walk gets lost (then
 * libjpeg has the last word). */
static int find_frame_header(const uint8_t *src, size_t size, unsigned *precision)
{
    size_t pos = 2;

    if (size < 4 || src[0] != 0xFF || src[1] != 0xD8)
        return 0;
    while (pos + 4 <= size) {
        unsigned marker, length;
        if (src[pos] != 0xFF)
            return 0;
        while (pos + 1 < size && src[pos + 1] == 0xFF) /* fill bytes */
            pos++;
        if (pos + 4 > size)
            return 0;
        marker = src[pos + 1];
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            pos += 2; /* TEM, RSTn: no length */
            continue;
        }
        if (marker == 0xD8 || marker == 0xD9 || marker == 0xDA || marker == 0x00)
            return 0;
        length = (unsigned)src[pos + 2] << 8 | src[pos + 3];
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC) {
            if (length < 3 || pos + 5 > size)
                return 0;
            *precision = src[pos + 4];
            return (int)marker;
        }
        if (length < 2)
            return 0;
        pos += 2 + (size_t)length;
    }
    return 0;
}

static dcf_status check_process(const uint8_t *src, size_t size, dcf_error *err)
{
    unsigned precision = 0;
    const int sof = find_frame_header(src, size, &precision);

    if (sof == 0)
        return DCF_OK;
    if (sof == 0xC3 || sof == 0xC7 || sof == 0xCB || sof == 0xCF)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "JPEG: lossless JPEG (SOF%d) is not decoded by the 8-bit "
                        "DCT decoder", sof - 0xC0);
    if (sof == 0xC5 || sof == 0xC6 || sof == 0xCD || sof == 0xCE)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "JPEG: hierarchical JPEG (SOF%d) is not supported", sof - 0xC0);
    if (precision != 8)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "JPEG: %u-bit samples (SOF%d) are not decoded by the 8-bit "
                        "DCT decoder", precision, sof - 0xC0);
    return DCF_OK;
}

/* ---- one call ------------------------------------------------------------------ */

static void setup_call(jpeg8_call *call, j_decompress_ptr cinfo, const uint8_t *src,
                       size_t size)
{
    memset(call, 0, sizeof *call);
    /* Zeroed so that jpeg_destroy_decompress is safe even if libjpeg fails
     * inside jpeg_create_decompress. */
    memset(cinfo, 0, sizeof *cinfo);
    call->data = src;
    call->size = size;
    cinfo->err = jpeg_std_error(&call->pub);
    call->pub.error_exit = fail_now;
    call->pub.emit_message = on_message;
    call->pub.output_message = on_output;
    call->source.init_source = source_init;
    call->source.fill_input_buffer = source_fill;
    call->source.skip_input_data = source_skip;
    call->source.resync_to_restart = jpeg_resync_to_restart;
    call->source.term_source = source_term;
    call->source.next_input_byte = src;
    call->source.bytes_in_buffer = size;
    call->progress.progress_monitor = on_progress;
}

/* After jpeg_create_decompress (which clears cinfo but for err). */
static void attach_call(jpeg8_call *call, j_decompress_ptr cinfo)
{
    cinfo->client_data = call;
    cinfo->src = &call->source;
    cinfo->progress = &call->progress;
}

/* The status of a call that libjpeg ended with longjmp. */
static dcf_status libjpeg_failure(const jpeg8_call *call, dcf_error *err)
{
    const char *text = call->message[0] ? call->message : "no message from libjpeg";

    switch (call->msg_code) {
    case JERR_BAD_PRECISION:
    case JERR_SOF_UNSUPPORTED:
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "JPEG: not an 8-bit DCT stream: %s", text);
    case JERR_OUT_OF_MEMORY:
        return dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, 0, "JPEG: %s", text);
    default:
        break;
    }
    if (call->eof)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, call->size,
                        "JPEG: the stream ends early (%zu bytes): %s", call->size, text);
    return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, 0, "JPEG: %s", text);
}

static void set_colour(j_decompress_ptr cinfo, const dcf_frame_spec *spec, int to_rgb)
{
    switch (cinfo->num_components) {
    case 1:
        cinfo->out_color_space = JCS_GRAYSCALE;
        break;
    case 3:
        if (!cinfo->saw_JFIF_marker && !cinfo->saw_Adobe_marker &&
            spec->photometric == DCF_PHOTOMETRIC_RGB)
            cinfo->jpeg_color_space = JCS_RGB;
        if (cinfo->jpeg_color_space == JCS_YCbCr)
            cinfo->out_color_space = to_rgb ? JCS_RGB : JCS_YCbCr;
        else
            cinfo->out_color_space = cinfo->jpeg_color_space;
        break;
    default:
        cinfo->out_color_space = cinfo->jpeg_color_space;
        break;
    }
}

/* Keep the low `bits` of each sample, sign-extended for signed data. */
static void correct_unused_bits(uint8_t *row, size_t n, const dcf_frame_spec *spec)
{
    for (size_t i = 0; i < n; i++)
        row[i] = (uint8_t)dcf_extend_bits(row[i], spec->bits_stored,
                                          spec->pixel_representation == 1);
}

/* The whole decode, once setjmp is armed by the caller. */
static dcf_status run_decode(jpeg8_call *call, j_decompress_ptr cinfo,
                             const dcf_frame_spec *spec, int to_rgb, int reduce,
                             uint8_t *dst, dcf_error *err)
{
    const size_t samples = spec->samples_per_pixel;
    const size_t stride = (size_t)spec->columns * samples;
    const size_t plane = (size_t)spec->rows * spec->columns;
    const int planar = spec->planar_configuration == 1 && samples > 1;
    const int mask = spec->bits_stored < 8;
    JSAMPARRAY scratch = NULL;
    JSAMPROW rows[JPEG8_ROWS_PER_CALL];

    jpeg_read_header(cinfo, TRUE);
    if (cinfo->data_precision != 8)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "JPEG: %d-bit samples are not decoded by the 8-bit DCT decoder",
                        cinfo->data_precision);
    if ((size_t)cinfo->num_components != samples)
        return dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, 0,
                        "JPEG stream has %d components, the dataset says %u samples "
                        "per pixel", cinfo->num_components, (unsigned)samples);

    set_colour(cinfo, spec, to_rgb);
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->do_fancy_upsampling = TRUE;
    cinfo->scale_num = 1;
    cinfo->scale_denom = 1u << reduce;
    jpeg_calc_output_dimensions(cinfo);
    if (cinfo->output_width != spec->columns || cinfo->output_height != spec->rows ||
        (size_t)cinfo->output_components != samples)
        return dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, 0,
                        "JPEG image is %u x %u (%u x %u after reduce %d, %d "
                        "components), the dataset says %u x %u",
                        (unsigned)cinfo->image_height, (unsigned)cinfo->image_width,
                        (unsigned)cinfo->output_height, (unsigned)cinfo->output_width,
                        reduce, cinfo->output_components, (unsigned)spec->rows,
                        (unsigned)spec->columns);

    jpeg_start_decompress(cinfo);
    /* Same answer as jpeg_calc_output_dimensions, but dst depends on it. */
    if (cinfo->output_width != spec->columns || cinfo->output_height != spec->rows ||
        (size_t)cinfo->output_components != samples)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, 0,
                        "JPEG: libjpeg changed the output size while starting");

    if (planar)
        scratch = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE,
                                              (JDIMENSION)stride, JPEG8_ROWS_PER_CALL);

    while (cinfo->output_scanline < cinfo->output_height) {
        const JDIMENSION first = cinfo->output_scanline;
        JDIMENSION want = cinfo->output_height - first, got;
        if (want > JPEG8_ROWS_PER_CALL)
            want = JPEG8_ROWS_PER_CALL;
        for (JDIMENSION i = 0; i < want; i++)
            rows[i] = planar ? scratch[i] : dst + (size_t)(first + i) * stride;
        got = jpeg_read_scanlines(cinfo, rows, want);
        if (got == 0 || got > want)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, 0,
                            "JPEG: libjpeg returned no scanline at row %u", (unsigned)first);
        for (JDIMENSION i = 0; i < got; i++) {
            if (mask)
                correct_unused_bits(rows[i], stride, spec);
            if (planar) {
                const size_t at = (size_t)(first + i) * spec->columns;
                for (size_t k = 0; k < samples; k++) {
                    uint8_t *out = dst + k * plane + at;
                    const uint8_t *in = rows[i] + k;
                    for (size_t x = 0; x < spec->columns; x++)
                        out[x] = in[x * samples];
                }
            }
        }
    }

    if (call->eof && jpeg_has_multiple_scans(cinfo))
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, call->size,
                        "JPEG: the stream ends (%zu bytes) before its EOI marker; with "
                        "several scans some may be missing", call->size);
    jpeg_finish_decompress(cinfo);
    return DCF_OK;
}

/* libjpeg's part of a call: set-up, the setjmp that every libjpeg error lands on,
 * and the one jpeg_destroy_decompress for every way out. No local changes after
 * setjmp, so nothing is clobbered by the longjmp. */
static dcf_status guarded_decode(const uint8_t *src, size_t size,
                                 const dcf_frame_spec *spec, int to_rgb, int reduce,
                                 uint8_t *dst, dcf_error *err)
{
    jpeg8_call call;
    struct jpeg_decompress_struct cinfo;
    dcf_status status;

    setup_call(&call, &cinfo, src, size);
    if (setjmp(call.jump)) {
        status = libjpeg_failure(&call, err);
        jpeg_destroy_decompress(&cinfo);
        return status;
    }
    jpeg_create_decompress(&cinfo);
    attach_call(&call, &cinfo);
    status = run_decode(&call, &cinfo, spec, to_rgb, reduce, dst, err);
    jpeg_destroy_decompress(&cinfo);
    return status;
}

dcf_status dcf_jpeg8_decode(const uint8_t *src, size_t size,
                            const dcf_frame_spec *spec, int to_rgb, int reduce,
                            uint8_t *dst, size_t dst_size, dcf_error *err)
{
    dcf_error scratch;
    dcf_status status;

    if (err == NULL)
        err = &scratch;
    dcf_error_clear(err);
    if (src == NULL || spec == NULL || dst == NULL)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "JPEG: NULL argument");
    status = dcf_frame_spec_check(spec, dst_size, err);
    if (status != DCF_OK)
        return status;
    if (reduce < 0 || reduce > DCF_JPEG8_MAX_REDUCE)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0,
                        "JPEG: reduce %d must be between 0 and %d", reduce,
                        DCF_JPEG8_MAX_REDUCE);
    if (spec->bits_allocated != 8)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "JPEG: 8-bit JPEG into bits allocated %u is not supported "
                        "(only 8)", (unsigned)spec->bits_allocated);
    if (size < 4)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, size,
                        "JPEG frame of %zu bytes is too short", size);
    if (src[0] != 0xFF || src[1] != 0xD8)
        return dcf_fail(err, DCF_E_MALFORMED, DCF_NO_TAG, 0,
                        "not a JPEG stream (no SOI marker)");
    status = check_process(src, size, err);
    if (status != DCF_OK)
        return status;

    return guarded_decode(src, size, spec, to_rgb, reduce, dst, err);
}

static dcf_status run_header(j_decompress_ptr cinfo, uint32_t *rows, uint32_t *columns,
                             uint16_t *components, dcf_error *err)
{
    jpeg_read_header(cinfo, TRUE);
    if (cinfo->data_precision != 8)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, 0,
                        "JPEG: %d-bit samples are not decoded by the 8-bit DCT decoder",
                        cinfo->data_precision);
    *rows = cinfo->image_height;
    *columns = cinfo->image_width;
    *components = (uint16_t)cinfo->num_components;
    return DCF_OK;
}

static dcf_status guarded_header(const uint8_t *src, size_t size, uint32_t *rows,
                                 uint32_t *columns, uint16_t *components, dcf_error *err)
{
    jpeg8_call call;
    struct jpeg_decompress_struct cinfo;
    dcf_status status;

    setup_call(&call, &cinfo, src, size);
    if (setjmp(call.jump)) {
        status = libjpeg_failure(&call, err);
        jpeg_destroy_decompress(&cinfo);
        return status;
    }
    jpeg_create_decompress(&cinfo);
    attach_call(&call, &cinfo);
    status = run_header(&cinfo, rows, columns, components, err);
    jpeg_destroy_decompress(&cinfo);
    return status;
}

dcf_status dcf_jpeg8_read_header(const uint8_t *src, size_t size,
                                 uint32_t *rows, uint32_t *columns,
                                 uint16_t *components, dcf_error *err)
{
    dcf_error scratch;
    dcf_status status;

    if (err == NULL)
        err = &scratch;
    dcf_error_clear(err);
    if (src == NULL || rows == NULL || columns == NULL || components == NULL)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "JPEG: NULL argument");
    if (size < 4)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, size,
                        "JPEG frame of %zu bytes is too short", size);
    if (src[0] != 0xFF || src[1] != 0xD8)
        return dcf_fail(err, DCF_E_MALFORMED, DCF_NO_TAG, 0,
                        "not a JPEG stream (no SOI marker)");
    status = check_process(src, size, err);
    if (status != DCF_OK)
        return status;

    return guarded_header(src, size, rows, columns, components, err);
}

#define JPEG8_STR2(x) #x
#define JPEG8_STR(x) JPEG8_STR2(x)

const char *dcf_libjpeg_version(void)
{
#ifdef LIBJPEG_TURBO_VERSION
    return "libjpeg-turbo " JPEG8_STR(LIBJPEG_TURBO_VERSION);
#else
    return "libjpeg " JPEG8_STR(JPEG_LIB_VERSION);
#endif
}
