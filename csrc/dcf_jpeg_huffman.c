/* Huffman tables (T.81 Annex C, F.2.2.3) and the bit reader over
 * entropy-coded segments (F.2.2.5, B.1.1.5 byte stuffing).
 *
 * Codes of up to JPEG_FAST_BITS bits resolve with one table lookup; longer
 * ones walk maxcode[] (the slow path). The reader keeps up to 64 bits,
 * most significant first. Loading stops at any marker (FF followed by
 * neither 00 nor FF) and at the end of the data; from there zeros are
 * supplied and counted, so a decoder never reads past the end and finds out
 * afterwards (jpeg_bits_overrun) that it used bits that were not there. */
#include <string.h>

#include "dcf_jpeg_internal.h"

dcf_status jpeg_huff_build(jpeg_huff *h, const uint8_t *counts, const uint8_t *values,
                           unsigned total, uint64_t offset, dcf_error *err)
{
    uint32_t code = 0;
    unsigned k = 0;

    memset(h, 0, sizeof(*h));
    memcpy(h->values, values, total);
    h->count = total;
    for (unsigned len = 1; len <= 16; len++) {
        const unsigned n = counts[len - 1];
        /* Checked before any code of this length goes into the tables. */
        if (code + n > (1u << len))
            return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, offset,
                            "JPEG: Huffman table has more codes of length %u and "
                            "shorter than fit in %u bits", len, len);
        h->valoff[len] = (int32_t)k - (int32_t)code;
        for (unsigned i = 0; i < n; i++, k++, code++) {
            if (len <= JPEG_FAST_BITS) {
                const unsigned shift = JPEG_FAST_BITS - len;
                const uint32_t first = code << shift, last = (code + 1u) << shift;
                for (uint32_t j = first; j < last; j++)
                    h->fast[j] = (uint16_t)((len << 8) | values[k]);
            }
        }
        h->maxcode[len] = n ? (int32_t)code - 1 : -1;
        code <<= 1;
    }
    h->maxcode[17] = INT32_MAX;
    h->defined = 1;
    return DCF_OK;
}

void jpeg_huff_build_diff(const jpeg_huff *h, int32_t *table)
{
    uint32_t code = 0;
    unsigned k = 0;

    memset(table, 0, sizeof(int32_t) << JPEG_DIFF_BITS);
    for (unsigned len = 1; len <= 16; len++) {
        /* Codes of this length: from maxcode back to its first. */
        const int32_t n = h->maxcode[len] < 0 ? 0 : h->maxcode[len] + 1 - (int32_t)code;
        for (int32_t i = 0; i < n; i++, k++, code++) {
            const unsigned s = h->values[k];
            if (len > JPEG_DIFF_BITS)
                continue;
            if (s == 0 || s >= 16) {
                /* No extra bits: 0, or 32768 for category 16. */
                const unsigned shift = JPEG_DIFF_BITS - len;
                const int32_t diff = s == 0 ? 0 : s == 16 ? 32768 : -1;
                if (diff < 0)
                    continue;
                for (uint32_t j = code << shift; j < (code + 1u) << shift; j++)
                    table[j] = (int32_t)((uint32_t)diff << 8) | (int32_t)len;
            } else if (len + s <= JPEG_DIFF_BITS) {
                const unsigned shift = JPEG_DIFF_BITS - len - s;
                for (uint32_t e = 0; e < (1u << s); e++) {
                    const int32_t diff = jpeg_extend(e, s);
                    const uint32_t first = ((code << s) | e) << shift;
                    for (uint32_t j = first; j < first + (1u << shift); j++)
                        table[j] = (int32_t)((uint32_t)diff << 8) | (int32_t)(len + s);
                }
            }
        }
        code <<= 1;
    }
}

void jpeg_bits_init(jpeg_bits *b, const uint8_t *src, size_t size, size_t pos)
{
    b->src = src;
    b->size = size;
    b->pos = pos;
    b->buf = 0;
    b->count = 0;
    b->pad = 0;
    b->at_marker = 0;
}

void jpeg_bits_fill_slow(jpeg_bits *b)
{
    while (b->count <= 56) {
        unsigned c = 0;
        if (!b->at_marker && b->pos < b->size) {
            c = b->src[b->pos];
            if (c == 0xFF) {
                if (b->pos + 1 < b->size && b->src[b->pos + 1] == 0x00) {
                    b->pos += 2;
                } else {
                    /* A marker (or FF fill before one, or FF at the end):
                     * stop here, leaving pos at its first FF. */
                    b->at_marker = 1;
                    c = 0;
                    b->pad += 8;
                }
            } else {
                b->pos++;
            }
        } else {
            b->pad += 8;
        }
        b->buf |= (uint64_t)c << (56u - b->count);
        b->count += 8;
    }
}

int jpeg_huff_decode_slow(jpeg_bits *b, const jpeg_huff *h)
{
    if (b->count < 16)
        jpeg_bits_fill(b);
    for (unsigned len = JPEG_FAST_BITS + 1; len <= 16; len++) {
        const int32_t code = (int32_t)(b->buf >> (64 - len));
        if (code <= h->maxcode[len]) {
            const int32_t index = code + h->valoff[len];
            if (index < 0 || (unsigned)index >= h->count)
                return -1;
            b->buf <<= len;
            b->count -= len;
            return h->values[index];
        }
    }
    return -1;
}

dcf_status jpeg_bits_restart(jpeg_bits *b, dcf_error *err)
{
    size_t p = b->pos;

    if (jpeg_bits_overrun(b))
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, b->pos,
                        "JPEG: entropy-coded data of a restart interval runs into "
                        "a marker or the end of the data at offset %zu", b->pos);
    /* Find the marker: FF fill bytes may precede it; extra data before it
     * (an encoder's surplus) is skipped. */
    while (p < b->size) {
        if (b->src[p] == 0xFF && p + 1 < b->size && b->src[p + 1] != 0x00 &&
            b->src[p + 1] != 0xFF)
            break;
        p++;
    }
    if (p + 1 >= b->size)
        return dcf_fail(err, DCF_E_TRUNCATED, DCF_NO_TAG, b->pos,
                        "JPEG: data ends where a restart marker is expected "
                        "(offset %zu)", b->pos);
    if (b->src[p + 1] < JM_RST0 || b->src[p + 1] > JM_RST7)
        return dcf_fail(err, DCF_E_CODEC, DCF_NO_TAG, p,
                        "JPEG: expected a restart marker RSTn at offset %zu, found "
                        "FF%02X", p, (unsigned)b->src[p + 1]);
    jpeg_bits_init(b, b->src, b->size, p + 2);
    return DCF_OK;
}
