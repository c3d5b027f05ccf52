/* 12-bit sequential DCT scans with Huffman coding (T.81 process 4, F.2):
 * DC differences and AC run/size symbols per 8x8 block, dequantisation and
 * an integer inverse DCT.
 *
 * The IDCT is the Loeffler-Ligtenberg-Moschytz factorisation with 13-bit
 * fixed-point constants that IJG's "islow" method uses, with its 12-bit
 * scaling (one extra bit kept after the column pass, an int workspace) and
 * its output range limiting: the descaled value is taken modulo 4 * 4096,
 * read as signed, shifted by 2048 and clamped to 0..4095. So for any input
 * the samples equal libjpeg(-turbo)'s 12-bit JDCT_ISLOW output.
 *
 * Sequential scans ignore Ss/Se/Ah/Al (some encoders write Se = 0). */
#include <string.h>

#include "dcf_config.h"
#include "dcf_jpeg_internal.h"

#define CONST_BITS 13
#define PASS1_BITS 1

#define FIX_0_298631336 ((int64_t)2446)
#define FIX_0_390180644 ((int64_t)3196)
#define FIX_0_541196100 ((int64_t)4433)
#define FIX_0_765366865 ((int64_t)6270)
#define FIX_0_899976223 ((int64_t)7373)
#define FIX_1_175875602 ((int64_t)9633)
#define FIX_1_501321110 ((int64_t)12299)
#define FIX_1_847759065 ((int64_t)15137)
#define FIX_1_961570560 ((int64_t)16069)
#define FIX_2_053119869 ((int64_t)16819)
#define FIX_2_562915447 ((int64_t)20995)
#define FIX_3_072711026 ((int64_t)25172)

/* Round to nearest, halves up, dividing by 2^n (arithmetic shift). */
static inline int64_t descale(int64_t x, int n)
{
    return (x + ((int64_t)1 << (n - 1))) >> n;
}

/* Two's complement truncation to 32 bits, as a C int holds it. */
static inline int32_t to_int32(int64_t x)
{
    return (int32_t)(uint32_t)(uint64_t)x;
}

static inline uint16_t range_limit(int64_t x)
{
    const uint32_t t = (uint32_t)to_int32(x) & (4u * 4096u - 1u);
    const int32_t s = t < 2u * 4096u ? (int32_t)t : (int32_t)t - 4 * 4096;
    const int32_t v = s + 2048;
    return (uint16_t)(v < 0 ? 0 : v > 4095 ? 4095 : v);
}

/* One 1-D pass over 8 values in[0..7]: the LL&M butterflies. Results, before
 * descaling, in o[0..7]. `even0` and `even4` are in[0] and in[4]. */
static inline void idct_1d(int64_t i0, int64_t i1, int64_t i2, int64_t i3, int64_t i4,
                           int64_t i5, int64_t i6, int64_t i7, int64_t o[8])
{
    int64_t z1, z2, z3, z4, z5, t0, t1, t2, t3, t10, t11, t12, t13;

    /* Even part. */
    z1 = (i2 + i6) * FIX_0_541196100;
    t2 = z1 + i6 * (-FIX_1_847759065);
    t3 = z1 + i2 * FIX_0_765366865;
    t0 = (i0 + i4) * ((int64_t)1 << CONST_BITS);
    t1 = (i0 - i4) * ((int64_t)1 << CONST_BITS);
    t10 = t0 + t3;
    t13 = t0 - t3;
    t11 = t1 + t2;
    t12 = t1 - t2;

    /* Odd part. */
    t0 = i7;
    t1 = i5;
    t2 = i3;
    t3 = i1;
    z1 = t0 + t3;
    z2 = t1 + t2;
    z3 = t0 + t2;
    z4 = t1 + t3;
    z5 = (z3 + z4) * FIX_1_175875602;
    t0 *= FIX_0_298631336;
    t1 *= FIX_2_053119869;
    t2 *= FIX_3_072711026;
    t3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 *= -FIX_1_961570560;
    z4 *= -FIX_0_390180644;
    z3 += z5;
    z4 += z5;
    t0 += z1 + z3;
    t1 += z2 + z4;
    t2 += z2 + z3;
    t3 += z1 + z4;

    o[0] = t10 + t3;
    o[7] = t10 - t3;
    o[1] = t11 + t2;
    o[6] = t11 - t2;
    o[2] = t12 + t1;
    o[5] = t12 - t1;
    o[3] = t13 + t0;
    o[4] = t13 - t0;
}

/* A block with no AC coefficient: what jpeg_idct_islow12 gives for it. */
static void idct_dc_only(int16_t dc, const uint16_t *q, uint16_t *out, size_t stride)
{
    const int32_t w0 = to_int32((int64_t)dc * q[0] * ((int64_t)1 << PASS1_BITS));
    const uint16_t v = range_limit(descale((int64_t)w0 * ((int64_t)1 << CONST_BITS),
                                           CONST_BITS + PASS1_BITS + 3));
    for (int r = 0; r < 8; r++)
        for (int k = 0; k < 8; k++)
            out[(size_t)r * stride + k] = v;
}

static void idct_cols64(const int16_t *coef, const uint16_t *q, int32_t *ws)
{
    int64_t o[8];

    /* Columns: dequantise, transform, keep PASS1_BITS extra bits. */
    for (int c = 0; c < 8; c++) {
        int64_t in[8];
        int ac = 0;
        for (int r = 0; r < 8; r++) {
            in[r] = (int64_t)coef[r * 8 + c] * (int64_t)q[r * 8 + c];
            if (r > 0 && coef[r * 8 + c] != 0)
                ac = 1;
        }
        if (!ac) {
            const int32_t dc = to_int32(in[0] * ((int64_t)1 << PASS1_BITS));
            for (int r = 0; r < 8; r++)
                ws[r * 8 + c] = dc;
            continue;
        }
        idct_1d(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], o);
        for (int r = 0; r < 8; r++)
            ws[r * 8 + c] = to_int32(descale(o[r], CONST_BITS - PASS1_BITS));
    }
}

static void idct_rows64(const int32_t *ws, uint16_t *out, size_t stride)
{
    int64_t o[8];

    /* Rows: transform, descale by the remaining bits and 8, range-limit. */
    for (int r = 0; r < 8; r++) {
        const int32_t *w = ws + r * 8;
        uint16_t *dst = out + (size_t)r * stride;
        if ((w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) == 0) {
            /* The full transform of a row holding only w[0] gives this. */
            const uint16_t v = range_limit(descale((int64_t)w[0] * ((int64_t)1 << CONST_BITS),
                                                   CONST_BITS + PASS1_BITS + 3));
            for (int k = 0; k < 8; k++)
                dst[k] = v;
            continue;
        }
        idct_1d(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], o);
        for (int k = 0; k < 8; k++)
            dst[k] = range_limit(descale(o[k], CONST_BITS + PASS1_BITS + 3));
    }
}


/* The same transform in 32-bit arithmetic, eight lanes at once (the
 * compiler vectorises the loops over `l`). Each output of idct_1d is a
 * linear form in its inputs whose coefficients' absolute values add up to at
 * most IDCT_L1 (61214, from the unit vectors); with every input within
 * IDCT_LIMIT the exact result plus the rounding term lies in int32, so the
 * sums taken modulo 2^32 (unsigned, no overflow) and the arithmetic shift
 * give exactly the 64-bit values. Blocks or passes with larger inputs take
 * the 64-bit path above. */
#define IDCT_LIMIT 35000

/* in[j * 8 + l]: input j of lane l; o[k * 8 + l]: output k, not descaled. */
static inline void idct_8x(const int32_t *in, uint32_t *o)
{
    for (int l = 0; l < 8; l++) {
        const uint32_t i0 = (uint32_t)in[l], i1 = (uint32_t)in[8 + l],
                       i2 = (uint32_t)in[16 + l], i3 = (uint32_t)in[24 + l],
                       i4 = (uint32_t)in[32 + l], i5 = (uint32_t)in[40 + l],
                       i6 = (uint32_t)in[48 + l], i7 = (uint32_t)in[56 + l];
        uint32_t z1, z2, z3, z4, z5, t0, t1, t2, t3, t10, t11, t12, t13;

        z1 = (i2 + i6) * 4433u;
        t2 = z1 - i6 * 15137u;
        t3 = z1 + i2 * 6270u;
        t0 = (i0 + i4) << CONST_BITS;
        t1 = (i0 - i4) << CONST_BITS;
        t10 = t0 + t3;
        t13 = t0 - t3;
        t11 = t1 + t2;
        t12 = t1 - t2;

        z1 = i7 + i1;
        z2 = i5 + i3;
        z3 = i7 + i3;
        z4 = i5 + i1;
        z5 = (z3 + z4) * 9633u;
        t0 = i7 * 2446u;
        t1 = i5 * 16819u;
        t2 = i3 * 25172u;
        t3 = i1 * 12299u;
        z1 *= 0u - 7373u;
        z2 *= 0u - 20995u;
        z3 *= 0u - 16069u;
        z4 *= 0u - 3196u;
        z3 += z5;
        z4 += z5;
        t0 += z1 + z3;
        t1 += z2 + z4;
        t2 += z2 + z3;
        t3 += z1 + z4;

        o[l] = t10 + t3;
        o[56 + l] = t10 - t3;
        o[8 + l] = t11 + t2;
        o[48 + l] = t11 - t2;
        o[16 + l] = t12 + t1;
        o[40 + l] = t12 - t1;
        o[24 + l] = t13 + t0;
        o[32 + l] = t13 - t0;
    }
}

/* With GCC or Clang on x86-64 glibc (ELF, ifunc), an AVX2 clone is picked at load
 * time where the CPU has it: eight 32-bit lanes in one register. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__GLIBC__) && \
    (defined(__GNUC__) || defined(__clang__)) && \
    !defined(DCF_NO_TARGET_CLONES)
__attribute__((target_clones("avx2", "default")))
#endif
void jpeg_idct_islow12(const int16_t *coef, const uint16_t *q, uint16_t *out, size_t stride)
{
    int32_t in[64], ws[64], wt[64];
    uint32_t o[64];
    uint16_t v[64];
    int big = 0;

    /* coef * q always fits in int32 (|coef| <= 32768, q <= 65535). */
    for (int i = 0; i < 64; i++) {
        in[i] = (int32_t)coef[i] * (int32_t)q[i];
        big |= (uint32_t)in[i] + IDCT_LIMIT > 2u * IDCT_LIMIT;
    }
    if (big) {
        idct_cols64(coef, q, ws);
    } else {
        /* Columns: lane = column, input j = row j. */
        idct_8x(in, o);
        for (int i = 0; i < 64; i++)
            ws[i] = (int32_t)(o[i] + (1u << (CONST_BITS - PASS1_BITS - 1))) >>
                    (CONST_BITS - PASS1_BITS);
    }
    big = 0;
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++) {
            wt[c * 8 + r] = ws[r * 8 + c];
            big |= (uint32_t)ws[r * 8 + c] + IDCT_LIMIT > 2u * IDCT_LIMIT;
        }
    if (big) {
        idct_rows64(ws, out, stride);
        return;
    }
    /* Rows: lane = row, input j = column j; output k of row r at o[k*8+r].
     * Range limit as range_limit(): u = (x + 2048) mod 16384 is the signed
     * value s + 2048 when below 10240 and s + 2048 + 16384 above. */
    idct_8x(wt, o);
    for (int i = 0; i < 64; i++) {
        /* |x| < 2^14 here, so x + 2048 and the compares stay signed. */
        const int32_t x = (int32_t)(o[i] + (1u << (CONST_BITS + PASS1_BITS + 2))) >>
                          (CONST_BITS + PASS1_BITS + 3);
        const int32_t u = (x + 2048) & (4 * 4096 - 1);
        const int32_t m = u > 4095 ? 4095 : u;
        v[i] = (uint16_t)(u >= 10240 ? 0 : m);
    }
    for (int r = 0; r < 8; r++)
        for (int k = 0; k < 8; k++)
            out[(size_t)r * stride + k] = v[k * 8 + r];
}

/* AC symbols with their extra bits in one lookup: for the next
 * JPEG_FAST_BITS bits, (value << 16) | (run << 8) | bits used, with bit 12
 * set for EOB / ZRL (no extra bits; run 0 or 15); 0 when code and extra bits
 * do not both fit (the general path decodes those). */
#define AC_NOVALUE 0x1000
static void build_ac_fast(const jpeg_huff *h, int32_t *table)
{
    for (uint32_t j = 0; j < (1u << JPEG_FAST_BITS); j++) {
        const unsigned e = h->fast[j];
        unsigned len, sym, s, r;
        table[j] = 0;
        if (e == 0)
            continue;
        len = e >> 8;
        sym = e & 0xFFu;
        r = sym >> 4;
        s = sym & 15u;
        if (s == 0) {
            if (r == 0 || r == 15)
                table[j] = (int32_t)(AC_NOVALUE | (r << 8) | len);
            continue;
        }
        if (len + s <= JPEG_FAST_BITS) {
            const uint32_t v = (j >> (JPEG_FAST_BITS - len - s)) & ((1u << s) - 1u);
            const int32_t value = jpeg_extend(v, s);
            table[j] = (int32_t)(((uint32_t)value << 16) | (r << 8) | (len + s));
        }
    }
}

/* A symbol ac_fast did not resolve, at coefficient k: its coefficient or
 * run. Returns the index the loop continues from (k of the last position
 * consumed; 64 after EOB), or 0 for an undefined code. */
static unsigned decode_ac_slow(jpeg_bits *b, const jpeg_huff *ac, int16_t *coef, unsigned k,
                               int *has_ac)
{
    int s = jpeg_huff_decode(b, ac);
    unsigned r;
    if (s < 0)
        return 0;
    r = (unsigned)s >> 4;
    s &= 15;
    if (s != 0) {
        const uint32_t v = jpeg_get_bits(b, (unsigned)s);
        k += r;
        /* Runs past the last coefficient land on it, as in IJG. */
        coef[dcf_jpeg_zigzag[k]] = (int16_t)jpeg_extend(v, (unsigned)s);
        *has_ac = 1;
        return k;
    }
    if (r != 15)
        return 64;
    return k + 15;
}

/* One block's coefficients (natural order) from the entropy-coded data.
 * Returns 1 if it has AC coefficients, 0 if only DC, -1 for an undefined
 * code or a DC category above 15. */
static inline int decode_block(jpeg_bits *b, const jpeg_huff *dc, const jpeg_huff *ac,
                               const int32_t *ac_fast, int32_t *last_dc, int16_t *coef)
{
    int s, has_ac = 0;

    memset(coef, 0, 64 * sizeof(*coef));
    if (b->count < 32)
        jpeg_bits_fill(b);
    s = jpeg_huff_decode(b, dc);
    if (s < 0 || s > 15)
        return -1;
    if (s > 0) {
        const uint32_t v = jpeg_get_bits(b, (unsigned)s);
        *last_dc = (int32_t)((uint32_t)*last_dc + (uint32_t)jpeg_extend(v, (unsigned)s));
    }
    coef[0] = (int16_t)(uint16_t)(uint32_t)*last_dc;
    {
        /* The reader's buffer in locals while symbols come from ac_fast. */
        uint64_t buf = b->buf;
        unsigned cnt = b->count;
        for (unsigned k = 1; k < 64; k++) {
            int32_t e;
            unsigned r;
            /* At least 32 bits: a code (<= 16) and its extra bits (<= 15). */
            if (cnt < 32) {
                b->buf = buf;
                b->count = cnt;
                jpeg_bits_fill(b);
                buf = b->buf;
                cnt = b->count;
            }
            e = ac_fast[buf >> (64 - JPEG_FAST_BITS)];
            if (e != 0) {
                const unsigned used = (unsigned)e & 0xFFu;
                buf <<= used;
                cnt -= used;
                r = ((unsigned)e >> 8) & 15u;
                if (e & AC_NOVALUE) {
                    if (r != 15)
                        break;
                    k += 15;
                    continue;
                }
                k += r;
                coef[dcf_jpeg_zigzag[k]] = (int16_t)(e >> 16);
                has_ac = 1;
                continue;
            }
            b->buf = buf;
            b->count = cnt;
            k = decode_ac_slow(b, ac, coef, k, &has_ac);
            if (k == 0)
                return -1;
            buf = b->buf;
            cnt = b->count;
        }
        b->buf = buf;
        b->count = cnt;
    }
    return has_ac;
}

static dcf_status bad_block(const jpeg_bits *b, dcf_error *err)
{
    return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, b->pos,
                    "JPEG 12-bit DCT: invalid Huffman code or coefficient near offset %zu",
                    b->pos);
}

static dcf_status overrun(const jpeg_bits *b, uint32_t row, dcf_error *err)
{
    if (b->pos >= b->size)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, b->pos,
                        "JPEG 12-bit DCT: the data ends inside the scan (block row %u)", row);
    return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, b->pos,
                    "JPEG 12-bit DCT: marker FF%02X at offset %zu interrupts the scan "
                    "(block row %u)",
                    b->pos + 1 < b->size ? (unsigned)b->src[b->pos + 1] : 0u, b->pos, row);
}

dcf_status jpeg_decode_dct_scan(const uint8_t *src, size_t size, jpeg_frame *f,
                                const jpeg_scan *s, const jpeg_tables *t,
                                size_t *end, dcf_error *err)
{
    const uint64_t at = s->data;
    const uint32_t ri = t->restart_interval;
    uint32_t restarts_left = ri;
    int32_t last_dc[DCF_JPEG_MAX_COMPONENTS] = {0, 0, 0, 0};
    int16_t coef[64];
    int32_t ac_fast[DCF_JPEG_MAX_COMPONENTS][1u << JPEG_FAST_BITS];
    uint32_t mcux, mcuy;
    jpeg_bits b;

    for (unsigned i = 0; i < s->ns; i++) {
        const jpeg_component *c = &f->comp[s->ci[i]];
        if (!t->dc[s->td[i]].defined || !t->ac[s->ta[i]].defined)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG 12-bit DCT: scan uses Huffman tables DC %u / AC %u, "
                            "which are not both defined", s->td[i], s->ta[i]);
        if (c->tq > 3 || !t->quant_defined[c->tq])
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG 12-bit DCT: component %u uses quantisation table %u, "
                            "which is not defined", (unsigned)c->id, (unsigned)c->tq);
        if (c->coded)
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, at,
                            "JPEG 12-bit DCT: component %u is coded in two scans",
                            (unsigned)c->id);
    }
    for (unsigned i = 0; i < s->ns; i++)
        build_ac_fast(&t->ac[s->ta[i]], ac_fast[i]);
    if (s->ns == 1) {
        const jpeg_component *c = &f->comp[s->ci[0]];
        mcux = (c->width + 7u) / 8u;
        mcuy = (c->height + 7u) / 8u;
    } else {
        mcux = f->mcux;
        mcuy = f->mcuy;
    }

    jpeg_bits_init(&b, src, size, s->data);
    for (uint32_t my = 0; my < mcuy; my++) {
        for (uint32_t mx = 0; mx < mcux; mx++) {
            if (ri != 0) {
                if (restarts_left == 0) {
                    dcf_status status = jpeg_bits_restart(&b, err);
                    if (status != DCF_OK)
                        return status;
                    restarts_left = ri;
                    memset(last_dc, 0, sizeof(last_dc));
                }
                restarts_left--;
            }
            for (unsigned i = 0; i < s->ns; i++) {
                jpeg_component *c = &f->comp[s->ci[i]];
                const unsigned bh = s->ns == 1 ? 1u : c->h, bv = s->ns == 1 ? 1u : c->v;
                for (unsigned v = 0; v < bv; v++) {
                    for (unsigned h = 0; h < bh; h++) {
                        const size_t by = (size_t)my * bv + v, bx = (size_t)mx * bh + h;
                        uint16_t *block = c->plane + by * 8u * c->plane_w + bx * 8u;
                        const int kind = decode_block(&b, &t->dc[s->td[i]],
                                                      &t->ac[s->ta[i]], ac_fast[i],
                                                      &last_dc[i], coef);
                        if (kind < 0)
                            return bad_block(&b, err);
                        if (kind == 0)
                            idct_dc_only(coef[0], t->quant[c->tq], block, c->plane_w);
                        else
                            jpeg_idct_islow12(coef, t->quant[c->tq], block, c->plane_w);
                    }
                }
            }
            /* Stop at once when the data has run out (zeros decode as
             * valid blocks, which would otherwise go on to the row's end). */
            if (jpeg_bits_overrun(&b))
                return overrun(&b, my, err);
        }
        if (jpeg_bits_overrun(&b))
            return overrun(&b, my, err);
    }
    for (unsigned i = 0; i < s->ns; i++)
        f->comp[s->ci[i]].coded = 1;
    *end = jpeg_skip_entropy(src, size, b.pos);
    return DCF_OK;
}

/* Which jpeg_idct_islow12 the ifunc resolver picked: it tests the CPU the same way. */
const char *dcf_dct12_variant(void)
{
#if defined(__x86_64__) && defined(__ELF__) && defined(__GLIBC__) && \
    (defined(__GNUC__) || defined(__clang__)) && \
    !defined(DCF_NO_TARGET_CLONES)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        return "avx2";
#endif
    return "default";
}
