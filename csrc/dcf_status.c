#include "dcf_status.h"

#include <stdarg.h>
#include <stdio.h>

void dcf_error_clear(dcf_error *err)
{
    err->status = DCF_OK;
    err->tag = DCF_NO_TAG;
    err->offset = 0;
    err->message[0] = '\0';
}

dcf_status dcf_fail(dcf_error *err, dcf_status status, uint32_t tag,
                    uint64_t offset, const char *fmt, ...)
{
    va_list args;
    err->status = status;
    err->tag = tag;
    err->offset = offset;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, args);
    va_end(args);
    return status;
}

const char *dcf_status_name(dcf_status status)
{
    switch (status) {
    case DCF_OK: return "ok";
    case DCF_E_TRUNCATED: return "truncated";
    case DCF_E_MALFORMED: return "malformed";
    case DCF_E_TOO_DEEP: return "too deep";
    case DCF_E_UNSUPPORTED: return "unsupported";
    case DCF_E_NO_MEMORY: return "out of memory";
    case DCF_E_ARGUMENT: return "bad argument";
    case DCF_E_CODEC: return "codec error";
    case DCF_E_PIXEL_DATA: return "pixel data";
    case DCF_STATUS_COUNT: break;
    }
    return "unknown";
}
