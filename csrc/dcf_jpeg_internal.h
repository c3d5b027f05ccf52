/* Shared internals of our JPEG decoder (dcf_jpeg_*.c): marker-level state,
 * Huffman tables, the entropy-coded-segment bit reader and the per-component
 * sample planes. Not part of the public C API. */
#ifndef DCF_JPEG_INTERNAL_H
#define DCF_JPEG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dcf_jpeg.h"

/* Marker codes (second byte). */
enum {
    JM_SOF0 = 0xC0, JM_SOF1 = 0xC1, JM_SOF3 = 0xC3, JM_DHT = 0xC4,
    JM_JPG = 0xC8, JM_DAC = 0xCC,
    JM_RST0 = 0xD0, JM_RST7 = 0xD7, JM_SOI = 0xD8, JM_EOI = 0xD9,
    JM_SOS = 0xDA, JM_DQT = 0xDB, JM_DNL = 0xDC, JM_DRI = 0xDD,
    JM_APP0 = 0xE0, JM_APP15 = 0xEF, JM_COM = 0xFE
};

static inline int jpeg_is_sof(unsigned m)
{
    return m >= 0xC0 && m <= 0xCF && m != JM_DHT && m != JM_JPG && m != JM_DAC;
}

/* ---- Huffman tables (dcf_jpeg_huffman.c) ---- */

#define JPEG_FAST_BITS 9

typedef struct jpeg_huff {
    int defined;
    /* Codes of up to JPEG_FAST_BITS bits: (length << 8) | symbol, indexed by
     * the next JPEG_FAST_BITS bits; 0 when the code is longer. */
    uint16_t fast[1u << JPEG_FAST_BITS];
    int32_t maxcode[18];  /* largest code of each length, -1 if none; [17] sentinel */
    int32_t valoff[17];   /* values index of a code of length l = code + valoff[l] */
    uint8_t values[256];
    unsigned count;       /* number of symbols */
} jpeg_huff;

/* Build a table from DHT's 16 code counts and its symbols. */
dcf_status jpeg_huff_build(jpeg_huff *h, const uint8_t *counts, const uint8_t *values,
                           unsigned total, uint64_t offset, dcf_error *err);

/* Lossless differences: for the next JPEG_DIFF_BITS bits, the code and its
 * extra bits at once, as (difference << 8) | bits used; 0 when they do not
 * fit (the slow path decodes those). */
#define JPEG_DIFF_BITS 12
void jpeg_huff_build_diff(const jpeg_huff *h, int32_t *table);

/* ---- Bit reader over entropy-coded data ---- */

typedef struct jpeg_bits {
    const uint8_t *src;
    size_t size;        /* end of the data */
    size_t pos;         /* next byte to load */
    uint64_t buf;       /* valid bits at the top (MSB first) */
    unsigned count;     /* number of bits in buf */
    uint64_t pad;       /* zero bits appended after the data or at a marker */
    int at_marker;      /* loading stopped at a marker at src[pos] */
} jpeg_bits;

void jpeg_bits_init(jpeg_bits *b, const uint8_t *src, size_t size, size_t pos);
/* Top the buffer up to at least 57 bits: bytes from the data (FF00 -> FF),
 * zeros once a marker or the end is reached (counted in `pad`). The one
 * place that handles byte stuffing and markers inside entropy-coded data;
 * jpeg_bits_fill below is its inline fast path for runs without FF. */
void jpeg_bits_fill_slow(jpeg_bits *b);

static inline void jpeg_bits_fill(jpeg_bits *b)
{
    if (!b->at_marker && b->size - b->pos >= 8) {
        const uint8_t *p = b->src + b->pos;
        uint64_t w, inv;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(&w, p, 8);  /* one load, then big-endian order */
        w = __builtin_bswap64(w);
#else
        w = 0;
        for (int i = 0; i < 8; i++)
            w = (w << 8) | p[i];
#endif
        inv = ~w;
        if (((inv - 0x0101010101010101ull) & ~inv & 0x8080808080808080ull) == 0) {
            const unsigned n = (64u - b->count) >> 3; /* whole bytes that fit */
            if (n > 0) {
                const uint64_t bytes = n == 8 ? w : w >> (64u - 8u * n);
                b->buf |= bytes << (64u - b->count - 8u * n);
                b->count += 8u * n;
                b->pos += n;
            }
            return;
        }
    }
    jpeg_bits_fill_slow(b);
}
/* Bits consumed past the end of the real data (0 while all is well). */
static inline int jpeg_bits_overrun(const jpeg_bits *b)
{
    return (uint64_t)b->count < b->pad;
}
/* Decode a symbol the fast table did not resolve; -1 if no code matches. */
int jpeg_huff_decode_slow(jpeg_bits *b, const jpeg_huff *h);

static inline int jpeg_huff_decode(jpeg_bits *b, const jpeg_huff *h)
{
    unsigned e;
    if (b->count < 16)
        jpeg_bits_fill(b);
    e = h->fast[b->buf >> (64 - JPEG_FAST_BITS)];
    if (e != 0) {
        const unsigned len = e >> 8;
        b->buf <<= len;
        b->count -= len;
        return (int)(e & 0xFFu);
    }
    return jpeg_huff_decode_slow(b, h);
}

/* The next `n` bits (0..16) as an unsigned number. */
static inline uint32_t jpeg_get_bits(jpeg_bits *b, unsigned n)
{
    uint32_t v;
    if (n == 0)
        return 0;
    if (b->count < n)
        jpeg_bits_fill(b);
    v = (uint32_t)(b->buf >> (64 - n));
    b->buf <<= n;
    b->count -= n;
    return v;
}

/* T.81 F.2.2.1 EXTEND: the `s`-bit value v (s >= 1) as a signed difference. */
static inline int32_t jpeg_extend(uint32_t v, unsigned s)
{
    return v < (1u << (s - 1)) ? (int32_t)v - (int32_t)((1u << s) - 1u) : (int32_t)v;
}

/* Byte-align after an interval and expect RSTn (any n) at the reader's
 * position; `*marker_pos` is set to its offset. Resets the reader. */
dcf_status jpeg_bits_restart(jpeg_bits *b, dcf_error *err);

/* ---- Decoder state (dcf_jpeg.c, dcf_jpeg_markers.c) ---- */

typedef struct jpeg_component {
    uint8_t id, h, v, tq;
    uint32_t width, height;    /* samples of the component, ceil(X * h / hmax) */
    uint32_t plane_w, plane_h; /* allocated plane, padded to whole MCUs */
    uint16_t *plane;           /* decoded samples (lossless: before << Pt) */
    int in_output;             /* plane is the caller's output buffer itself */
    int ring;                  /* plane holds 2 lines; each is written out when done */
    int coded;                 /* a scan has covered it */
    uint8_t pt;                /* lossless point transform of its scan */
} jpeg_component;

typedef struct jpeg_frame {
    unsigned sof, precision, ncomp;
    uint32_t rows, columns;    /* rows from SOF, or from the caller when SOF says 0 */
    int rows_from_dnl;         /* SOF had Y = 0 */
    unsigned hmax, vmax;
    uint32_t mcux, mcuy;       /* MCUs across / down in an interleaved scan */
    jpeg_component comp[DCF_JPEG_MAX_COMPONENTS];
    const dcf_frame_spec *spec; /* the output: for components with `ring` */
    uint8_t *dst;
} jpeg_frame;

/* Write line y of component ci (samples before the point transform `pt`,
 * full resolution) to the output (dcf_jpeg.c). */
void jpeg_emit_line(const jpeg_frame *f, unsigned ci, uint32_t y, const uint16_t *in,
                    unsigned pt);

typedef struct jpeg_scan {
    unsigned ns;
    unsigned ci[DCF_JPEG_MAX_COMPONENTS];  /* frame component index */
    unsigned td[DCF_JPEG_MAX_COMPONENTS], ta[DCF_JPEG_MAX_COMPONENTS];
    unsigned ss, se, ah, al;
    size_t data;                           /* first byte of entropy-coded data */
} jpeg_scan;

typedef struct jpeg_tables {
    jpeg_huff dc[4], ac[4];
    uint16_t quant[4][64];     /* natural (row-major) order */
    int quant_defined[4];
    uint32_t restart_interval;
} jpeg_tables;

extern const uint8_t dcf_jpeg_zigzag[64 + 16];

/* Marker-level parsing (dcf_jpeg_markers.c). A marker at src[pos] (pos at its
 * 0xFF; fill bytes skipped). Sets *code and *seg (start of the segment body,
 * after the length) and *seg_len (body length, 0 for standalone markers). */
dcf_status jpeg_next_marker(const uint8_t *src, size_t size, size_t *pos,
                            unsigned *code, size_t *seg, size_t *seg_len, int *at_end,
                            dcf_error *err);
dcf_status jpeg_parse_sof(const uint8_t *src, size_t seg, size_t len, unsigned code,
                          dcf_jpeg_info *info, dcf_error *err);
dcf_status jpeg_parse_dht(const uint8_t *src, size_t seg, size_t len, jpeg_tables *t,
                          dcf_error *err);
dcf_status jpeg_parse_dqt(const uint8_t *src, size_t seg, size_t len, jpeg_tables *t,
                          dcf_error *err);
dcf_status jpeg_parse_sos(const uint8_t *src, size_t seg, size_t len, const jpeg_frame *f,
                          jpeg_scan *s, dcf_error *err);
/* After a scan: the offset of the next marker other than RSTn at or after pos. */
size_t jpeg_skip_entropy(const uint8_t *src, size_t size, size_t pos);

/* Scan decoders. */
dcf_status jpeg_decode_lossless_scan(const uint8_t *src, size_t size, jpeg_frame *f,
                                     const jpeg_scan *s, const jpeg_tables *t,
                                     size_t *end, dcf_error *err);
dcf_status jpeg_decode_dct_scan(const uint8_t *src, size_t size, jpeg_frame *f,
                                const jpeg_scan *s, const jpeg_tables *t,
                                size_t *end, dcf_error *err);
/* IJG islow IDCT for 12-bit samples: coef (natural order, dequantised by
 * q) to an 8x8 block of 0..4095 at out (row stride in samples). */
void jpeg_idct_islow12(const int16_t *coef, const uint16_t *q, uint16_t *out, size_t stride);

#endif /* DCF_JPEG_INTERNAL_H */
