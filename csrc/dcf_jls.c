/* JPEG-LS frame decoder (ITU-T T.87 / ISO/IEC 14495-1), our own.
 *
 * Reads the headers, checks the frame against the caller's spec before any
 * write, then decodes each scan straight into dst in the caller's layout
 * (interleaved or planar, 1/2/4-byte samples). JPEG-LS has no signed
 * samples: with Pixel Representation 1 the values are sign-extended from the
 * codestream precision P, as pydicom does. CharLS's HP1-HP3 colour
 * transforms (APP8 "mrfx") are undone as CharLS undoes them: in
 * interleaved scans only, modulo 2^P (CharLS itself refuses P other than 8
 * and 16).
 *
 * Preset coding parameters follow T.87: an LSE MAXVAL below 2^P - 1 sets
 * RANGE, LIMIT and the clamping too (CharLS 2.4 uses it for the default
 * thresholds only, so it decodes such streams differently). */
#include <stdlib.h>

#include "dcf_jls_internal.h"

/* The inverse HP transforms, modulo 2^P, as CharLS computes them. */
static void undo_transform(const jls_output *o, const dcf_frame_spec *spec, unsigned transform)
{
    const int sign_extend = spec->pixel_representation == 1 && o->precision < 8u * o->bytes;
    const size_t pixels = (size_t)spec->rows * spec->columns;
    const int32_t range = (int32_t)1 << o->precision, mask = range - 1, half = range / 2;

    for (size_t i = 0; i < pixels; i++) {
        const size_t at[3] = {i * o->pixel_stride, i * o->pixel_stride + o->comp_stride,
                              i * o->pixel_stride + 2 * o->comp_stride};
        int32_t v[3], r, g, b;
        for (unsigned k = 0; k < 3; k++) {
            const uint8_t *p = o->dst + at[k] * o->bytes;
            v[k] = o->bytes == 1 ? p[0] : o->bytes == 2 ? *(const uint16_t *)(const void *)p
                                                       : (int32_t)*(const uint32_t *)(const void *)p;
        }
        if (transform == 1) {
            g = v[1];
            r = (v[0] + g - half) & mask;
            b = (v[2] + g - half) & mask;
        } else if (transform == 2) {
            g = v[1];
            r = (v[0] + g - half) & mask;
            b = (v[2] + ((r + g) >> 1) - half) & mask;
        } else {
            g = (v[0] - ((v[2] + v[1]) >> 2) + range / 4) & mask;
            r = (v[2] + g - half) & mask;
            b = (v[1] + g - half) & mask;
        }
        const int32_t rgb[3] = {r, g, b};
        for (unsigned k = 0; k < 3; k++) {
            uint8_t *p = o->dst + at[k] * o->bytes;
            const uint32_t u = dcf_extend_bits((uint32_t)rgb[k], o->precision, sign_extend);
            if (o->bytes == 1)
                p[0] = (uint8_t)u;
            else if (o->bytes == 2)
                *(uint16_t *)(void *)p = (uint16_t)u;
            else
                *(uint32_t *)(void *)p = u;
        }
    }
}

dcf_status dcf_jls_decode(const uint8_t *src, size_t src_size, const dcf_frame_spec *spec,
                          uint8_t *dst, size_t dst_size, dcf_error *err)
{
    dcf_error scratch;
    jls_frame frame;
    jls_scan scan;
    jls_params params;
    jls_output out;
    int32_t *lines = NULL;
    int8_t *quant = NULL;
    size_t pos = 0;
    unsigned decoded = 0;   /* bit k: component k has been decoded */
    int ended = 0;
    dcf_status st;

    if (err == NULL)
        err = &scratch;
    dcf_error_clear(err);
    if (src == NULL || spec == NULL || dst == NULL)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "JPEG-LS: NULL argument");
    st = dcf_frame_spec_check(spec, dst_size, err);
    if (st != DCF_OK)
        return st;
    if (src_size == 0)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, 0, "JPEG-LS: empty frame");

    memset(&frame, 0, sizeof(frame));
    for (;;) {
        st = jls_next_scan(src, src_size, &pos, &frame, &scan, &ended, err);
        if (st != DCF_OK)
            goto done;
        if (ended)
            break;

        if (lines == NULL) {
            /* The first scan: the frame must be the one the caller expects. */
            const unsigned max_precision = spec->bits_allocated == 1 ? 8u : spec->bits_allocated;
            if (frame.columns != spec->columns || frame.rows != spec->rows ||
                frame.components != spec->samples_per_pixel) {
                st = dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, frame.sof_offset,
                              "JPEG-LS frame is %u x %u with %u components, the dataset says "
                              "%u x %u with %u samples per pixel", (unsigned)frame.rows,
                              (unsigned)frame.columns, frame.components, (unsigned)spec->rows,
                              (unsigned)spec->columns, (unsigned)spec->samples_per_pixel);
                goto done;
            }
            if (frame.precision > max_precision) {
                st = dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, frame.sof_offset,
                              "JPEG-LS precision %u bits does not fit bits allocated %u",
                              frame.precision, (unsigned)spec->bits_allocated);
                goto done;
            }
            /* CharLS applies its transforms only to interleaved scans, and
             * so undoes them only there: a non-interleaved frame comes out
             * as coded. */
            if (scan.ilv == 0)
                frame.transform = 0;
            if (frame.transform != 0 && frame.components != 3) {
                st = dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, frame.sof_offset,
                              "JPEG-LS: colour transform HP%u on %u components (it needs 3)",
                              frame.transform, frame.components);
                goto done;
            }
            const int planar = spec->samples_per_pixel > 1 && spec->planar_configuration == 1;
            out.dst = dst;
            out.bytes = dcf_sample_bytes(spec);
            out.precision = frame.precision;
            /* The transform needs the raw values: it sign-extends itself. */
            out.sign_extend = spec->pixel_representation == 1 && frame.transform == 0 &&
                              frame.precision < 8u * out.bytes;
            out.row_stride = (size_t)spec->columns * (planar ? 1u : spec->samples_per_pixel);
            out.pixel_stride = planar ? 1u : spec->samples_per_pixel;
            out.comp_stride = planar ? (size_t)spec->rows * spec->columns : 1u;
            /* Scratch: two lines of every component, and the quantiser. */
            lines = malloc(2 * ((size_t)frame.columns + 2) * frame.components * sizeof(int32_t));
            quant = malloc((2u << frame.precision) + 1u);  /* T3 <= MAXVAL < 2^P */
            if (lines == NULL || quant == NULL) {
                st = dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, 0,
                              "JPEG-LS: cannot allocate line buffers");
                goto done;
            }
        } else if (frame.columns != spec->columns || frame.rows != spec->rows) {
            st = dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, scan.sos_offset,
                          "JPEG-LS: the image size changed between scans");
            goto done;
        }
        for (unsigned k = 0; k < scan.count; k++) {
            if (decoded & (1u << scan.index[k])) {
                st = dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, scan.sos_offset,
                              "JPEG-LS: component %u is coded in two scans",
                              (unsigned)frame.ids[scan.index[k]]);
                goto done;
            }
            decoded |= 1u << scan.index[k];
        }
        st = jls_resolve_params(&frame, scan.near, scan.sos_offset, &params, err);
        if (st != DCF_OK)
            goto done;
        st = jls_decode_scan(src, src_size, &frame, &scan, &params, lines, quant, &out, &pos,
                             err);
        if (st != DCF_OK)
            goto done;
        if (decoded == (1u << frame.components) - 1u)
            break;  /* complete: whatever follows (EOI, padding) is not needed */
    }
    if (decoded != (1u << frame.components) - 1u) {
        st = dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, pos,
                      decoded == 0 ? "JPEG-LS: the frame has no scan"
                                   : "JPEG-LS: the frame ends before every component's scan");
        goto done;
    }
    if (frame.transform != 0)
        undo_transform(&out, spec, frame.transform);
    st = DCF_OK;

done:
    free(lines);
    free(quant);
    return st;
}
