/* JPEG-LS scan decoding (T.87 Annex A): context modelling, prediction,
 * Golomb codes of limited length, run mode, restart intervals, and the
 * line-by-line store into the caller's buffer.
 *
 * Speed comes from the structure, not from tricks: a 64-bit bit buffer
 * refilled 8 bytes at a time, count-leading-zeros for the unary part of
 * Golomb codes, gradient quantisation by a small clamped table, the context
 * state in one array of small structs, the current and previous lines in
 * two int32 buffers, and the line loops specialised (always_inline) for
 * lossless / near-lossless and for the component count of sample
 * interleave. Corrupt data cannot run any loop past the line: every code
 * read is bounded (LIMIT), reading past the data yields zeros that are
 * counted, and bad codes set a flag checked once per line. */
#include <stdlib.h>

#include "dcf_jls_internal.h"

/* T.87 Table A.2: run-length order J[RUNindex]. */
static const uint8_t J[32] = {0, 0, 0, 0, 1, 1, 1, 1, 2,  2,  2,  2,  3,  3,  3,  3,
                              4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* ---- bit reader ---- */

void jls_bits_init(jls_bits *b, const uint8_t *p, const uint8_t *end)
{
    b->p = p;
    b->end = end;
    b->buf = 0;
    b->count = 0;
    b->after_ff = 0;
    b->pad = 0;
}

void jls_bits_fill_slow(jls_bits *b)
{
    while (b->count <= 55) {
        if (b->p >= b->end) {
            b->count += 8;  /* zeros: the bits below count are already 0 */
            b->pad += 8;
            continue;
        }
        const uint8_t v = *b->p;
        if (b->after_ff) {
            /* The byte after 0xFF holds 7 bits (checked < 0x80 below). */
            b->buf |= (uint64_t)v << (57 - b->count);
            b->count += 7;
            b->p++;
            b->after_ff = 0;
            continue;
        }
        if (v == 0xFF) {
            if (b->end - b->p < 2 || b->p[1] >= 0x80) {
                b->end = b->p;  /* a marker: the entropy-coded data ends */
                continue;
            }
            b->after_ff = 1;
        }
        b->buf |= (uint64_t)v << (56 - b->count);
        b->count += 8;
        b->p++;
    }
}

/* ---- parameters ---- */

static int32_t clamp_threshold(int32_t i, int32_t j, int32_t maxval)
{
    return (i > maxval || i < j) ? j : i;
}

dcf_status jls_resolve_params(const jls_frame *f, unsigned near, size_t offset,
                              jls_params *q, dcf_error *err)
{
    const int32_t full = (int32_t)((1u << f->precision) - 1u);
    const int32_t maxval = f->preset.maxval != 0 ? (int32_t)f->preset.maxval : full;
    int32_t t1, t2, t3;

    if (maxval > full)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, offset,
                        "JPEG-LS: MAXVAL %d does not fit %u-bit samples", (int)maxval,
                        f->precision);
    /* T.87 asks NEAR <= MAXVAL / 2, but CharLS writes and reads more (for
     * example NEAR 2 on 2-bit data); the arithmetic below holds for any NEAR. */
    q->maxval = maxval;
    q->near = (int32_t)near;
    q->range = (maxval + 2 * q->near) / (2 * q->near + 1) + 1;
    q->qbpp = 0;
    while ((1 << q->qbpp) < q->range)
        q->qbpp++;
    int32_t bpp = 0;
    while ((1 << bpp) < maxval + 1)
        bpp++;
    if (bpp < 2)
        bpp = 2;
    q->limit = 2 * (bpp + (bpp > 8 ? bpp : 8));

    /* Default thresholds, C.2.4.1.1.1 (BASIC_T1..3 = 3, 7, 21). */
    if (maxval >= 128) {
        const int32_t factor = ((maxval < 4095 ? maxval : 4095) + 128) / 256;
        t1 = clamp_threshold(factor * (3 - 2) + 2 + 3 * q->near, q->near + 1, maxval);
        t2 = clamp_threshold(factor * (7 - 3) + 3 + 5 * q->near, t1, maxval);
        t3 = clamp_threshold(factor * (21 - 4) + 4 + 7 * q->near, t2, maxval);
    } else {
        const int32_t factor = 256 / (maxval + 1);
        const int32_t b1 = 3 / factor + 3 * q->near, b2 = 7 / factor + 5 * q->near,
                      b3 = 21 / factor + 7 * q->near;
        t1 = clamp_threshold(b1 > 2 ? b1 : 2, q->near + 1, maxval);
        t2 = clamp_threshold(b2 > 3 ? b2 : 3, t1, maxval);
        t3 = clamp_threshold(b3 > 4 ? b3 : 4, t2, maxval);
    }
    q->t1 = f->preset.t1 != 0 ? (int32_t)f->preset.t1 : t1;
    q->t2 = f->preset.t2 != 0 ? (int32_t)f->preset.t2 : t2;
    q->t3 = f->preset.t3 != 0 ? (int32_t)f->preset.t3 : t3;
    q->reset = f->preset.reset != 0 ? (int32_t)f->preset.reset : 64;
    const int custom = f->preset.t1 != 0 || f->preset.t2 != 0 || f->preset.t3 != 0;
    if (custom && (q->t1 < q->near + 1 || q->t2 < q->t1 || q->t3 < q->t2 || q->t3 > maxval))
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, offset,
                        "JPEG-LS: thresholds T1=%d T2=%d T3=%d are invalid for NEAR %d and "
                        "MAXVAL %d", (int)q->t1, (int)q->t2, (int)q->t3, (int)q->near,
                        (int)maxval);
    if (q->reset < 3 || q->reset > (maxval > 255 ? maxval : 255))
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, offset, "JPEG-LS: RESET %d is invalid",
                        (int)q->reset);
    return DCF_OK;
}

/* ---- the coder ---- */

typedef struct jls_coder {
    jls_params p;
    int32_t step;                  /* 2 * NEAR + 1 */
    int32_t prefix_limit;          /* LIMIT - qbpp - 1: longest unary prefix */
    uint32_t max_code;             /* larger decoded values are corrupt data */
    int bad;                       /* a corrupt code was read */
    const int8_t *quant;           /* gradient -> -4..4, indexed -maxval..maxval */
    jls_ctx ctx[JLS_CONTEXTS];
    jls_ctx run_ctx[2];
    int32_t run_index[JLS_MAX_COMPONENTS];
    jls_bits bits;
} jls_coder;

/* Smallest k with n << k >= a (T.87 A.5.1), without a loop. */
JLS_INLINE int golomb_k(int32_t n, int64_t a)
{
    if (a <= n)
        return 0;
    const int k = (63 - __builtin_clzll((uint64_t)a)) - (31 - __builtin_clz((uint32_t)n));
    return k + (((uint64_t)(uint32_t)n << k) < (uint64_t)a);
}

static void reset_contexts(jls_coder *c)
{
    int32_t a = (c->p.range + 32) / 64;
    if (a < 2)
        a = 2;
    for (unsigned i = 0; i < JLS_CONTEXTS; i++)
        c->ctx[i] = (jls_ctx){.a = a, .b = 0, .c = 0, .n = 1, .nn = 0, .k = golomb_k(1, a)};
    /* Run interruption: k from A, or from A + N / 2 for RItype 1. */
    c->run_ctx[0] = (jls_ctx){.a = a, .b = 0, .c = 0, .n = 1, .nn = 0, .k = golomb_k(1, a)};
    c->run_ctx[1] = (jls_ctx){.a = a, .b = 0, .c = 0, .n = 1, .nn = 0, .k = golomb_k(1, a)};
    for (unsigned i = 0; i < JLS_MAX_COMPONENTS; i++)
        c->run_index[i] = 0;
}

/* The quantiser over every possible gradient, -maxval..maxval: no clamping
 * per sample, and only the lines around 0 are hot in the cache. */
static void build_quant(int8_t *lut, const jls_params *p)
{
    /* |d| >= T3 quantises to +-4: only the middle needs the comparisons
     * (the default T3 may pass MAXVAL when NEAR is large). */
    const int32_t inner = p->t3 <= p->maxval ? p->t3 : p->maxval + 1;
    memset(lut, -4, (size_t)(p->maxval - inner + 1));
    memset(lut + p->maxval + inner, 4, (size_t)(p->maxval - inner + 1));
    for (int32_t d = -inner + 1; d < inner; d++) {
        int8_t q;
        if (d <= -p->t3) q = -4;
        else if (d <= -p->t2) q = -3;
        else if (d <= -p->t1) q = -2;
        else if (d < -p->near) q = -1;
        else if (d <= p->near) q = 0;
        else if (d < p->t1) q = 1;
        else if (d < p->t2) q = 2;
        else if (d < p->t3) q = 3;
        else q = 4;
        lut[d + p->maxval] = q;
    }
}

JLS_INLINE int32_t quantize(const jls_coder *c, int32_t d)
{
    return c->quant[d];  /* quant points at the table's middle */
}

/* Signed context number: 81 Q1 + 9 Q2 + Q3. Its sign is that of the first
 * non-zero Qi, so |q| and sign(q) are T.87's Q and SIGN. */
JLS_INLINE int32_t context_of(const jls_coder *c, int32_t ra, int32_t rb, int32_t rc,
                              int32_t rd)
{
    return 81 * quantize(c, rd - rb) + 9 * quantize(c, rb - rc) + quantize(c, rc - ra);
}

/* MED (A.4.1) is Ra + Rb - Rc clamped to [min(Ra, Rb), max(Ra, Rb)]: no
 * data-dependent branch. */
JLS_INLINE int32_t median_predict(int32_t ra, int32_t rb, int32_t rc)
{
    const int32_t lo = ra < rb ? ra : rb, hi = ra < rb ? rb : ra;
    const int32_t p = ra + rb - rc;
    const int32_t floor_lo = p < lo ? lo : p;
    return floor_lo > hi ? hi : floor_lo;
}


/* Limited-length Golomb code (A.5.3): a unary prefix of at most
 * `prefix_limit` zeros, then k bits; a prefix of exactly prefix_limit zeros
 * escapes to qbpp bits holding value - 1. */
static uint32_t golomb_slow(jls_coder *c, int k, int prefix_limit)
{
    jls_bits *b = &c->bits;
    int zeros = 0;
    for (;;) {
        jls_bits_fill(b);
        const int lz = b->buf ? __builtin_clzll(b->buf) : 64;
        if (lz < b->count) {
            zeros += lz;
            if (zeros > prefix_limit)
                break;
            jls_bits_skip(b, lz);
            jls_bits_skip(b, 1);
            if (zeros == prefix_limit)
                return jls_bits_read(b, c->p.qbpp) + 1u;
            return ((uint32_t)zeros << k) | jls_bits_read(b, k);
        }
        zeros += b->count;
        b->buf = 0;
        b->count = 0;
        if (zeros > prefix_limit)
            break;
    }
    c->bad = 1;
    return 0;
}

/* The callers fill the buffer before each sample; a code that does not fit
 * what is left goes to the slow path, which fills as it goes. */
JLS_INLINE uint32_t golomb(jls_coder *c, int k, int prefix_limit)
{
    jls_bits *b = &c->bits;
    const uint64_t v = b->buf;
    if (v != 0) {
        const int z = __builtin_clzll(v);
        /* k <= qbpp + 2 < 32: A / N is bounded by the values max_code lets through. */
        if (z < prefix_limit && z + 1 + k <= b->count) {
            const uint64_t rest = (v << z) << 1;
            const uint32_t value = ((uint32_t)z << k) | (uint32_t)((rest >> 1) >> (63 - k));
            b->buf = rest << k;
            b->count -= z + 1 + k;
            return value;
        }
    }
    return golomb_slow(c, k, prefix_limit);
}

/* Modulo reduction and clamping of a reconstructed value (A.4.5 / A.6). */
JLS_INLINE int32_t reconstruct(const jls_coder *c, int32_t px, int32_t err, const int lossless)
{
    /* Lossless with RANGE = MAXVAL + 1 = 2^P (the lossless instances are
     * only used then): the modulo is a mask. */
    if (lossless)
        return (px + err) & c->p.maxval;
    const int32_t step = lossless ? 1 : c->step;
    const int32_t wrap = lossless ? c->p.range : c->p.range * step;
    int32_t rx = px + err * step;
    if (rx < -(lossless ? 0 : c->p.near))
        rx += wrap;
    else if (rx > c->p.maxval + (lossless ? 0 : c->p.near))
        rx -= wrap;
    /* Valid data needs no clamp when lossless; corrupt data might. */
    return rx < 0 ? 0 : rx > c->p.maxval ? c->p.maxval : rx;
}

/* One regular-mode sample (A.4 - A.6) in context q (signed). */
JLS_INLINE int32_t decode_regular(jls_coder *c, int32_t q, int32_t predicted,
                                  const int lossless)
{
    const int32_t sign = q >> 31;  /* 0 or -1 */
    jls_ctx *x = &c->ctx[(q ^ sign) - sign];
    int32_t px = predicted + ((x->c ^ sign) - sign);
    px = px < 0 ? 0 : px > c->p.maxval ? c->p.maxval : px;

    const int k = x->k;
    jls_bits_fill(&c->bits);
    uint32_t m = golomb(c, k, c->prefix_limit);
    if (m > c->max_code) {
        c->bad = 1;
        m = 0;
    }
    int32_t e = (int32_t)(m >> 1) ^ -(int32_t)(m & 1u);
    if ((lossless || c->p.near == 0) && k == 0 && 2 * x->b <= -x->n)
        e = ~e;

    /* Context update and bias correction (A.6). */
    x->b += e * (lossless ? 1 : c->step);
    x->a += (e ^ (e >> 31)) - (e >> 31);  /* |e| without a branch */
    if (x->n == c->p.reset) {
        x->a >>= 1;
        x->b >>= 1;
        x->n >>= 1;
    }
    x->n++;
    x->k = golomb_k(x->n, x->a);
    if (x->b <= -x->n) {
        x->b += x->n;
        if (x->c > -128)
            x->c--;
        if (x->b <= -x->n)
            x->b = -x->n + 1;
    } else if (x->b > 0) {
        x->b -= x->n;
        if (x->c < 127)
            x->c++;
        if (x->b > 0)
            x->b = 0;
    }
    return reconstruct(c, px, (e ^ sign) - sign, lossless);
}

/* Run interruption sample (A.7.2), RItype 0 or 1, with px its prediction
 * and `negate` set when the error is coded with the opposite sign. */
JLS_INLINE int32_t decode_interruption(jls_coder *c, int ritype, int32_t px, int negate,
                                       int32_t run_index, const int lossless)
{
    jls_ctx *x = &c->run_ctx[ritype];
    const int k = x->k;
    jls_bits_fill(&c->bits);
    uint32_t em = golomb(c, k, c->prefix_limit - J[run_index] - 1);
    if (em > c->max_code) {
        c->bad = 1;
        em = 0;
    }
    const uint32_t t = em + (uint32_t)ritype;
    const int32_t map = (int32_t)(t & 1u);
    const int32_t magnitude = (int32_t)((t + (uint32_t)map) >> 1);
    const int negative = map == (k != 0 || 2 * x->nn >= x->n);
    int32_t e = negative ? -magnitude : magnitude;

    if (e < 0)
        x->nn++;
    x->a += (int32_t)((em + 1u - (uint32_t)ritype) >> 1);
    if (x->n == c->p.reset) {
        x->a >>= 1;
        x->n >>= 1;
        x->nn >>= 1;
    }
    x->n++;
    x->k = golomb_k(x->n, ritype ? x->a + (x->n >> 1) : x->a);
    return reconstruct(c, px, negate ? -e : e, lossless);
}

/* Run mode for one component (A.7.1) from sample x of `cur` (1-based line
 * buffers: index i holds sample i - 1). Returns the next sample position. */
JLS_INLINE uint32_t decode_run(jls_coder *c, int32_t *cur, const int32_t *prev, uint32_t x,
                               uint32_t width, int32_t *run_index, const int lossless)
{
    jls_bits *b = &c->bits;
    const int32_t ra = cur[x];
    int32_t ri = *run_index;

    for (;;) {
        if (b->count == 0)
            jls_bits_fill(b);
        const int bit = (int)(b->buf >> 63);
        jls_bits_skip(b, 1);
        if (bit) {
            const uint32_t rk = 1u << J[ri];
            const uint32_t n = rk < width - x ? rk : width - x;
            for (uint32_t i = 0; i < n; i++)
                cur[x + 1 + i] = ra;
            x += n;
            if (n == rk && ri < 31)
                ri++;
            if (x == width) {
                *run_index = ri;
                return x;
            }
        } else {
            const uint32_t n = jls_bits_read(b, J[ri]);
            if (n >= width - x) {
                c->bad = 1;
                for (; x < width; x++)
                    cur[x + 1] = ra;
                *run_index = ri;
                return x;
            }
            for (uint32_t i = 0; i < n; i++)
                cur[x + 1 + i] = ra;
            x += n;
            const int32_t rb = prev[x + 1];
            const int32_t d = ra - rb;
            const int ritype = (d < 0 ? -d : d) <= c->p.near;
            cur[x + 1] = decode_interruption(c, ritype, ritype ? ra : rb, !ritype && ra > rb,
                                             ri, lossless);
            if (ri > 0)
                ri--;
            *run_index = ri;
            return x + 1;
        }
    }
}

/* One line of one component: cur/prev are 1-based with the edges set. */
JLS_INLINE void decode_line(jls_coder *c, int32_t *cur, const int32_t *prev, uint32_t width,
                            int32_t *run_index, const int lossless)
{
    uint32_t x = 0;
    int32_t ra = cur[0], rc = prev[0], rb = prev[1];
    while (x < width) {
        const int32_t rd = prev[x + 2];
        const int32_t q = context_of(c, ra, rb, rc, rd);
        if (q != 0) {
            ra = decode_regular(c, q, median_predict(ra, rb, rc), lossless);
            cur[x + 1] = ra;
            x++;
        } else {
            x = decode_run(c, cur, prev, x, width, run_index, lossless);
            ra = cur[x];
        }
        rc = prev[x];
        rb = prev[x + 1];
    }
}

static void decode_line_lossless(jls_coder *c, int32_t *cur, const int32_t *prev,
                                 uint32_t width, int32_t *run_index)
{
    decode_line(c, cur, prev, width, run_index, 1);
}

static void decode_line_near(jls_coder *c, int32_t *cur, const int32_t *prev, uint32_t width,
                             int32_t *run_index)
{
    decode_line(c, cur, prev, width, run_index, 0);
}

/* Sample interleave (ILV 2): nc components per pixel, buffers 1-based in
 * pixels (index (i * nc + comp) holds pixel i - 1). The run mode covers
 * whole pixels and starts only where every component's context is 0. */
JLS_INLINE void decode_line_pixels(jls_coder *c, int32_t *cur, const int32_t *prev,
                                   uint32_t width, const unsigned nc, const int lossless)
{
    jls_bits *b = &c->bits;
    uint32_t x = 0;
    /* Ra, Rb, Rc of each component stay in registers from pixel to pixel
     * (nc is a constant and the loops unroll): the just-decoded sample is
     * not read back through memory on the critical path. */
    int32_t ra[JLS_MAX_COMPONENTS], rb[JLS_MAX_COMPONENTS], rc[JLS_MAX_COMPONENTS];
#pragma GCC unroll 4
    for (unsigned k = 0; k < nc; k++) {
        ra[k] = cur[k];
        rc[k] = prev[k];
        rb[k] = prev[nc + k];
    }
    while (x < width) {
        int32_t q[JLS_MAX_COMPONENTS], rd[JLS_MAX_COMPONENTS];
        int any = 0;
#pragma GCC unroll 4
        for (unsigned k = 0; k < nc; k++) {
            rd[k] = prev[(x + 2) * nc + k];
            q[k] = context_of(c, ra[k], rb[k], rc[k], rd[k]);
            any |= q[k];
        }
        if (any) {
#pragma GCC unroll 4
            for (unsigned k = 0; k < nc; k++) {
                ra[k] = decode_regular(c, q[k], median_predict(ra[k], rb[k], rc[k]), lossless);
                cur[(x + 1) * nc + k] = ra[k];
                rc[k] = rb[k];
                rb[k] = rd[k];
            }
            x++;
            continue;
        }
        /* Run of whole pixels equal to the one on the left. */
        int32_t ri = c->run_index[0];
        for (;;) {
            if (b->count == 0)
                jls_bits_fill(b);
            const int bit = (int)(b->buf >> 63);
            jls_bits_skip(b, 1);
            uint32_t n;
            if (bit) {
                const uint32_t rk = 1u << J[ri];
                n = rk < width - x ? rk : width - x;
                if (n == rk && ri < 31)
                    ri++;
            } else {
                n = jls_bits_read(b, J[ri]);
                if (n >= width - x) {
                    c->bad = 1;
                    n = width - x;
                }
            }
            for (uint32_t i = 0; i < n; i++)
                for (unsigned k = 0; k < nc; k++)
                    cur[(x + 1 + i) * nc + k] = cur[x * nc + k];
            x += n;
            if (x == width)
                break;
            if (!bit) {
                /* Interruption: each component as RItype 0, predicted by Rb. */
                for (unsigned k = 0; k < nc; k++) {
                    const int32_t ra = cur[x * nc + k], rb = prev[(x + 1) * nc + k];
                    cur[(x + 1) * nc + k] = decode_interruption(c, 0, rb, ra > rb, ri, lossless);
                }
                if (ri > 0)
                    ri--;
                x++;
                break;
            }
        }
        c->run_index[0] = ri;
#pragma GCC unroll 4
        for (unsigned k = 0; k < nc; k++) {
            ra[k] = cur[x * nc + k];
            rc[k] = prev[x * nc + k];
            rb[k] = prev[(x + 1) * nc + k];
        }
    }
}

static void decode_pixels_lossless(jls_coder *c, int32_t *cur, const int32_t *prev,
                                   uint32_t width, unsigned nc)
{
    switch (nc) {
    case 2: decode_line_pixels(c, cur, prev, width, 2, 1); break;
    case 3: decode_line_pixels(c, cur, prev, width, 3, 1); break;
    default: decode_line_pixels(c, cur, prev, width, 4, 1); break;
    }
}

static void decode_pixels_near(jls_coder *c, int32_t *cur, const int32_t *prev,
                               uint32_t width, unsigned nc)
{
    switch (nc) {
    case 2: decode_line_pixels(c, cur, prev, width, 2, 0); break;
    case 3: decode_line_pixels(c, cur, prev, width, 3, 0); break;
    default: decode_line_pixels(c, cur, prev, width, 4, 0); break;
    }
}

/* ---- storing lines ---- */

/* Store `width` values (every `in_step`-th of `in`) as line y of component
 * comp of the output. */
static void store_line(const jls_output *o, uint32_t y, unsigned comp, const int32_t *in,
                       size_t in_step, uint32_t width)
{
    uint8_t *d = o->dst + (y * o->row_stride + comp * o->comp_stride) * o->bytes;
    const size_t step = o->pixel_stride;
    const unsigned p = o->precision;

    if (step == 1 && in_step == 1 && !o->sign_extend) {
        /* Contiguous in and out (one component, or a pixel-interleaved line
         * stored whole): loops the compiler vectorises. */
        if (o->bytes == 1)
            for (uint32_t x = 0; x < width; x++)
                d[x] = (uint8_t)in[x];
        else if (o->bytes == 2)
            for (uint32_t x = 0; x < width; x++)
                ((uint16_t *)(void *)d)[x] = (uint16_t)in[x];
        else
            for (uint32_t x = 0; x < width; x++)
                ((uint32_t *)(void *)d)[x] = (uint32_t)in[x];
        return;
    }
    /* dcf_extend_bits with is_signed 0 only masks to P bits, which samples
     * of at most MAXVAL < 2^P already are. */
    if (o->bytes == 1) {
        for (uint32_t x = 0; x < width; x++)
            d[x * step] = (uint8_t)dcf_extend_bits((uint32_t)in[x * in_step], p, o->sign_extend);
    } else if (o->bytes == 2) {
        uint16_t *d16 = (uint16_t *)(void *)d;
        for (uint32_t x = 0; x < width; x++)
            d16[x * step] = (uint16_t)dcf_extend_bits((uint32_t)in[x * in_step], p, o->sign_extend);
    } else {
        uint32_t *d32 = (uint32_t *)(void *)d;
        for (uint32_t x = 0; x < width; x++)
            d32[x * step] = dcf_extend_bits((uint32_t)in[x * in_step], p, o->sign_extend);
    }
}

/* ---- the scan ---- */

static dcf_status data_error(const jls_coder *c, const uint8_t *src, size_t size,
                             uint32_t line, const jls_scan *s, dcf_error *err)
{
    const size_t at = (size_t)(c->bits.p - src);
    if (c->bits.end == src + size && c->bits.pad > (uint64_t)c->bits.count)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, at,
                        "JPEG-LS: the frame is truncated: its data ends (at byte %zu) in "
                        "line %u of the scan at offset %zu", size, (unsigned)line + 1u,
                        s->sos_offset);
    if (c->bits.pad > (uint64_t)c->bits.count)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, (size_t)(c->bits.end - src),
                        "JPEG-LS: the scan at offset %zu ends at marker 0xFF%02X (offset %zu) "
                        "in line %u: corrupt data", s->sos_offset,
                        c->bits.end + 1 < src + size ? c->bits.end[1] : 0,
                        (size_t)(c->bits.end - src), (unsigned)line + 1u);
    return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                    "JPEG-LS: invalid code in line %u of the scan at offset %zu: corrupt data",
                    (unsigned)line + 1u, s->sos_offset);
}

dcf_status jls_decode_scan(const uint8_t *src, size_t size, const jls_frame *f,
                           const jls_scan *s, const jls_params *params, int32_t *lines,
                           int8_t *quant, const jls_output *out, size_t *next, dcf_error *err)
{
    const uint32_t width = f->columns, rows = f->rows;
    const unsigned nc = s->count;
    const size_t line_len = ((size_t)width + 2) * nc;   /* ILV 2: one line of pixels */
    /* The "lossless" instances: NEAR 0 and MAXVAL + 1 a power of two. */
    const int lossless = params->near == 0 && (params->maxval & (params->maxval + 1)) == 0;
    jls_coder *c = malloc(sizeof(*c));
    dcf_status st = DCF_OK;

    if (c == NULL)
        return dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, s->sos_offset,
                        "JPEG-LS: cannot allocate the decoder state");
    c->p = *params;
    c->step = 2 * params->near + 1;
    c->prefix_limit = params->limit - params->qbpp - 1;
    c->max_code = 2u << params->qbpp;
    c->bad = 0;
    build_quant(quant, params);
    c->quant = quant + params->maxval;
    reset_contexts(c);
    memset(lines, 0, 2 * line_len * sizeof(int32_t));
    jls_bits_init(&c->bits, src + s->data, src + size);

    /* ILV 0/1: component k's lines at lines + 2k(width+2) (prev, cur);
     * ILV 2: prev and cur are the two halves. */
    int32_t *prev_of[JLS_MAX_COMPONENTS], *cur_of[JLS_MAX_COMPONENTS];
    for (unsigned k = 0; k < nc; k++) {
        prev_of[k] = lines + 2 * k * ((size_t)width + 2);
        cur_of[k] = prev_of[k] + width + 2;
    }
    int32_t *prev = lines, *cur = lines + line_len;
    /* A pixel-interleaved scan of every component in order, stored
     * interleaved: each line is one contiguous run of samples. */
    int whole_pixels = s->ilv == 2 && out->pixel_stride == nc && out->comp_stride == 1;
    for (unsigned k = 0; k < nc; k++)
        whole_pixels &= s->index[k] == k;
    jls_output flat = *out;
    flat.pixel_stride = 1;

    for (uint32_t y = 0; y < rows; y++) {
        if (f->restart_interval != 0 && y != 0 && y % f->restart_interval == 0) {
            /* Byte-aligned RSTm; contexts, run indices and lines restart. */
            const size_t m = jls_find_marker(src, size, (size_t)(c->bits.p - src));
            if (m + 1 >= size || src[m + 1] < 0xD0 || src[m + 1] > 0xD7) {
                st = m >= size ? DCF_E_TRUNCATED : DCF_E_CODEC;
                st = dcf_fail(err, st, DCF_NO_TAG, m,
                              "JPEG-LS: no restart marker before line %u of the scan at "
                              "offset %zu (restart interval %u)%s", (unsigned)y + 1u,
                              s->sos_offset, (unsigned)f->restart_interval,
                              m >= size ? ": the frame is truncated" : "");
                goto done;
            }
            reset_contexts(c);
            memset(lines, 0, 2 * line_len * sizeof(int32_t));
            jls_bits_init(&c->bits, src + m + 2, src + size);
        }
        if (s->ilv == 2) {
            int32_t *t = prev;
            prev = cur;
            cur = t;
            for (unsigned k = 0; k < nc; k++) {
                prev[(width + 1) * nc + k] = prev[width * nc + k];
                cur[k] = prev[nc + k];
            }
            if (lossless)
                decode_pixels_lossless(c, cur, prev, width, nc);
            else
                decode_pixels_near(c, cur, prev, width, nc);
            if (whole_pixels)
                store_line(&flat, y, 0, cur + nc, 1, width * nc);
            else
                for (unsigned k = 0; k < nc; k++)
                    store_line(out, y, s->index[k], cur + nc + k, nc, width);
        } else {
            for (unsigned k = 0; k < nc; k++) {
                int32_t *t = prev_of[k];
                prev_of[k] = cur_of[k];
                cur_of[k] = t;
                int32_t *pl = prev_of[k], *cl = cur_of[k];
                pl[width + 1] = pl[width];
                cl[0] = pl[1];
                if (lossless)
                    decode_line_lossless(c, cl, pl, width, &c->run_index[k]);
                else
                    decode_line_near(c, cl, pl, width, &c->run_index[k]);
                store_line(out, y, s->index[k], cl + 1, 1, width);
            }
        }
        if (c->bad || c->bits.pad > (uint64_t)c->bits.count) {
            st = data_error(c, src, size, y, s, err);
            goto done;
        }
    }
    *next = (size_t)(c->bits.p - src);

done:
    free(c);
    return st;
}
