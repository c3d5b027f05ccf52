/* Marker segments of a JPEG interchange stream (T.81 Annex B): walking from
 * marker to marker, the frame header (SOFn), Huffman tables (DHT),
 * quantisation tables (DQT, 8- and 16-bit), the scan header (SOS), and
 * dcf_jpeg_peek. Every read is checked against the segment and the data. */
#include <string.h>

#include "dcf_jpeg_internal.h"
#include "dcf_reader.h"

const uint8_t dcf_jpeg_zigzag[64 + 16] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    /* run-ons past 63 land on the last coefficient */
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63};

dcf_status jpeg_next_marker(const uint8_t *src, size_t size, size_t *pos,
                            unsigned *code, size_t *seg, size_t *seg_len, int *at_end,
                            dcf_error *err)
{
    size_t p = *pos;
    unsigned len;

    *at_end = 0;
    *seg_len = 0;
    /* Bytes that are not a marker (junk between segments, FF00) are skipped,
     * as are FF fill bytes before one. */
    for (;;) {
        while (p < size && src[p] != 0xFF)
            p++;
        while (p + 1 < size && src[p + 1] == 0xFF)
            p++;
        if (p + 1 >= size) {
            *at_end = 1;
            *pos = size;
            return DCF_OK;
        }
        if (src[p + 1] != 0x00)
            break;
        p += 2;
    }
    *pos = p;
    *code = src[p + 1];
    *seg = p + 2;
    if (*code == JM_SOI || *code == JM_EOI || *code == 0x01 ||
        (*code >= JM_RST0 && *code <= JM_RST7))
        return DCF_OK;
    if (!dcf_fits(p + 2, size, 2))
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, p,
                        "JPEG: marker FF%02X at offset %zu has no length", *code, p);
    len = dcf_load_u16(src + p + 2, 1);
    if (len < 2)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, p,
                        "JPEG: marker FF%02X at offset %zu has length %u", *code, p, len);
    if (!dcf_fits(p + 4, size, len - 2u))
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, p,
                        "JPEG: marker segment FF%02X at offset %zu (length %u) runs past "
                        "the end of the data (%zu bytes)", *code, p, len, size);
    *seg = p + 4;
    *seg_len = len - 2u;
    return DCF_OK;
}

dcf_status jpeg_parse_sof(const uint8_t *src, size_t seg, size_t len, unsigned code,
                          dcf_jpeg_info *info, dcf_error *err)
{
    const uint8_t *p = src + seg;
    const uint64_t at = seg >= 4 ? seg - 4 : 0;
    unsigned nf;

    memset(info, 0, sizeof(*info));
    info->sof = (uint8_t)code;
    info->sof_offset = at;
    if (len < 6)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG: frame header SOF%u is %zu bytes, too short", code - 0xC0u, len);
    info->precision = p[0];
    info->rows = dcf_load_u16(p + 1, 1);
    info->columns = dcf_load_u16(p + 3, 1);
    nf = p[5];
    info->components = (uint8_t)nf;
    if (nf == 0 || len < 6u + 3u * nf)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG: frame header SOF%u with %u components is %zu bytes long",
                        code - 0xC0u, nf, len);
    if (info->columns == 0)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG: frame header says 0 columns");
    for (unsigned i = 0; i < nf; i++) {
        const uint8_t *c = p + 6 + 3 * i;
        const unsigned h = c[1] >> 4, v = c[1] & 15u;
        if (h < 1 || h > 4 || v < 1 || v > 4)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at + 10 + 3 * i,
                            "JPEG: component %u has sampling factors %u x %u (1..4 allowed)",
                            (unsigned)c[0], h, v);
        if (i < DCF_JPEG_MAX_COMPONENTS) {
            info->component[i].id = c[0];
            info->component[i].h = (uint8_t)h;
            info->component[i].v = (uint8_t)v;
            info->component[i].tq = c[2];
        }
    }
    return DCF_OK;
}

dcf_status jpeg_parse_dht(const uint8_t *src, size_t seg, size_t len, jpeg_tables *t,
                          dcf_error *err)
{
    size_t p = seg;
    const size_t end = seg + len;

    while (p < end) {
        unsigned tc, th, total = 0;
        dcf_status status;
        if (!dcf_fits(p, end, 17))
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, p,
                            "JPEG: DHT segment ends inside a table header at offset %zu", p);
        tc = src[p] >> 4;
        th = src[p] & 15u;
        if (tc > 1 || th > 3)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, p,
                            "JPEG: DHT table class %u / destination %u is invalid", tc, th);
        for (unsigned i = 0; i < 16; i++)
            total += src[p + 1 + i];
        if (total > 256 || !dcf_fits(p + 17, end, total))
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, p,
                            "JPEG: DHT table of %u codes does not fit its segment", total);
        status = jpeg_huff_build(tc ? &t->ac[th] : &t->dc[th], src + p + 1, src + p + 17,
                                 total, p, err);
        if (status != DCF_OK)
            return status;
        p += 17 + total;
    }
    return DCF_OK;
}

dcf_status jpeg_parse_dqt(const uint8_t *src, size_t seg, size_t len, jpeg_tables *t,
                          dcf_error *err)
{
    size_t p = seg;
    const size_t end = seg + len;

    while (p < end) {
        const unsigned pq = src[p] >> 4, tq = src[p] & 15u;
        const size_t bytes = pq ? 128u : 64u;
        if (pq > 1 || tq > 3)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, p,
                            "JPEG: DQT precision %u / destination %u is invalid", pq, tq);
        if (!dcf_fits(p + 1, end, bytes))
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, p,
                            "JPEG: DQT table at offset %zu does not fit its segment", p);
        for (unsigned k = 0; k < 64; k++)
            t->quant[tq][dcf_jpeg_zigzag[k]] =
                pq ? dcf_load_u16(src + p + 1 + 2 * k, 1) : src[p + 1 + k];
        t->quant_defined[tq] = 1;
        p += 1 + bytes;
    }
    return DCF_OK;
}

dcf_status jpeg_parse_sos(const uint8_t *src, size_t seg, size_t len, const jpeg_frame *f,
                          jpeg_scan *s, dcf_error *err)
{
    const uint8_t *p = src + seg;
    const uint64_t at = seg - 4;
    unsigned ns;

    memset(s, 0, sizeof(*s));
    if (len < 1)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at, "JPEG: empty scan header");
    ns = p[0];
    if (ns < 1 || ns > 4 || len < 4u + 2u * ns)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG: scan header with %u components is %zu bytes long", ns, len);
    s->ns = ns;
    for (unsigned i = 0; i < ns; i++) {
        const unsigned id = p[1 + 2 * i], tables = p[2 + 2 * i];
        unsigned k;
        for (k = 0; k < f->ncomp; k++)
            if (f->comp[k].id == id)
                break;
        if (k == f->ncomp)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG: scan names component %u, which the frame does not have", id);
        for (unsigned j = 0; j < i; j++)
            if (s->ci[j] == k)
                return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                                "JPEG: scan names component %u twice", id);
        s->ci[i] = k;
        s->td[i] = tables >> 4;
        s->ta[i] = tables & 15u;
        if (s->td[i] > 3 || s->ta[i] > 3)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG: scan component %u selects Huffman tables %u/%u (0..3)",
                            id, s->td[i], s->ta[i]);
    }
    s->ss = p[1 + 2 * ns];
    s->se = p[2 + 2 * ns];
    s->ah = p[3 + 2 * ns] >> 4;
    s->al = p[3 + 2 * ns] & 15u;
    s->data = seg + len;
    return DCF_OK;
}

size_t jpeg_skip_entropy(const uint8_t *src, size_t size, size_t pos)
{
    size_t p = pos;
    while (p + 1 < size) {
        if (src[p] == 0xFF) {
            const unsigned c = src[p + 1];
            if (c != 0x00 && c != 0xFF && !(c >= JM_RST0 && c <= JM_RST7))
                return p;
        }
        p++;
    }
    return size;
}

dcf_status dcf_jpeg_peek(const uint8_t *src, size_t size, dcf_jpeg_info *info,
                         dcf_error *err)
{
    dcf_error scratch;
    size_t pos = 2, seg, len;
    unsigned code;
    int at_end;

    if (err == NULL)
        err = &scratch;
    dcf_error_clear(err);
    if (src == NULL || info == NULL)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "JPEG: NULL argument");
    memset(info, 0, sizeof(*info));
    if (size < 2 || src[0] != 0xFF || src[1] != JM_SOI)
        return dcf_fail(err, size < 2 ? DCF_E_TRUNCATED : DCF_E_CODEC, DCF_NO_TAG, 0,
                        "JPEG: the data does not start with an SOI marker (FFD8)");
    for (;;) {
        dcf_status status = jpeg_next_marker(src, size, &pos, &code, &seg, &len, &at_end, err);
        if (status != DCF_OK)
            return status;
        if (at_end)
            return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, size,
                            "JPEG: the data ends before a frame header (SOFn)");
        if (jpeg_is_sof(code))
            return jpeg_parse_sof(src, seg, len, code, info, err);
        if (code == JM_SOS || code == JM_EOI)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, pos,
                            "JPEG: marker FF%02X at offset %zu comes before any frame "
                            "header (SOFn)", code, pos);
        pos = seg + len;
    }
}
