/* Endian-aware loads and the one bounds check every read goes through.
 *
 * `dcf_fits(pos, end, n)` compares by subtraction (n <= end - pos), so it
 * cannot overflow whatever a corrupt length field says. */
#ifndef DCF_READER_H
#define DCF_READER_H

#include <stddef.h>
#include <stdint.h>

static inline int dcf_fits(size_t pos, size_t end, uint64_t n)
{
    return pos <= end && n <= (uint64_t)(end - pos);
}

static inline uint16_t dcf_load_u16(const uint8_t *p, int big_endian)
{
    return big_endian ? (uint16_t)((p[0] << 8) | p[1])
                      : (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t dcf_load_u32(const uint8_t *p, int big_endian)
{
    return big_endian
               ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]
               : ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static inline uint32_t dcf_load_tag(const uint8_t *p, int big_endian)
{
    return ((uint32_t)dcf_load_u16(p, big_endian) << 16) | dcf_load_u16(p + 2, big_endian);
}

#endif /* DCF_READER_H */
