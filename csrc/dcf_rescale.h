/* The Modality LUT's linear form (PS3.3 C.11.1.1.2): out = stored * slope +
 * intercept, written as float32.
 *
 * Computed in double, product and sum rounded separately (the core is built
 * with -ffp-contract=off), then rounded once to float: the float32 of exactly
 * the float64 value numpy gives for `stored.astype(float64) * slope + intercept`
 * (pydicom's apply_rescale). */
#ifndef DCF_RESCALE_H
#define DCF_RESCALE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dcf_sample_type {
    DCF_SAMPLE_U8 = 0,
    DCF_SAMPLE_I8 = 1,
    DCF_SAMPLE_U16 = 2,
    DCF_SAMPLE_I16 = 3,
    DCF_SAMPLE_U32 = 4,
    DCF_SAMPLE_I32 = 5,
    DCF_SAMPLE_F32 = 6,
    DCF_SAMPLE_F64 = 7
} dcf_sample_type;

/* Rescale `count` little-endian samples of `type` at `src` (any alignment)
 * into `dst`. Returns 0, or -1 for an unknown type (nothing written). */
int dcf_rescale_to_float(const void *src, dcf_sample_type type, size_t count,
                         double slope, double intercept, float *dst);

#ifdef __cplusplus
}
#endif

#endif /* DCF_RESCALE_H */
