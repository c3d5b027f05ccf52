/* Lossless scans (T.81 Annex H, process 14): Huffman-coded differences added
 * to a prediction from the reconstructed neighbours, modulo 2^16.
 *
 *   Rc Rb        predictors: 1 Ra, 2 Rb, 3 Rc, 4 Ra + Rb - Rc,
 *   Ra  x        5 Ra + ((Rb - Rc) >> 1), 6 Rb + ((Ra - Rc) >> 1), 7 (Ra + Rb) >> 1
 *
 * H.1.2.1: the first line of the scan, and the first line after each
 * restart marker, is predicted from Ra; its first sample from 2^(P-Pt-1);
 * every other line starts from Rb. Difference category 16 has no extra bits
 * and means 32768. Samples are kept before the point transform (<< Pt is
 * applied on output). A restart in the middle of a line resets the
 * prediction for the rest of that line the same way.
 *
 * One-component scans run a tight per-line loop for each predictor;
 * interleaved scans walk MCUs (H x V samples per component). */
#include <stdlib.h>

#include "dcf_jpeg_internal.h"

/* A scan component's Huffman table and its difference lookup. */
typedef struct diff_coder {
    const jpeg_huff *h;
    const int32_t *fast; /* JPEG_DIFF_BITS lookup, see jpeg_huff_build_diff */
} diff_coder;

/* Decode one difference; returns 0, or -1 for an undefined code. */
static inline int decode_diff(jpeg_bits *b, const diff_coder *dc, int32_t *diff)
{
    int s;
    int32_t e;
    if (b->count < 32)
        jpeg_bits_fill(b);
    e = dc->fast[b->buf >> (64 - JPEG_DIFF_BITS)];
    if (e != 0) {
        const unsigned len = (unsigned)e & 0xFFu;
        b->buf <<= len;
        b->count -= len;
        *diff = e >> 8;
        return 0;
    }
    s = jpeg_huff_decode(b, dc->h);
    if (s <= 0) {
        *diff = 0;
        return s;
    }
    if (s >= 16) {
        *diff = 32768;
        return s == 16 ? 0 : -1;
    }
    {
        const uint32_t v = (uint32_t)(b->buf >> (64 - s));
        b->buf <<= s;
        b->count -= (unsigned)s;
        *diff = jpeg_extend(v, (unsigned)s);
    }
    return 0;
}

static inline int32_t predict(unsigned ps, int32_t ra, int32_t rb, int32_t rc)
{
    switch (ps) {
    case 1: return ra;
    case 2: return rb;
    case 3: return rc;
    case 4: return ra + rb - rc;
    case 5: return ra + ((rb - rc) >> 1);
    case 6: return rb + ((ra - rc) >> 1);
    default: return (ra + rb) >> 1;
    }
}

static dcf_status bad_code(const jpeg_bits *b, dcf_error *err)
{
    return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, b->pos,
                    "JPEG lossless: invalid Huffman code in the entropy-coded data "
                    "near offset %zu", b->pos);
}

static dcf_status overrun(const jpeg_bits *b, uint32_t y, dcf_error *err)
{
    if (b->pos >= b->size)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, b->pos,
                        "JPEG lossless: the data ends inside the scan (line %u)", y);
    return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, b->pos,
                    "JPEG lossless: marker FF%02X at offset %zu interrupts the scan "
                    "(line %u)", b->pos + 1 < b->size ? (unsigned)b->src[b->pos + 1] : 0u,
                    b->pos, y);
}

/* Take one difference with the bit buffer held in locals `buf` / `cnt` (so
 * that it stays in registers): the lookup, else the reader's slow path. */
#define NEXT_DIFF(D, CODER)                                                        \
    do {                                                                           \
        int32_t e_;                                                                \
        if (cnt < 32) {                                                            \
            b->buf = buf;                                                          \
            b->count = cnt;                                                        \
            jpeg_bits_fill(b);                                                     \
            buf = b->buf;                                                          \
            cnt = b->count;                                                        \
        }                                                                          \
        e_ = (CODER)->fast[buf >> (64 - JPEG_DIFF_BITS)];                          \
        if (e_ != 0) {                                                             \
            buf <<= (unsigned)e_ & 0xFFu;                                          \
            cnt -= (unsigned)e_ & 0xFFu;                                           \
            (D) = e_ >> 8;                                                         \
        } else {                                                                   \
            b->buf = buf;                                                          \
            b->count = cnt;                                                        \
            if (decode_diff(b, (CODER), &(D)) < 0)                                 \
                return -1;                                                         \
            buf = b->buf;                                                          \
            cnt = b->count;                                                        \
        }                                                                          \
    } while (0)

/* NEXT_DIFF without the refill check: the caller made sure `cnt` holds at
 * least JPEG_DIFF_BITS bits; after the slow path the buffer is topped up. */
#define NEXT_DIFF_FILLED(D, CODER, NEED)                                           \
    do {                                                                           \
        const int32_t e_ = (CODER)->fast[buf >> (64 - JPEG_DIFF_BITS)];            \
        if (e_ != 0) {                                                             \
            buf <<= (unsigned)e_ & 0xFFu;                                          \
            cnt -= (unsigned)e_ & 0xFFu;                                           \
            (D) = e_ >> 8;                                                         \
        } else {                                                                   \
            b->buf = buf;                                                          \
            b->count = cnt;                                                        \
            if (decode_diff(b, (CODER), &(D)) < 0)                                 \
                return -1;                                                         \
            if (b->count < (NEED))                                                 \
                jpeg_bits_fill(b);                                                 \
            buf = b->buf;                                                          \
            cnt = b->count;                                                        \
        }                                                                          \
    } while (0)

/* The rest of a line, samples [x0, x1) with x0 >= 1, where the prediction
 * only depends on the predictor; Ra is carried from the previous sample. */
#define LINE_LOOP(EXPR)                                                            \
    do {                                                                           \
        uint64_t buf = b->buf;                                                     \
        unsigned cnt = b->count;                                                   \
        int32_t ra = row[x0 - 1];                                                  \
        for (uint32_t x = x0; x < x1; x++) {                                       \
            int32_t d;                                                             \
            const int32_t rb = up[x];                                              \
            const int32_t rc = up[x - 1];                                          \
            (void)rb;                                                              \
            (void)rc;                                                              \
            NEXT_DIFF(d, h);                                                       \
            ra = (uint16_t)((EXPR) + d);                                           \
            row[x] = (uint16_t)ra;                                                 \
        }                                                                          \
        b->buf = buf;                                                              \
        b->count = cnt;                                                            \
    } while (0)

static int line_rest(jpeg_bits *b, const diff_coder *h, unsigned ps, uint16_t *row,
                     const uint16_t *up, uint32_t x0, uint32_t x1)
{
    switch (ps) {
    case 1: LINE_LOOP(ra); break;
    case 2: LINE_LOOP(rb); break;
    case 3: LINE_LOOP(rc); break;
    case 4: LINE_LOOP(ra + rb - rc); break;
    case 5: LINE_LOOP(ra + ((rb - rc) >> 1)); break;
    case 6: LINE_LOOP(rb + ((ra - rc) >> 1)); break;
    default: LINE_LOOP((ra + rb) >> 1); break;
    }
    return 0;
}

static int line_first(jpeg_bits *b, const diff_coder *h, uint16_t *row, uint32_t x0,
                      uint32_t x1)
{
    const uint16_t *up = row;
    LINE_LOOP(ra);
    return 0;
}

/* A scan of one component: an MCU is one sample. */
static dcf_status single_scan(jpeg_bits *b, const jpeg_frame *f, unsigned ci,
                              const diff_coder *h, unsigned ps, int32_t initial,
                              uint32_t ri, dcf_error *err)
{
    const jpeg_component *c = &f->comp[ci];
    const size_t stride = c->plane_w;
    uint32_t restarts_left = ri;
    uint32_t first_line = 0;   /* the line predicted from Ra */
    int initial_pending = 1;   /* the next sample is predicted from 2^(P-Pt-1) */

    for (uint32_t y = 0; y < c->height; y++) {
        uint16_t *row = c->plane + (size_t)(c->ring ? (y & 1u) : y) * stride;
        const uint16_t *up = y == 0 ? row
                             : c->ring ? c->plane + (size_t)((y - 1) & 1u) * stride
                                       : row - stride;
        uint32_t x = 0;
        while (x < c->width) {
            uint32_t run = c->width - x;
            int32_t d, pred;
            int is_first_line;
            if (ri != 0) {
                if (restarts_left == 0) {
                    dcf_status status = jpeg_bits_restart(b, err);
                    if (status != DCF_OK)
                        return status;
                    restarts_left = ri;
                    initial_pending = 1;
                    first_line = y;
                }
                if (run > restarts_left)
                    run = restarts_left;
                restarts_left -= run;
            }
            is_first_line = y == first_line;
            if (initial_pending)
                pred = initial;
            else if (is_first_line)
                pred = row[x - 1];
            else if (x == 0)
                pred = up[0];
            else
                pred = predict(ps, row[x - 1], up[x], up[x - 1]);
            initial_pending = 0;
            if (decode_diff(b, h, &d) < 0)
                return bad_code(b, err);
            row[x] = (uint16_t)(pred + d);
            if (is_first_line ? line_first(b, h, row, x + 1, x + run)
                              : line_rest(b, h, ps, row, up, x + 1, x + run))
                return bad_code(b, err);
            x += run;
        }
        if (jpeg_bits_overrun(b))
            return overrun(b, y, err);
        if (c->ring)
            jpeg_emit_line(f, ci, y, row, c->pt);
    }
    return DCF_OK;
}

/* An interleaved scan whose components all have H = V = 1: an MCU is one
 * sample of each, so lines run like single_scan's with an inner loop over
 * the components. */
#define MCU_LOOP(EXPR)                                                             \
    do {                                                                           \
        uint64_t buf = b->buf;                                                     \
        unsigned cnt = b->count;                                                   \
        for (uint32_t x = x0; x < x1; x++) {                                       \
            for (unsigned i = 0; i < ns; i++) {                                    \
                uint16_t *row = rows[i];                                           \
                const uint16_t *up = ups[i];                                       \
                const int32_t ra = row[x - 1];                                     \
                const int32_t rb = up[x];                                          \
                const int32_t rc = up[x - 1];                                      \
                int32_t d;                                                         \
                (void)ra;                                                          \
                (void)rb;                                                          \
                (void)rc;                                                          \
                NEXT_DIFF(d, &coders[i]);                                          \
                row[x] = (uint16_t)((EXPR) + d);                                   \
            }                                                                      \
        }                                                                          \
        b->buf = buf;                                                              \
        b->count = cnt;                                                            \
    } while (0)

/* Three components (colour): the component loop unrolled. */
#define ONE_OF_THREE(EXPR, ROW, UP, CODER)                                         \
    do {                                                                           \
        const int32_t ra = (ROW)[x - 1];                                           \
        const int32_t rb = (UP)[x];                                                \
        const int32_t rc = (UP)[x - 1];                                            \
        int32_t d;                                                                 \
        (void)ra;                                                                  \
        (void)rb;                                                                  \
        (void)rc;                                                                  \
        NEXT_DIFF_FILLED(d, (CODER), 3u * JPEG_DIFF_BITS);                         \
        (ROW)[x] = (uint16_t)((EXPR) + d);                                         \
    } while (0)

#define MCU3_LOOP(EXPR)                                                            \
    do {                                                                           \
        uint64_t buf = b->buf;                                                     \
        unsigned cnt = b->count;                                                   \
        uint16_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2];                      \
        const uint16_t *u0 = ups[0], *u1 = ups[1], *u2 = ups[2];                   \
        for (uint32_t x = x0; x < x1; x++) {                                       \
            /* Enough bits for three lookups; the slow path tops up itself. */     \
            if (cnt < 3u * JPEG_DIFF_BITS) {                                       \
                b->buf = buf;                                                      \
                b->count = cnt;                                                    \
                jpeg_bits_fill(b);                                                 \
                buf = b->buf;                                                      \
                cnt = b->count;                                                    \
            }                                                                      \
            ONE_OF_THREE(EXPR, r0, u0, &coders[0]);                                \
            ONE_OF_THREE(EXPR, r1, u1, &coders[1]);                                \
            ONE_OF_THREE(EXPR, r2, u2, &coders[2]);                                \
        }                                                                          \
        b->buf = buf;                                                              \
        b->count = cnt;                                                            \
    } while (0)

static int mcus_rest3(jpeg_bits *b, const diff_coder *coders, unsigned ps,
                      uint16_t *const *rows, const uint16_t *const *ups, int first_line,
                      uint32_t x0, uint32_t x1)
{
    if (first_line) {
        MCU3_LOOP(ra);
        return 0;
    }
    switch (ps) {
    case 1: MCU3_LOOP(ra); break;
    case 2: MCU3_LOOP(rb); break;
    case 3: MCU3_LOOP(rc); break;
    case 4: MCU3_LOOP(ra + rb - rc); break;
    case 5: MCU3_LOOP(ra + ((rb - rc) >> 1)); break;
    case 6: MCU3_LOOP(rb + ((ra - rc) >> 1)); break;
    default: MCU3_LOOP((ra + rb) >> 1); break;
    }
    return 0;
}

static int mcus_rest(jpeg_bits *b, const diff_coder *coders, unsigned ns, unsigned ps,
                     uint16_t *const *rows, const uint16_t *const *ups, int first_line,
                     uint32_t x0, uint32_t x1)
{
    if (ns == 3)
        return mcus_rest3(b, coders, ps, rows, ups, first_line, x0, x1);
    if (first_line) {
        MCU_LOOP(ra);
        return 0;
    }
    switch (ps) {
    case 1: MCU_LOOP(ra); break;
    case 2: MCU_LOOP(rb); break;
    case 3: MCU_LOOP(rc); break;
    case 4: MCU_LOOP(ra + rb - rc); break;
    case 5: MCU_LOOP(ra + ((rb - rc) >> 1)); break;
    case 6: MCU_LOOP(rb + ((ra - rc) >> 1)); break;
    default: MCU_LOOP((ra + rb) >> 1); break;
    }
    return 0;
}

static dcf_status interleaved_simple(jpeg_bits *b, const jpeg_frame *f, const jpeg_scan *s,
                                     const diff_coder *coders, int32_t initial, uint32_t ri,
                                     dcf_error *err)
{
    const unsigned ns = s->ns, ps = s->ss;
    uint32_t restarts_left = ri, first_line = 0;
    int initial_pending = 1;
    uint16_t *rows[DCF_JPEG_MAX_COMPONENTS];
    const uint16_t *ups[DCF_JPEG_MAX_COMPONENTS];

    for (uint32_t y = 0; y < f->mcuy; y++) {
        uint32_t x = 0;
        for (unsigned i = 0; i < ns; i++) {
            const jpeg_component *c = &f->comp[s->ci[i]];
            rows[i] = c->plane + (size_t)(c->ring ? (y & 1u) : y) * c->plane_w;
            ups[i] = y == 0 ? rows[i]
                     : c->ring ? c->plane + (size_t)((y - 1) & 1u) * c->plane_w
                               : rows[i] - c->plane_w;
        }
        while (x < f->mcux) {
            uint32_t run = f->mcux - x;
            int is_first_line;
            if (ri != 0) {
                if (restarts_left == 0) {
                    dcf_status status = jpeg_bits_restart(b, err);
                    if (status != DCF_OK)
                        return status;
                    restarts_left = ri;
                    initial_pending = 1;
                    first_line = y;
                }
                if (run > restarts_left)
                    run = restarts_left;
                restarts_left -= run;
            }
            is_first_line = y == first_line;
            for (unsigned i = 0; i < ns; i++) {
                uint16_t *row = rows[i];
                const uint16_t *up = ups[i];
                int32_t d, pred;
                if (initial_pending)
                    pred = initial;
                else if (is_first_line)
                    pred = row[x - 1];
                else if (x == 0)
                    pred = up[0];
                else
                    pred = predict(ps, row[x - 1], up[x], up[x - 1]);
                if (decode_diff(b, &coders[i], &d) < 0)
                    return bad_code(b, err);
                row[x] = (uint16_t)(pred + d);
            }
            initial_pending = 0;
            if (mcus_rest(b, coders, ns, ps, rows, ups, is_first_line, x + 1, x + run))
                return bad_code(b, err);
            x += run;
        }
        if (jpeg_bits_overrun(b))
            return overrun(b, y, err);
        for (unsigned i = 0; i < ns; i++)
            if (f->comp[s->ci[i]].ring)
                jpeg_emit_line(f, s->ci[i], y, rows[i], f->comp[s->ci[i]].pt);
    }
    return DCF_OK;
}

/* An interleaved scan: each MCU holds H x V samples of each component. */
static dcf_status interleaved_scan(jpeg_bits *b, jpeg_frame *f, const jpeg_scan *s,
                                   const jpeg_tables *t, const diff_coder *coders,
                                   int32_t initial, dcf_error *err)
{
    const uint32_t ri = t->restart_interval;
    const unsigned ps = s->ss;
    uint32_t restarts_left = ri;
    uint32_t first_line[DCF_JPEG_MAX_COMPONENTS];
    int initial_pending[DCF_JPEG_MAX_COMPONENTS];

    for (unsigned i = 0; i < s->ns; i++) {
        first_line[i] = 0;
        initial_pending[i] = 1;
    }
    for (uint32_t my = 0; my < f->mcuy; my++) {
        for (uint32_t mx = 0; mx < f->mcux; mx++) {
            if (ri != 0) {
                if (restarts_left == 0) {
                    dcf_status status = jpeg_bits_restart(b, err);
                    if (status != DCF_OK)
                        return status;
                    restarts_left = ri;
                    for (unsigned i = 0; i < s->ns; i++) {
                        initial_pending[i] = 1;
                        first_line[i] = my * f->comp[s->ci[i]].v;
                    }
                }
                restarts_left--;
            }
            for (unsigned i = 0; i < s->ns; i++) {
                jpeg_component *c = &f->comp[s->ci[i]];
                const diff_coder *h = &coders[i];
                const size_t stride = c->plane_w;
                for (unsigned v = 0; v < c->v; v++) {
                    const uint32_t y = my * c->v + v;
                    uint16_t *row = c->plane + (size_t)y * stride;
                    const uint16_t *up = y > 0 ? row - stride : row;
                    for (unsigned hh = 0; hh < c->h; hh++) {
                        const uint32_t x = mx * c->h + hh;
                        int32_t d, pred;
                        if (initial_pending[i])
                            pred = initial;
                        else if (y == first_line[i])
                            pred = x > 0 ? row[x - 1] : up[0];
                        else if (x == 0)
                            pred = up[0];
                        else
                            pred = predict(ps, row[x - 1], up[x], up[x - 1]);
                        initial_pending[i] = 0;
                        if (decode_diff(b, h, &d) < 0)
                            return bad_code(b, err);
                        row[x] = (uint16_t)(pred + d);
                    }
                }
            }
        }
        if (jpeg_bits_overrun(b))
            return overrun(b, my, err);
    }
    return DCF_OK;
}

dcf_status jpeg_decode_lossless_scan(const uint8_t *src, size_t size, jpeg_frame *f,
                                     const jpeg_scan *s, const jpeg_tables *t,
                                     size_t *end, dcf_error *err)
{
    const uint64_t at = s->data;
    jpeg_bits b;
    diff_coder coders[DCF_JPEG_MAX_COMPONENTS];
    int32_t *fast;
    int32_t initial;
    dcf_status status;

    if (s->ss < 1 || s->ss > 7)
        return dcf_fail(err, s->ss == 0 ? DCF_E_UNSUPPORTED : DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG lossless: predictor selection %u (1..7 supported)", s->ss);
    if (s->al >= f->precision)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                        "JPEG lossless: point transform %u is not below the precision %u",
                        s->al, f->precision);
    for (unsigned i = 0; i < s->ns; i++) {
        if (!t->dc[s->td[i]].defined)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG lossless: scan uses Huffman table %u, which is not defined",
                            s->td[i]);
        if (f->comp[s->ci[i]].coded)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG lossless: component %u is coded in two scans",
                            (unsigned)f->comp[s->ci[i]].id);
    }
    fast = malloc(sizeof(int32_t) * s->ns << JPEG_DIFF_BITS);
    if (fast == NULL)
        return dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, at,
                        "JPEG lossless: cannot allocate the lookup tables");
    for (unsigned i = 0; i < s->ns; i++) {
        coders[i].h = &t->dc[s->td[i]];
        coders[i].fast = fast + ((size_t)i << JPEG_DIFF_BITS);
        jpeg_huff_build_diff(coders[i].h, fast + ((size_t)i << JPEG_DIFF_BITS));
    }
    initial = (int32_t)1 << (f->precision - s->al - 1);
    for (unsigned i = 0; i < s->ns; i++)
        f->comp[s->ci[i]].pt = (uint8_t)s->al;
    jpeg_bits_init(&b, src, size, s->data);
    if (s->ns == 1)
        status = single_scan(&b, f, s->ci[0], &coders[0], s->ss, initial,
                             t->restart_interval, err);
    else {
        int simple = 1;
        for (unsigned i = 0; i < s->ns; i++)
            if (f->comp[s->ci[i]].h != 1 || f->comp[s->ci[i]].v != 1)
                simple = 0;
        status = simple ? interleaved_simple(&b, f, s, coders, initial, t->restart_interval, err)
                        : interleaved_scan(&b, f, s, t, coders, initial, err);
    }
    free(fast);
    if (status != DCF_OK)
        return status;
    for (unsigned i = 0; i < s->ns; i++)
        f->comp[s->ci[i]].coded = 1;
    *end = jpeg_skip_entropy(src, size, b.pos);
    return DCF_OK;
}
