/* dcf_jpeg_decode: the marker loop of one JPEG frame (T.81 B.2, E.2), the
 * checks of the frame header against the caller's spec, the component
 * planes, and the final pass that upsamples, applies the point transform
 * and the sign, and writes the caller's buffer.
 *
 * Planes are allocated only after the frame header matched the spec, so
 * their size is bounded by the output's (padded to whole MCUs). */
#include <stdlib.h>
#include <string.h>

#include "dcf_jpeg_internal.h"

static const char *sof_name(unsigned code)
{
    switch (code) {
    case 0xC0: return "SOF0 (baseline DCT)";
    case 0xC1: return "SOF1 (extended sequential DCT)";
    case 0xC2: return "SOF2 (progressive DCT)";
    case 0xC3: return "SOF3 (lossless)";
    case 0xC5: return "SOF5 (differential sequential DCT)";
    case 0xC6: return "SOF6 (differential progressive DCT)";
    case 0xC7: return "SOF7 (differential lossless)";
    case 0xC9: return "SOF9 (extended sequential DCT, arithmetic coding)";
    case 0xCA: return "SOF10 (progressive DCT, arithmetic coding)";
    case 0xCB: return "SOF11 (lossless, arithmetic coding)";
    case 0xCD: return "SOF13 (differential sequential DCT, arithmetic coding)";
    case 0xCE: return "SOF14 (differential progressive DCT, arithmetic coding)";
    case 0xCF: return "SOF15 (differential lossless, arithmetic coding)";
    default: return "SOF";
    }
}

static void free_planes(jpeg_frame *f)
{
    for (unsigned i = 0; i < DCF_JPEG_MAX_COMPONENTS; i++) {
        if (!f->comp[i].in_output)
            free(f->comp[i].plane);
        f->comp[i].plane = NULL;
    }
}

/* Check the frame header against the spec and set up the planes. */
static dcf_status setup_frame(const dcf_jpeg_info *info, const dcf_frame_spec *spec,
                              uint8_t *dst, jpeg_frame *f, dcf_error *err)
{
    const unsigned code = info->sof;
    const int lossless = code == JM_SOF3;
    const unsigned block = lossless ? 1u : 8u;
    const uint64_t at = info->sof_offset;

    if (code != JM_SOF3 && !((code == JM_SOF0 || code == JM_SOF1) && info->precision == 12))
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                        "JPEG: %s with %u-bit precision is not decoded by this decoder "
                        "(lossless SOF3 and 12-bit SOF0/SOF1 only)",
                        sof_name(code), (unsigned)info->precision);
    if (lossless && (info->precision < 2 || info->precision > 16))
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG lossless: precision %u is outside 2..16",
                        (unsigned)info->precision);
    if (info->components > DCF_JPEG_MAX_COMPONENTS)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                        "JPEG: frame with %u components (1..4 supported)",
                        (unsigned)info->components);
    if (spec->bits_allocated != 8 && spec->bits_allocated != 16)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                        "JPEG: bits allocated %u is not supported (8 or 16)",
                        (unsigned)spec->bits_allocated);
    if (info->columns != spec->columns || (info->rows != 0 && info->rows != spec->rows) ||
        info->components != spec->samples_per_pixel)
        return dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, at,
                        "JPEG frame is %u x %u with %u components, the dataset says "
                        "%u x %u with %u samples per pixel",
                        (unsigned)info->rows, (unsigned)info->columns,
                        (unsigned)info->components, (unsigned)spec->rows,
                        (unsigned)spec->columns, (unsigned)spec->samples_per_pixel);
    if (info->precision > spec->bits_allocated)
        return dcf_fail(err, DCF_E_PIXEL_DATA, DCF_NO_TAG, at,
                        "JPEG precision %u bits does not fit bits allocated %u",
                        (unsigned)info->precision, (unsigned)spec->bits_allocated);

    memset(f, 0, sizeof(*f));
    f->spec = spec;
    f->dst = dst;
    f->sof = code;
    f->precision = info->precision;
    f->ncomp = info->components;
    f->rows = spec->rows;
    f->columns = spec->columns;
    f->rows_from_dnl = info->rows == 0;
    f->hmax = f->vmax = 1;
    for (unsigned i = 0; i < f->ncomp; i++) {
        for (unsigned j = 0; j < i; j++)
            if (info->component[j].id == info->component[i].id)
                return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                                "JPEG: frame header names component %u twice",
                                (unsigned)info->component[i].id);
        if (info->component[i].h > f->hmax)
            f->hmax = info->component[i].h;
        if (info->component[i].v > f->vmax)
            f->vmax = info->component[i].v;
    }
    f->mcux = (uint32_t)(((uint64_t)f->columns + block * f->hmax - 1) / (block * f->hmax));
    f->mcuy = (uint32_t)(((uint64_t)f->rows + block * f->vmax - 1) / (block * f->vmax));
    for (unsigned i = 0; i < f->ncomp; i++) {
        jpeg_component *c = &f->comp[i];
        size_t count;
        c->id = info->component[i].id;
        c->h = info->component[i].h;
        c->v = info->component[i].v;
        c->tq = info->component[i].tq;
        if (f->hmax % c->h != 0 || f->vmax % c->v != 0)
            return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                            "JPEG: component %u sampling %u x %u is not an integer "
                            "fraction of the maximum %u x %u", (unsigned)c->id,
                            (unsigned)c->h, (unsigned)c->v, f->hmax, f->vmax);
        c->width = (uint32_t)(((uint64_t)f->columns * c->h + f->hmax - 1) / f->hmax);
        c->height = (uint32_t)(((uint64_t)f->rows * c->v + f->vmax - 1) / f->vmax);
        c->plane_w = f->mcux * c->h * block;
        c->plane_h = f->mcuy * c->v * block;
        count = (size_t)c->plane_w * c->plane_h;
        if (f->ncomp == 1 && dcf_sample_bytes(spec) == 2 &&
            c->plane_w == f->columns && c->plane_h == f->rows &&
            ((uintptr_t)dst & 1u) == 0) {
            /* One 16-bit component whose padded plane is the frame (lossless,
             * or DCT with both sizes multiples of 8): decoded in place. */
            c->plane = (uint16_t *)(void *)dst;
            c->in_output = 1;
            continue;
        }
        if (lossless && f->hmax == 1 && f->vmax == 1) {
            /* Lines go out as they are decoded: two in memory suffice. */
            c->ring = 1;
            c->plane_h = 2;
            count = (size_t)c->plane_w * 2u;
        }
        c->plane = calloc(count, sizeof(uint16_t));
        if (c->plane == NULL)
            return dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, at,
                            "JPEG: cannot allocate %zu samples for component %u", count,
                            (unsigned)c->id);
    }
    return DCF_OK;
}

/* One output line of a component: the point transform undone, the bits
 * above Bits Stored cleared or sign-filled (as pydicom's correct_unused_bits),
 * written with the output's sample size and layout. */
static void put_line(const dcf_frame_spec *spec, uint8_t *dst, unsigned ncomp, unsigned ci,
                     uint32_t y, const uint16_t *in, unsigned pt)
{
    const int is_signed = spec->pixel_representation == 1;
    const int planar = ncomp > 1 && spec->planar_configuration == 1;
    const size_t bytes = dcf_sample_bytes(spec);
    const size_t pixels = (size_t)spec->rows * spec->columns;
    const unsigned stored = spec->bits_stored;
    const int full = stored >= 8u * bytes; /* no bits above Bits Stored */
    const size_t step = planar ? 1 : ncomp;
    const size_t o = (planar ? ci * pixels : ci) + (size_t)y * spec->columns * step;
    const uint32_t columns = spec->columns;

    if (bytes == 1) {
        uint8_t *out = dst + o;
        if (step == 1 && pt == 0 && full)
            for (uint32_t x = 0; x < columns; x++)
                out[x] = (uint8_t)in[x];
        else
            for (uint32_t x = 0; x < columns; x++)
                out[(size_t)x * step] = (uint8_t)dcf_extend_bits((uint16_t)(in[x] << pt),
                                                                 stored, is_signed);
    } else if (step == 1 && pt == 0 && full) {
        memcpy(dst + 2 * o, in, (size_t)columns * 2u);
    } else {
        /* memcpy stores: dst need not be 2-byte aligned. */
        uint8_t *out = dst + 2 * o;
        for (uint32_t x = 0; x < columns; x++) {
            const uint16_t v = (uint16_t)dcf_extend_bits((uint16_t)(in[x] << pt), stored,
                                                         is_signed);
            memcpy(out + (size_t)x * step * 2u, &v, 2);
        }
    }
}

void jpeg_emit_line(const jpeg_frame *f, unsigned ci, uint32_t y, const uint16_t *in,
                    unsigned pt)
{
    put_line(f->spec, f->dst, f->ncomp, ci, y, in, pt);
}

/* Line y of component c at full resolution. Lossless frames, and DCT ratios
 * other than 2:1, replicate. DCT components subsampled 2:1 horizontally,
 * vertically or both are interpolated as libjpeg(-turbo) does by default
 * ("fancy" upsampling: 3/4 of the nearer and 1/4 of the farther sample,
 * with its alternating rounding; lines above the first and below the last
 * repeat them; 2:1 horizontally needs more than 2 samples, else it
 * replicates). `line` has room for 2 * c->width + 2 samples. */
static const uint16_t *upsampled_line(const jpeg_frame *f, const jpeg_component *c,
                                      uint32_t y, uint16_t *line)
{
    const unsigned xs = f->hmax / c->h, ys = f->vmax / c->v;
    const int dct = f->sof != JM_SOF3;
    const uint32_t w = c->width;
    const uint16_t *row = c->plane + (size_t)(y / ys) * c->plane_w;

    if (dct && ys == 2 && (xs == 1 || (xs == 2 && w > 2))) {
        const uint32_t iy = y / 2;
        const int below = y & 1u;
        const uint32_t oy = below ? (iy + 1 < c->height ? iy + 1 : iy) : (iy > 0 ? iy - 1 : 0);
        const uint16_t *in0 = row, *in1 = c->plane + (size_t)oy * c->plane_w;
        if (xs == 1) {
            const int32_t bias = below ? 2 : 1;
            for (uint32_t x = 0; x < w; x++)
                line[x] = (uint16_t)((in0[x] * 3 + in1[x] + bias) >> 2);
        } else {
            int32_t last, this_sum = in0[0] * 3 + in1[0], next = in0[1] * 3 + in1[1];
            uint16_t *out = line;
            *out++ = (uint16_t)((this_sum * 4 + 8) >> 4);
            *out++ = (uint16_t)((this_sum * 3 + next + 7) >> 4);
            last = this_sum;
            this_sum = next;
            for (uint32_t x = 2; x < w; x++) {
                next = in0[x] * 3 + in1[x];
                *out++ = (uint16_t)((this_sum * 3 + last + 8) >> 4);
                *out++ = (uint16_t)((this_sum * 3 + next + 7) >> 4);
                last = this_sum;
                this_sum = next;
            }
            *out++ = (uint16_t)((this_sum * 3 + last + 8) >> 4);
            *out = (uint16_t)((this_sum * 4 + 7) >> 4);
        }
        return line;
    }
    if (dct && xs == 2 && ys == 1 && w > 2) {
        uint16_t *out = line;
        *out++ = row[0];
        *out++ = (uint16_t)((row[0] * 3 + row[1] + 2) >> 2);
        for (uint32_t x = 1; x + 1 < w; x++) {
            const int32_t v = row[x] * 3;
            *out++ = (uint16_t)((v + row[x - 1] + 1) >> 2);
            *out++ = (uint16_t)((v + row[x + 1] + 2) >> 2);
        }
        *out++ = (uint16_t)((row[w - 1] * 3 + row[w - 2] + 1) >> 2);
        *out = row[w - 1];
        return line;
    }
    if (xs != 1) {
        uint32_t x = 0, sx = 0;
        while (x < f->columns) {
            const uint16_t v = row[sx++];
            for (unsigned k = 0; k < xs && x < f->columns; k++)
                line[x++] = v;
        }
        return line;
    }
    return row;
}

/* The components not written out yet: upsampled by replication, then
 * put_line; a component decoded in place gets its point transform and
 * unused bits fixed where it is. */
static void write_output(const jpeg_frame *f, const dcf_frame_spec *spec, uint8_t *dst,
                         uint16_t *line)
{
    const int is_signed = spec->pixel_representation == 1;
    const size_t pixels = (size_t)f->rows * f->columns;
    const unsigned stored = spec->bits_stored;

    for (unsigned ci = 0; ci < f->ncomp; ci++) {
        const jpeg_component *c = &f->comp[ci];
        const unsigned pt = c->pt;
        if (c->ring)
            continue;
        if (c->in_output) {
            uint16_t *out = c->plane;
            if (pt != 0 || stored < 16)
                for (size_t i = 0; i < pixels; i++)
                    out[i] = (uint16_t)dcf_extend_bits((uint16_t)(out[i] << pt), stored,
                                                       is_signed);
            continue;
        }
        for (uint32_t y = 0; y < f->rows; y++) {
            const uint16_t *in = upsampled_line(f, c, y, line);
            put_line(spec, dst, f->ncomp, ci, y, in, pt);
        }
    }
}

dcf_status dcf_jpeg_decode(const uint8_t *src, size_t size, const dcf_frame_spec *spec,
                           uint8_t *dst, size_t dst_size, dcf_error *err)
{
    dcf_error scratch;
    jpeg_tables *tables = NULL;
    jpeg_frame frame;
    dcf_jpeg_info info;
    size_t pos = 2, seg, len;
    unsigned code;
    int at_end, have_frame = 0, scans = 0, dnl_seen = 0;
    dcf_status status;

    if (err == NULL)
        err = &scratch;
    dcf_error_clear(err);
    memset(&frame, 0, sizeof(frame));
    if (src == NULL || spec == NULL || dst == NULL)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "JPEG: NULL argument");
    status = dcf_frame_spec_check(spec, dst_size, err);
    if (status != DCF_OK)
        return status;
    if (size < 2 || src[0] != 0xFF || src[1] != JM_SOI)
        return dcf_fail(err, size < 2 ? DCF_E_TRUNCATED : DCF_E_CODEC, DCF_NO_TAG, 0,
                        "JPEG: the data does not start with an SOI marker (FFD8)");
    tables = calloc(1, sizeof(*tables));
    if (tables == NULL)
        return dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, 0,
                        "JPEG: cannot allocate the decoder tables");

    for (;;) {
        status = jpeg_next_marker(src, size, &pos, &code, &seg, &len, &at_end, err);
        if (status != DCF_OK)
            goto done;
        if (at_end || code == JM_EOI)
            break;
        if (jpeg_is_sof(code)) {
            if (have_frame) {
                status = dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, pos,
                                  "JPEG: a second frame header at offset %zu", pos);
                goto done;
            }
            status = jpeg_parse_sof(src, seg, len, code, &info, err);
            if (status == DCF_OK)
                status = setup_frame(&info, spec, dst, &frame, err);
            if (status != DCF_OK)
                goto done;
            have_frame = 1;
        } else if (code == JM_DHT) {
            status = jpeg_parse_dht(src, seg, len, tables, err);
            if (status != DCF_OK)
                goto done;
        } else if (code == JM_DQT) {
            status = jpeg_parse_dqt(src, seg, len, tables, err);
            if (status != DCF_OK)
                goto done;
        } else if (code == JM_DRI) {
            if (len < 2) {
                status = dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, pos,
                                  "JPEG: DRI segment at offset %zu is too short", pos);
                goto done;
            }
            tables->restart_interval = (uint32_t)((src[seg] << 8) | src[seg + 1]);
        } else if (code == JM_DNL) {
            if (len < 2 || !have_frame || !frame.rows_from_dnl ||
                (uint32_t)((src[seg] << 8) | src[seg + 1]) != frame.rows) {
                status = dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, pos,
                                  "JPEG: unexpected DNL marker at offset %zu (or its "
                                  "line count differs from the dataset's rows)", pos);
                goto done;
            }
            dnl_seen = 1;
        } else if (code == JM_SOS) {
            jpeg_scan scan;
            size_t end = size;
            if (!have_frame) {
                status = dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, pos,
                                  "JPEG: scan at offset %zu before any frame header", pos);
                goto done;
            }
            status = jpeg_parse_sos(src, seg, len, &frame, &scan, err);
            if (status != DCF_OK)
                goto done;
            if (frame.sof == JM_SOF3)
                status = jpeg_decode_lossless_scan(src, size, &frame, &scan, tables, &end, err);
            else
                status = jpeg_decode_dct_scan(src, size, &frame, &scan, tables, &end, err);
            if (status != DCF_OK)
                goto done;
            scans++;
            pos = end;
            continue;
        } else if (code == JM_SOI) {
            status = dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, pos,
                              "JPEG: a second SOI marker at offset %zu", pos);
            goto done;
        }
        /* APPn, COM, RSTn outside a scan, and other segments: skipped. */
        pos = seg + len;
    }

    if (!have_frame) {
        status = dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, pos,
                          "JPEG: no frame header (SOFn) before the end of the data");
        goto done;
    }
    for (unsigned i = 0; i < frame.ncomp; i++) {
        if (!frame.comp[i].coded) {
            status = dcf_fail(err, scans == 0 ? DCF_E_TRUNCATED : DCF_E_CODEC, DCF_NO_TAG,
                              pos, "JPEG: component %u is not coded by any scan "
                              "(%d scans before offset %zu)",
                              (unsigned)frame.comp[i].id, scans, pos);
            goto done;
        }
    }
    (void)dnl_seen;
    {
        /* A line for horizontal replication. */
        uint16_t *line = NULL;
        if (frame.hmax > 1 || frame.vmax > 1) {
            /* Room for a line replicated (columns) or interpolated
             * (2 * width + 2 of the widest component). */
            size_t n = frame.columns;
            for (unsigned i = 0; i < frame.ncomp; i++)
                if (2u * (size_t)frame.comp[i].width + 2u > n)
                    n = 2u * (size_t)frame.comp[i].width + 2u;
            line = malloc(n * sizeof(uint16_t));
            if (line == NULL) {
                status = dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, pos,
                                  "JPEG: cannot allocate a line of %u samples",
                                  (unsigned)frame.columns);
                goto done;
            }
        }
        write_output(&frame, spec, dst, line);
        free(line);
    }
    status = DCF_OK;

done:
    free_planes(&frame);
    free(tables);
    return status;
}
