/* Locating the frames of encapsulated Pixel Data among its fragments.
 *
 * PS3.5 A.4: a frame is one or more consecutive fragments. Where each frame
 * starts comes from, in order of trust:
 *   1. the Extended Offset Table (7FE0,0001), 64-bit offsets;
 *   2. the Basic Offset Table (the first item), 32-bit offsets;
 *   3. one fragment per frame, when the counts match;
 *   4. all fragments, when there is a single frame;
 *   5. the fragments that start with the codec's start marker
 *      (J2K SOC FF4F or a JP2 signature box, JPEG/JPEG-LS SOI FFD8, an RLE
 *      header), when exactly as many do as there are frames.
 * An offset table that is present but wrong (entry count, not starting at 0,
 * not increasing, not landing on an item tag) is not trusted: the rules after
 * it apply, and the reason is kept so that it can be reported when none does.
 * Offsets in either table count from the first byte of the first fragment's
 * item tag.
 *
 * When the fragments are not indexed (a lazy scan, dcf_scan.h), a table that
 * passes dcf_offset_table_check places frame k by itself: dcf_walk_frame
 * reads only frame k's item headers. Where the walk disagrees with the table
 * the caller indexes every fragment and applies the rules above. */
#ifndef DCF_FRAMES_H
#define DCF_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "dcf_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dcf_frame_rule {
    DCF_FRAMES_EXTENDED_OFFSET_TABLE = 1,
    DCF_FRAMES_BASIC_OFFSET_TABLE = 2,
    DCF_FRAMES_ONE_PER_FRAGMENT = 3,
    DCF_FRAMES_SINGLE_FRAME = 4,
    DCF_FRAMES_START_MARKERS = 5
} dcf_frame_rule;

typedef enum dcf_start_marker {
    DCF_MARKER_NONE = 0,
    DCF_MARKER_J2K = 1,  /* FF4F FF51, or the JP2 signature box */
    DCF_MARKER_JPEG = 2, /* FFD8 (JPEG and JPEG-LS) */
    DCF_MARKER_RLE = 3   /* 1..15 segments, first offset 64 */
} dcf_start_marker;

typedef struct dcf_fragments {
    const uint8_t *data;     /* the whole buffer */
    size_t size;
    const uint64_t *offsets; /* value offsets of the items: [0] is the Basic Offset Table */
    const uint64_t *lengths;
    size_t count;            /* items, offset table included */
} dcf_fragments;

/* An offset table's value: `entry_size` 4 (Basic, little endian) or 8
 * (Extended, in the data set's byte order). */
typedef struct dcf_offset_table {
    const uint8_t *data;
    size_t size;       /* bytes */
    size_t entry_size; /* 4 or 8 */
    int big_endian;
} dcf_offset_table;

#define DCF_LAST_FRAME UINT64_MAX

/* Entry k of the table (k < size / entry_size). */
uint64_t dcf_offset_table_entry(const dcf_offset_table *table, uint64_t k);

/* 1 when the table can place `frames` frames as far as the table alone can
 * tell (one entry per frame, the first 0, increasing); else 0, with the reason
 * in `why` (the words dcf_locate_frames reports). */
int dcf_offset_table_check(const dcf_offset_table *table, uint64_t frames, char *why,
                           size_t why_size);

/* Frame k's fragments found by walking its items from table entry k
 * (relative to `first_item`, the position of the first fragment's item tag)
 * up to entry k + 1, or for the last frame up to the sequence delimiter or
 * the end of the data. Every item header must be an item (FFFE,E000) of
 * defined length lying inside the data, and the walk must end exactly on
 * entry k + 1 (whose item tag is frame k + 1's to check). On success *count is the number
 * of fragments and the first min(*count, capacity) value offsets and lengths
 * are written (call again with more room when *count > capacity). Fails with
 * DCF_E_PIXEL_DATA (why in `err`) when the items disagree with the table. */
dcf_status dcf_walk_frame(const uint8_t *data, size_t size, uint64_t first_item,
                          const dcf_offset_table *table, uint64_t k, int big_endian,
                          uint64_t *offsets, uint64_t *lengths, size_t capacity,
                          size_t *count, dcf_error *err);

/* Fill first[k] (index into the fragments, 1-based as the offset table is
 * item 0) and count[k] for each of `frames` frames. `eot` / `eot_size` are the
 * Extended Offset Table value (NULL if absent). Stores the dcf_frame_rule used
 * in *rule. Fails (DCF_E_PIXEL_DATA) when no rule gives exactly `frames` frames. */
dcf_status dcf_locate_frames(const dcf_fragments *fragments, const uint8_t *eot,
                             size_t eot_size, int eot_big_endian, uint64_t frames,
                             dcf_start_marker marker, uint32_t *first, uint32_t *count,
                             int *rule, dcf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* DCF_FRAMES_H */
