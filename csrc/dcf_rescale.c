/* Rescale Slope / Intercept into float32 in one pass (see dcf_rescale.h). */
#include "dcf_rescale.h"

#include <stdint.h>
#include <string.h>

/* One loop per stored type; memcpy loads keep unaligned mapped data legal and
 * still compile to plain (vectorised) loads. */
#define RESCALE_LOOP(ctype)                                                  \
    do {                                                                     \
        const unsigned char *p = (const unsigned char *)src;                 \
        for (size_t i = 0; i < count; i++) {                                 \
            ctype v;                                                         \
            memcpy(&v, p + i * sizeof(ctype), sizeof(ctype));                \
            double scaled = (double)v * slope;                               \
            dst[i] = (float)(scaled + intercept);                            \
        }                                                                    \
    } while (0)

int dcf_rescale_to_float(const void *src, dcf_sample_type type, size_t count,
                         double slope, double intercept, float *dst)
{
    switch (type) {
    case DCF_SAMPLE_U8: RESCALE_LOOP(uint8_t); return 0;
    case DCF_SAMPLE_I8: RESCALE_LOOP(int8_t); return 0;
    case DCF_SAMPLE_U16: RESCALE_LOOP(uint16_t); return 0;
    case DCF_SAMPLE_I16: RESCALE_LOOP(int16_t); return 0;
    case DCF_SAMPLE_U32: RESCALE_LOOP(uint32_t); return 0;
    case DCF_SAMPLE_I32: RESCALE_LOOP(int32_t); return 0;
    case DCF_SAMPLE_F32: RESCALE_LOOP(float); return 0;
    case DCF_SAMPLE_F64: RESCALE_LOOP(double); return 0;
    }
    return -1;
}
