/* Status codes and the error record shared by every part of the C core.
 *
 * Every fallible function returns a dcf_status and, on failure, fills a
 * caller-owned dcf_error with the tag, the byte offset and a message. The
 * record is plain data so that it can be filled without the GIL and turned
 * into a Python exception afterwards by the Cython boundary. */
#ifndef DCF_STATUS_H
#define DCF_STATUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dcf_status {
    DCF_OK = 0,
    DCF_E_TRUNCATED = 1,   /* data ends before a declared length */
    DCF_E_MALFORMED = 2,   /* structure violates PS3.5 or is inconsistent */
    DCF_E_TOO_DEEP = 3,    /* sequence nesting beyond the scan's max_depth */
    DCF_E_UNSUPPORTED = 4, /* valid DICOM we do not handle */
    DCF_E_NO_MEMORY = 5,   /* an allocation failed */
    DCF_E_ARGUMENT = 6,    /* a caller passed inconsistent arguments */
    DCF_E_CODEC = 7,       /* a codec library reported an error */
    DCF_E_PIXEL_DATA = 8,  /* pixel data does not match its description */
    DCF_STATUS_COUNT       /* not a status: one past the last */
} dcf_status;

#define DCF_NO_TAG 0xFFFFFFFFu
#define DCF_ERROR_MESSAGE_SIZE 320

typedef struct dcf_error {
    dcf_status status;
    uint32_t tag;    /* (gggg,eeee) packed as gggg << 16 | eeee, or DCF_NO_TAG */
    uint64_t offset; /* byte offset into the buffer where the problem is */
    char message[DCF_ERROR_MESSAGE_SIZE];
} dcf_error;

/* Reset an error record to "no error". */
void dcf_error_clear(dcf_error *err);

/* Fill `err` (printf-style message) and return `status`, so that callers can
 * write `return dcf_fail(err, DCF_E_TRUNCATED, tag, pos, "...", ...);`. */
dcf_status dcf_fail(dcf_error *err, dcf_status status, uint32_t tag,
                    uint64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* A short, stable name for a status ("truncated", "malformed", ...). */
const char *dcf_status_name(dcf_status status);

#ifdef __cplusplus
}
#endif

#endif /* DCF_STATUS_H */
