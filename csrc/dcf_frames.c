#include "dcf_frames.h"

#include <stdio.h>
#include <string.h>

#include "dcf_reader.h"

#define TAG_PIXEL_DATA 0x7FE00010u
#define TAG_ITEM 0xFFFEE000u
#define TAG_SEQUENCE_DELIMITER 0xFFFEE0DDu
#define TAG_EXTENDED_OFFSET_TABLE 0x7FE00001u

/* Relative position of fragment i's item tag (i >= 1). */
static uint64_t fragment_position(const dcf_fragments *f, size_t i)
{
    return f->offsets[i] - f->offsets[1];
}

/* Index of the fragment whose item tag is at relative `position`, or 0. */
static size_t fragment_at(const dcf_fragments *f, uint64_t position)
{
    size_t lo = 1, hi = f->count; /* search [lo, hi) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t p = fragment_position(f, mid);
        if (p == position)
            return mid;
        if (p < position)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

uint64_t dcf_offset_table_entry(const dcf_offset_table *t, uint64_t k)
{
    const uint8_t *p = t->data + k * t->entry_size;
    if (t->entry_size == 4)
        return dcf_load_u32(p, t->big_endian);
    return ((uint64_t)dcf_load_u32(p + (t->big_endian ? 0 : 4), t->big_endian) << 32) |
           dcf_load_u32(p + (t->big_endian ? 4 : 0), t->big_endian);
}

int dcf_offset_table_check(const dcf_offset_table *t, uint64_t frames, char *why,
                           size_t why_size)
{
    size_t entries = t->size / t->entry_size;
    if (t->size % t->entry_size) {
        snprintf(why, why_size, "its length %zu is not a multiple of %zu", t->size,
                 t->entry_size);
        return 0;
    }
    if (entries != frames) {
        snprintf(why, why_size, "it has %zu entries for %llu frames", entries,
                 (unsigned long long)frames);
        return 0;
    }
    uint64_t previous = 0;
    for (uint64_t k = 0; k < frames; k++) {
        uint64_t offset = dcf_offset_table_entry(t, k);
        if (k == 0 && offset != 0) {
            snprintf(why, why_size, "its first offset is %llu, not 0",
                     (unsigned long long)offset);
            return 0;
        }
        if (k > 0 && offset <= previous) {
            snprintf(why, why_size, "offset %llu of frame %llu does not increase",
                     (unsigned long long)offset, (unsigned long long)k);
            return 0;
        }
        previous = offset;
    }
    return 1;
}

/* Turn table offsets into frame starts; on failure write why into `why`. */
static int frames_from_offsets(const dcf_fragments *f, const dcf_offset_table *t,
                               uint64_t frames, uint32_t *first, uint32_t *count, char *why,
                               size_t why_size)
{
    if (!dcf_offset_table_check(t, frames, why, why_size))
        return 0;
    for (uint64_t k = 0; k < frames; k++) {
        uint64_t offset = dcf_offset_table_entry(t, k);
        size_t index = fragment_at(f, offset);
        if (index == 0) {
            snprintf(why, why_size, "offset %llu of frame %llu is not the start of a fragment",
                     (unsigned long long)offset, (unsigned long long)k);
            return 0;
        }
        first[k] = (uint32_t)index;
    }
    for (uint64_t k = 0; k < frames; k++) {
        uint64_t end = k + 1 < frames ? first[k + 1] : f->count;
        count[k] = (uint32_t)(end - first[k]);
    }
    return 1;
}

static int starts_with_marker(const dcf_fragments *f, size_t i, dcf_start_marker marker)
{
    const uint8_t *p = f->data + f->offsets[i];
    uint64_t n = f->lengths[i];
    static const uint8_t JP2_SIGNATURE[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 0x87, 10};
    switch (marker) {
    case DCF_MARKER_J2K:
        return (n >= 4 && p[0] == 0xFF && p[1] == 0x4F && p[2] == 0xFF && p[3] == 0x51) ||
               (n >= 12 && memcmp(p, JP2_SIGNATURE, 12) == 0);
    case DCF_MARKER_JPEG:
        return n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF;
    case DCF_MARKER_RLE: {
        if (n < 64)
            return 0;
        uint32_t segments = dcf_load_u32(p, 0);
        return segments >= 1 && segments <= 15 && dcf_load_u32(p + 4, 0) == 64;
    }
    default:
        return 0;
    }
}

dcf_status dcf_locate_frames(const dcf_fragments *f, const uint8_t *eot, size_t eot_size,
                             int eot_big_endian, uint64_t frames, dcf_start_marker marker,
                             uint32_t *first, uint32_t *count, int *rule,
                             dcf_error *err)
{
    char why_eot[160] = "", why_bot[160] = "";
    size_t fragments = f->count ? f->count - 1 : 0;
    uint64_t start = f->count ? f->offsets[0] - 8 : 0;

    if (fragments == 0)
        return dcf_fail(err, DCF_E_PIXEL_DATA, TAG_PIXEL_DATA, start,
                        "encapsulated Pixel Data at offset %llu has no fragments",
                        (unsigned long long)start);
    if (fragments > UINT32_MAX)
        return dcf_fail(err, DCF_E_UNSUPPORTED, TAG_PIXEL_DATA, start, "too many fragments");
    if (frames > fragments)
        return dcf_fail(err, DCF_E_PIXEL_DATA, TAG_PIXEL_DATA, start,
                        "Number of Frames is %llu but the encapsulated Pixel Data at offset %llu "
                        "holds only %zu fragment(s)", (unsigned long long)frames,
                        (unsigned long long)start, fragments);

    if (eot) {
        dcf_offset_table table = {eot, eot_size, 8, eot_big_endian};
        if (frames_from_offsets(f, &table, frames, first, count, why_eot, sizeof why_eot)) {
            *rule = DCF_FRAMES_EXTENDED_OFFSET_TABLE;
            return DCF_OK;
        }
    }
    uint64_t bot_size = f->lengths[0];
    if (bot_size) {
        dcf_offset_table table = {f->data + f->offsets[0], (size_t)bot_size, 4, 0};
        if (frames_from_offsets(f, &table, frames, first, count, why_bot, sizeof why_bot)) {
            *rule = DCF_FRAMES_BASIC_OFFSET_TABLE;
            return DCF_OK;
        }
    }
    if (fragments == frames) {
        for (uint64_t k = 0; k < frames; k++)
            first[k] = (uint32_t)(k + 1), count[k] = 1;
        *rule = DCF_FRAMES_ONE_PER_FRAGMENT;
        return DCF_OK;
    }
    if (frames == 1) {
        first[0] = 1;
        count[0] = (uint32_t)fragments;
        *rule = DCF_FRAMES_SINGLE_FRAME;
        return DCF_OK;
    }
    uint64_t found = 0;
    if (marker != DCF_MARKER_NONE && starts_with_marker(f, 1, marker)) {
        for (size_t i = 1; i < f->count; i++) {
            if (!starts_with_marker(f, i, marker))
                continue;
            if (found == frames) {
                found++;
                break;
            }
            first[found++] = (uint32_t)i;
        }
        if (found == frames) {
            for (uint64_t k = 0; k < frames; k++) {
                uint64_t end = k + 1 < frames ? first[k + 1] : f->count;
                count[k] = (uint32_t)(end - first[k]);
            }
            *rule = DCF_FRAMES_START_MARKERS;
            return DCF_OK;
        }
    }
    char eot_part[200], bot_part[200];
    if (eot)
        snprintf(eot_part, sizeof eot_part, "Extended Offset Table unusable (%s)", why_eot);
    else
        snprintf(eot_part, sizeof eot_part, "no Extended Offset Table");
    if (bot_size)
        snprintf(bot_part, sizeof bot_part, "Basic Offset Table unusable (%s)", why_bot);
    else
        snprintf(bot_part, sizeof bot_part, "empty Basic Offset Table");
    return dcf_fail(err, DCF_E_PIXEL_DATA, TAG_PIXEL_DATA, start,
                    "cannot tell where the %llu frames start among %zu fragments of the "
                    "Pixel Data at offset %llu: %s, %s, %s",
                    (unsigned long long)frames, fragments, (unsigned long long)start, eot_part,
                    bot_part,
                    marker == DCF_MARKER_NONE ? "no start marker to look for"
                    : found > frames          ? "more fragments than frames start with a marker"
                                              : "fewer fragments than frames start with a marker");
}

dcf_status dcf_walk_frame(const uint8_t *data, size_t size, uint64_t first_item,
                          const dcf_offset_table *table, uint64_t k, int big_endian,
                          uint64_t *offsets, uint64_t *lengths, size_t capacity,
                          size_t *count, dcf_error *err)
{
    uint64_t entries = table->size / table->entry_size;
    uint64_t start = k < entries ? dcf_offset_table_entry(table, k) : 0;
    uint64_t next = k + 1 < entries ? dcf_offset_table_entry(table, k + 1) : DCF_LAST_FRAME;
    size_t n = 0;
    *count = 0;
    if (k >= entries || first_item > size || !dcf_fits((size_t)first_item, size, start))
        return dcf_fail(err, DCF_E_PIXEL_DATA, TAG_PIXEL_DATA, first_item,
                        "frame %llu: its offset is past the end of the data",
                        (unsigned long long)k);
    size_t pos = (size_t)(first_item + start);
    size_t end = size; /* the last frame: up to the delimiter or the end of the data */
    if (next != DCF_LAST_FRAME) {
        if (next <= start || !dcf_fits((size_t)first_item, size, next))
            return dcf_fail(err, DCF_E_PIXEL_DATA, TAG_PIXEL_DATA, pos,
                            "frame %llu: the next frame's offset %llu is not after it or past "
                            "the end of the data", (unsigned long long)k,
                            (unsigned long long)next);
        end = (size_t)(first_item + next);
    }
    /* The next frame's item tag is that frame's to check: frame k reads only
     * its own item headers. */
    while (pos != end || (next == DCF_LAST_FRAME && n == 0)) {
        if (!dcf_fits(pos, size, 8))
            return dcf_fail(err, DCF_E_PIXEL_DATA, TAG_PIXEL_DATA, pos,
                            "frame %llu: no item header at offset %zu",
                            (unsigned long long)k, pos);
        uint32_t tag = dcf_load_tag(data + pos, big_endian);
        uint32_t length = dcf_load_u32(data + pos + 4, big_endian);
        if (next == DCF_LAST_FRAME && tag == TAG_SEQUENCE_DELIMITER && n > 0)
            break;
        if (tag != TAG_ITEM || length == 0xFFFFFFFFu)
            return dcf_fail(err, DCF_E_PIXEL_DATA, TAG_PIXEL_DATA, pos,
                            "frame %llu: no fragment item at offset %zu",
                            (unsigned long long)k, pos);
        if (!dcf_fits(pos + 8, end, length))
            return dcf_fail(err, DCF_E_PIXEL_DATA, TAG_PIXEL_DATA, pos,
                            "frame %llu: fragment at offset %zu, length %u, runs past %s",
                            (unsigned long long)k, pos, length,
                            next == DCF_LAST_FRAME ? "the end of the data"
                                                   : "the next frame's offset");
        if (n < capacity) {
            offsets[n] = pos + 8;
            lengths[n] = length;
        }
        n++;
        pos += 8 + (size_t)length;
    }
    *count = n;
    return DCF_OK;
}
