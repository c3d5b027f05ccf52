/* The element scanner: one pass over a DICOM file in memory that builds an
 * index of every data element (tag, VR, where its value is, how long it is,
 * where it sits in the tree). No value is copied; values are decoded later,
 * on request, from the caller's buffer.
 *
 * Covered (PS3.5 / PS3.10): preamble + "DICM", group 0002 in explicit VR
 * little endian, files without preamble or file meta; data sets in implicit
 * VR LE, explicit VR LE and explicit VR BE; every VR including those with a
 * 4-byte length; undefined lengths for SQ, items and UN (content read as
 * implicit VR LE); nested sequences up to a depth bound; encapsulated Pixel
 * Data (offset table item, fragments, sequence delimiter). Deflated data sets
 * are reported (DCF_ENCODING_DEFLATED) so that the caller can inflate them
 * and scan the result with `force_encoding`.
 *
 * Lazy fragments (`lazy_fragments`): when the top-level encapsulated Pixel
 * Data carries an offset table that can locate frames (a non-empty Basic
 * Offset Table, or an Extended Offset Table with its lengths before it), the
 * scan stops after the offset table item, so that opening a file does not
 * touch one page per fragment header. The index is then a prefix of the full
 * one (`complete` is 0, `resume_offset` says where it stopped) and
 * dcf_scan_complete() indexes the rest: fragments, the sequence delimiter and
 * whatever follows the Pixel Data. With `lazy_fragments` 2 the scan stops
 * after the offset table item whatever it holds (even none): for a source
 * whose bytes are fetched on demand, which walks the item headers itself
 * before completing the scan.
 *
 * A damaged tail: when the data after the top-level Pixel Data cannot be read
 * (cut, garbage, a bogus length, the sequence delimiter of encapsulated Pixel
 * Data cut short) the frames are still whole, so the scan succeeds: the index
 * ends before the damaged element, `damaged` is 1 and `damage` says what was
 * met and where. Damage before or inside the Pixel Data still fails. */
#ifndef DCF_SCAN_H
#define DCF_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "dcf_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DCF_DEFAULT_MAX_DEPTH 32

#define DCF_TAG_ITEM 0xFFFEE000u
#define DCF_TAG_ITEM_DELIMITER 0xFFFEE00Du
#define DCF_TAG_SEQUENCE_DELIMITER 0xFFFEE0DDu
#define DCF_TAG_TRANSFER_SYNTAX 0x00020010u
#define DCF_TAG_PIXEL_DATA 0x7FE00010u
#define DCF_TAG_EXTENDED_OFFSET_TABLE 0x7FE00001u
#define DCF_TAG_EXTENDED_OFFSET_TABLE_LENGTHS 0x7FE00002u
#define DCF_TAG_FLOAT_PIXEL_DATA 0x7FE00008u
#define DCF_TAG_DOUBLE_PIXEL_DATA 0x7FE00009u

/* dcf_element.flags */
enum {
    DCF_FLAG_UNDEFINED_LENGTH = 1 << 0, /* length was 0xFFFFFFFF; `length` is the measured one */
    DCF_FLAG_ITEM = 1 << 1,             /* an item (FFFE,E000) of a sequence */
    DCF_FLAG_FRAGMENT = 1 << 2,         /* an item of encapsulated Pixel Data (the first is the offset table) */
    DCF_FLAG_ENCAPSULATED = 1 << 3,     /* Pixel Data holding fragments */
    DCF_FLAG_TRUNCATED = 1 << 4,        /* value runs past the end of the data (last Pixel Data only) */
    DCF_FLAG_IMPLICIT_VR = 1 << 5,      /* encoded without VR: `vr` is inferred ("UN" when unknown) */
    DCF_FLAG_BIG_ENDIAN = 1 << 6,       /* value is big endian */
    DCF_FLAG_FILE_META = 1 << 7         /* part of the File Meta Information (group 0002) */
};

/* One index entry: 32 bytes, mirrored by a numpy structured dtype. */
typedef struct dcf_element {
    uint32_t tag;     /* gggg << 16 | eeee */
    char vr[2];       /* "SQ", "OB", ...; "  " for items and fragments */
    uint16_t flags;   /* DCF_FLAG_* */
    int32_t parent;   /* index of the enclosing SQ / item / Pixel Data, -1 at top level */
    uint32_t depth;   /* 0 at top level; +1 inside each item (or fragment list) */
    uint64_t offset;  /* byte offset of the value in the buffer */
    uint64_t length;  /* value length in bytes (measured when undefined) */
} dcf_element;

typedef enum dcf_encoding {
    DCF_ENCODING_IMPLICIT_LE = 0,
    DCF_ENCODING_EXPLICIT_LE = 1,
    DCF_ENCODING_EXPLICIT_BE = 2,
    DCF_ENCODING_DEFLATED = 3 /* explicit LE after inflating the data set */
} dcf_encoding;

/* dcf_scan_result.encoding_source */
enum {
    DCF_ENCODING_FROM_META = 0,     /* the Transfer Syntax UID said so */
    DCF_ENCODING_GUESSED = 1,       /* no Transfer Syntax UID: guessed from the first element */
    DCF_ENCODING_CORRECTED = 2,     /* the UID disagreed with the data; the data won */
    DCF_ENCODING_FORCED = 3         /* the caller forced it */
};

typedef struct dcf_scan_options {
    int force_encoding;  /* -1: from the file; else a dcf_encoding for the data set */
    uint32_t max_depth;  /* 0: DCF_DEFAULT_MAX_DEPTH */
    int lazy_fragments;  /* 1: stop after a usable offset table; 2: after any (see above) */
} dcf_scan_options;

typedef struct dcf_scan_result {
    dcf_element *elements; /* owned; free with dcf_scan_result_free */
    size_t count;
    size_t capacity;
    uint64_t meta_offset;      /* where group 0002 starts (0 if none) */
    uint64_t dataset_offset;   /* where the data set starts */
    int32_t transfer_syntax;   /* index of (0002,0010), -1 if absent */
    int32_t pixel_data;        /* index of top-level Pixel Data (any of the three), -1 if none */
    uint8_t has_preamble;
    uint8_t has_file_meta;
    uint8_t encoding;          /* dcf_encoding of the data set */
    uint8_t encoding_source;   /* DCF_ENCODING_FROM_META, ... */
    uint8_t complete;          /* 0: stopped after the Pixel Data's offset table */
    uint64_t resume_offset;    /* when not complete: the first fragment's item tag */
    uint8_t damaged;           /* 1: the data after the top-level Pixel Data is damaged */
    dcf_error damage;          /* when damaged: what the scan met there (tag, offset, message) */
} dcf_scan_result;

void dcf_scan_options_init(dcf_scan_options *options);

/* Scan `size` bytes at `data`. On success `result` holds the index (stopping
 * after the file meta when the data set is deflated). On failure `err` says
 * what and where, and `result` is freed. */
dcf_status dcf_scan(const uint8_t *data, size_t size, const dcf_scan_options *options,
                    dcf_scan_result *result, dcf_error *err);

void dcf_scan_result_free(dcf_scan_result *result);

/* Index what a lazy scan left out: copy `partial` (not complete) into
 * `full` and scan on from `partial->resume_offset` to the end of the data,
 * with the same `options` (its `lazy_fragments` is ignored). `partial` is
 * left untouched, so that readers of it need no lock; on failure `err` says
 * what and where (exactly what the eager scan would have said) and `full`
 * is freed. */
dcf_status dcf_scan_complete(const uint8_t *data, size_t size, const dcf_scan_options *options,
                             const dcf_scan_result *partial, dcf_scan_result *full,
                             dcf_error *err);

/* Map a Transfer Syntax UID (trailing NUL/space padding allowed) to the
 * encoding of its data set. */
dcf_encoding dcf_encoding_for_uid(const char *uid, size_t length);

/* 1 if the two bytes are a VR defined by PS3.5 Table 6.2-1. */
int dcf_is_known_vr(uint8_t a, uint8_t b);

#ifdef __cplusplus
}
#endif

#endif /* DCF_SCAN_H */
