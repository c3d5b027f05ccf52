/* JPEG-LS marker segments (T.87 Annex C): SOI, SOF55, LSE, DRI, APPn, COM,
 * SOS, EOI. Every length is checked against the data before it is read. */
#include "dcf_jls_internal.h"

enum {
    JLS_SOF55 = 0xF7, JLS_LSE = 0xF8, JLS_SOI = 0xD8, JLS_EOI = 0xD9, JLS_SOS = 0xDA,
    JLS_DNL = 0xDC, JLS_DRI = 0xDD, JLS_RST0 = 0xD0, JLS_RST7 = 0xD7,
    JLS_APP0 = 0xE0, JLS_APP8 = 0xE8, JLS_APP15 = 0xEF, JLS_COM = 0xFE
};

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be_n(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

size_t jls_find_marker(const uint8_t *src, size_t size, size_t pos)
{
    for (; pos + 1 < size; pos++)
        if (src[pos] == 0xFF && src[pos + 1] >= 0x80 && src[pos + 1] != 0xFF)
            return pos;
    return size;
}

static dcf_status read_sof(const uint8_t *seg, unsigned len, size_t at, jls_frame *f,
                           dcf_error *err)
{
    if (f->have_sof)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at, "JPEG-LS: a second SOF55 marker");
    if (len < 6)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at, "JPEG-LS: SOF55 of %u bytes", len);
    const unsigned nf = seg[5];
    if (len != 6 + 3 * nf)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG-LS: SOF55 length %u does not fit its %u components", len + 2, nf);
    f->precision = seg[0];
    f->rows = be16(seg + 1);
    f->columns = be16(seg + 3);
    if (f->precision < 2 || f->precision > JLS_MAX_PRECISION)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                        "JPEG-LS: sample precision %u bits (2 to 16 are decoded)", f->precision);
    if (nf == 0 || nf > JLS_MAX_COMPONENTS)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                        "JPEG-LS: %u components (1 to %u are decoded)", nf, JLS_MAX_COMPONENTS);
    f->components = nf;
    for (unsigned i = 0; i < nf; i++) {
        const uint8_t *c = seg + 6 + 3 * i;
        if (c[1] != 0x11)
            return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                            "JPEG-LS: component %u has sampling factors %ux%u (subsampled "
                            "components are not decoded)", i, c[1] >> 4, c[1] & 15u);
        for (unsigned j = 0; j < i; j++)
            if (f->ids[j] == c[0])
                return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                                "JPEG-LS: two components with id %u", c[0]);
        f->ids[i] = c[0];
    }
    f->have_sof = 1;
    f->sof_offset = at;
    return DCF_OK;
}

static dcf_status read_lse(const uint8_t *seg, unsigned len, size_t at, jls_frame *f,
                           dcf_error *err)
{
    if (len < 1)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at, "JPEG-LS: empty LSE segment");
    switch (seg[0]) {
    case 1:
        if (len != 11)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG-LS: LSE preset parameters of %u bytes (13 expected)", len + 2);
        f->preset.maxval = be16(seg + 1);
        f->preset.t1 = be16(seg + 3);
        f->preset.t2 = be16(seg + 5);
        f->preset.t3 = be16(seg + 7);
        f->preset.reset = be16(seg + 9);
        return DCF_OK;
    case 2:
    case 3:
        /* Mapping tables: harmless until a scan selects one (Tm != 0). */
        return DCF_OK;
    case 4: {
        /* Oversize image dimensions: Wxy, then Y and X in Wxy bytes each. */
        const unsigned w = len >= 2 ? seg[1] : 0;
        if (w < 2 || w > 4 || len != 2 + 2 * w)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG-LS: LSE oversize dimensions segment is malformed");
        if (!f->have_sof)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG-LS: LSE oversize dimensions before SOF55");
        f->rows = be_n(seg + 2, w);
        f->columns = be_n(seg + 2 + w, w);
        return DCF_OK;
    }
    default:
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                        "JPEG-LS: LSE segment of type %u is not decoded", seg[0]);
    }
}

static dcf_status read_sos(const uint8_t *seg, unsigned len, size_t at, const jls_frame *f,
                           jls_scan *s, dcf_error *err)
{
    if (!f->have_sof)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at, "JPEG-LS: SOS before SOF55");
    if (f->rows == 0 || f->columns == 0)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, f->sof_offset,
                        "JPEG-LS: frame of %u x %u samples (a height given by DNL is not "
                        "decoded)", (unsigned)f->rows, (unsigned)f->columns);
    const unsigned ns = len >= 1 ? seg[0] : 0;
    if (ns == 0 || ns > f->components || len != 4 + 2 * ns)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG-LS: SOS with %u components and length %u is malformed", ns,
                        len + 2);
    s->sos_offset = at;
    s->count = ns;
    for (unsigned i = 0; i < ns; i++) {
        const uint8_t id = seg[1 + 2 * i], table = seg[2 + 2 * i];
        unsigned k = 0;
        while (k < f->components && f->ids[k] != id)
            k++;
        if (k == f->components)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG-LS: SOS names component %u, which SOF55 does not have", id);
        if (table != 0)
            return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                            "JPEG-LS: component %u uses mapping table %u (LSE mapping tables "
                            "are not decoded)", id, table);
        s->index[i] = k;
    }
    s->near = seg[1 + 2 * ns];
    s->ilv = seg[2 + 2 * ns];
    const unsigned pt = seg[3 + 2 * ns] & 15u;
    if (s->ilv > 2)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at, "JPEG-LS: interleave mode %u",
                        s->ilv);
    if (s->ilv == 0 && ns != 1)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG-LS: a non-interleaved scan with %u components", ns);
    if (ns == 1)
        s->ilv = 0;  /* one component: the interleave modes code alike */
    if (pt != 0)
        return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                        "JPEG-LS: point transform %u is not decoded", pt);
    return DCF_OK;
}

dcf_status jls_next_scan(const uint8_t *src, size_t size, size_t *pos, jls_frame *frame,
                         jls_scan *scan, int *ended, dcf_error *err)
{
    size_t p = *pos;
    dcf_status st;

    *ended = 0;
    if (!frame->have_sof && p == 0) {
        /* Some writers put fill bytes before SOI. */
        while (p < size && src[p] == 0xFF && p + 1 < size && src[p + 1] == 0xFF)
            p++;
        if (size - p < 2 || src[p] != 0xFF || src[p + 1] != JLS_SOI)
            return dcf_fail(err, size < 2 ? DCF_E_TRUNCATED : DCF_E_CODEC, DCF_NO_TAG, p,
                            "JPEG-LS: the frame does not start with an SOI marker");
        p += 2;
    }
    for (;;) {
        if (p >= size || (p + 1 >= size && src[p] == 0xFF)) {
            if (!frame->have_sof)
                return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, p,
                                "JPEG-LS: the frame ends before its SOF55 header");
            *ended = 1;
            *pos = size;
            return DCF_OK;
        }
        if (src[p] != 0xFF) {
            /* Between segments only fill is expected; tolerate zero bytes
             * before a marker (some encoders pad the scan with 00). */
            const size_t next = jls_find_marker(src, size, p);
            if (!frame->have_sof || next == size) {
                if (!frame->have_sof)
                    return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, p,
                                    "JPEG-LS: byte 0x%02X where a marker was expected",
                                    src[p]);
                *ended = 1;
                *pos = size;
                return DCF_OK;
            }
            p = next;
            continue;
        }
        const unsigned m = src[p + 1];
        if (m == 0xFF) {
            p++;
            continue;
        }
        const size_t at = p;
        if (m == JLS_EOI) {
            if (!frame->have_sof)
                return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                                "JPEG-LS: EOI before the SOF55 header");
            *ended = 1;
            *pos = p + 2;
            return DCF_OK;
        }
        if (m == JLS_SOI || (m >= JLS_RST0 && m <= JLS_RST7) || m < 0x80) {
            /* Stray restart markers after a scan's last interval are harmless. */
            if (m == JLS_SOI)
                return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at, "JPEG-LS: a second SOI");
            p += 2;
            continue;
        }
        if (size - p < 4)
            return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, at,
                            "JPEG-LS: the frame ends inside marker 0xFF%02X", m);
        const unsigned seglen = be16(src + p + 2);
        if (seglen < 2)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG-LS: marker 0xFF%02X has length %u", m, seglen);
        if (seglen > size - p - 2)
            return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, at,
                            "JPEG-LS: marker 0xFF%02X of %u bytes runs past the end of the "
                            "frame (%zu bytes)", m, seglen, size);
        const uint8_t *seg = src + p + 4;
        const unsigned len = seglen - 2;
        p += 2 + seglen;
        switch (m) {
        case JLS_SOF55:
            st = read_sof(seg, len, at, frame, err);
            break;
        case JLS_LSE:
            st = read_lse(seg, len, at, frame, err);
            break;
        case JLS_DRI:
            if (len < 2 || len > 4)
                return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                                "JPEG-LS: DRI of %u bytes", seglen + 2);
            frame->restart_interval = be_n(seg, len);
            st = DCF_OK;
            break;
        case JLS_APP8:
            /* CharLS's colour transform: "mrfx" then the transform id. */
            if (len >= 5 && memcmp(seg, "mrfx", 4) == 0) {
                if (seg[4] > 3)
                    return dcf_fail(err, DCF_E_UNSUPPORTED, DCF_NO_TAG, at,
                                    "JPEG-LS: colour transform %u (HP1-HP3 are decoded)",
                                    seg[4]);
                frame->transform = seg[4];
            }
            st = DCF_OK;
            break;
        case JLS_SOS:
            st = read_sos(seg, len, at, frame, scan, err);
            if (st == DCF_OK) {
                scan->data = p;
                *pos = p;
            }
            return st;
        default:
            if ((m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC))
                return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                                "JPEG-LS: SOF marker 0xFF%02X of another JPEG process (a "
                                "JPEG-LS frame has SOF55, 0xFFF7)", m);
            st = DCF_OK;  /* APPn, COM, DNL and the like: skipped */
            break;
        }
        if (st != DCF_OK)
            return st;
    }
}
