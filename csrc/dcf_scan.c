#include "dcf_scan.h"

#include <stdlib.h>
#include <string.h>

#include "dcf_reader.h"

#define UNDEFINED_LENGTH 0xFFFFFFFFu
#define INITIAL_CAPACITY 128

#define TAG_FMT "(%04X,%04X)"
#define TAG_ARGS(tag) (unsigned)((tag) >> 16), (unsigned)((tag) & 0xFFFFu)

typedef struct scanner {
    const uint8_t *data;
    size_t size;
    uint32_t max_depth;
    size_t initial_capacity;
    dcf_scan_result *out;
    dcf_error *err;
    int lazy;    /* may stop after the top-level Pixel Data's offset table */
    int stopped; /* did stop there: every run returns at once */
} scanner;

/* How a run of elements is encoded. UN of undefined length switches its
 * content to implicit VR little endian, so this travels down the recursion. */
typedef struct encoding {
    int explicit_vr;
    int big_endian;
} encoding;

/* What ends a run of data elements. */
typedef enum run_end {
    RUN_TO_LIMIT,          /* defined-length item or the whole data set */
    RUN_TO_ITEM_DELIMITER, /* undefined-length item */
    RUN_FILE_META          /* stop before the first element outside group 0002 */
} run_end;

static dcf_status scan_elements(scanner *s, size_t *pos, size_t limit, encoding enc,
                                run_end until, int32_t parent, uint32_t depth);
static dcf_status record_damage(scanner *s, size_t *pos, size_t limit, size_t count);

/* ---- index storage ----------------------------------------------------- */

static dcf_status push(scanner *s, uint32_t tag, const char vr[2], uint16_t flags,
                       int32_t parent, uint32_t depth, size_t offset, uint64_t length,
                       int32_t *index)
{
    dcf_scan_result *r = s->out;
    if (r->count == r->capacity) {
        /* Each entry consumes at least 8 bytes of input, so the index can
         * never outgrow size / 8: no allocation is sized by a length field. */
        size_t capacity = r->capacity ? r->capacity * 2 : s->initial_capacity;
        dcf_element *grown;
        if (capacity > (SIZE_MAX / sizeof(dcf_element)) || r->count >= INT32_MAX)
            return dcf_fail(s->err, DCF_E_NO_MEMORY, tag, offset, "element index too large");
        grown = realloc(r->elements, capacity * sizeof(dcf_element));
        if (!grown)
            return dcf_fail(s->err, DCF_E_NO_MEMORY, tag, offset,
                            "out of memory growing the element index to %zu entries", capacity);
        r->elements = grown;
        r->capacity = capacity;
    }
    dcf_element *e = &r->elements[r->count];
    e->tag = tag;
    e->vr[0] = vr[0];
    e->vr[1] = vr[1];
    e->flags = flags;
    e->parent = parent;
    e->depth = depth;
    e->offset = offset;
    e->length = length;
    *index = (int32_t)r->count++;
    return DCF_OK;
}

/* ---- value representations -------------------------------------------- */

/* PS3.5 Table 6.2-1, indexed by the two VR letters: 1 = 2-byte length,
 * 2 = 2 reserved bytes + 4-byte length (OB OD OF OL OV OW SQ SV UC UN UR UT UV). */
#define VR_SLOT(a, b) (((a) - 'A') * 26 + ((b) - 'A'))
static const uint8_t VR_KIND[26 * 26] = {
    [VR_SLOT('A', 'E')] = 1, [VR_SLOT('A', 'S')] = 1, [VR_SLOT('A', 'T')] = 1,
    [VR_SLOT('C', 'S')] = 1, [VR_SLOT('D', 'A')] = 1, [VR_SLOT('D', 'S')] = 1,
    [VR_SLOT('D', 'T')] = 1, [VR_SLOT('F', 'D')] = 1, [VR_SLOT('F', 'L')] = 1,
    [VR_SLOT('I', 'S')] = 1, [VR_SLOT('L', 'O')] = 1, [VR_SLOT('L', 'T')] = 1,
    [VR_SLOT('O', 'B')] = 2, [VR_SLOT('O', 'D')] = 2, [VR_SLOT('O', 'F')] = 2,
    [VR_SLOT('O', 'L')] = 2, [VR_SLOT('O', 'V')] = 2, [VR_SLOT('O', 'W')] = 2,
    [VR_SLOT('P', 'N')] = 1, [VR_SLOT('S', 'H')] = 1, [VR_SLOT('S', 'L')] = 1,
    [VR_SLOT('S', 'Q')] = 2, [VR_SLOT('S', 'S')] = 1, [VR_SLOT('S', 'T')] = 1,
    [VR_SLOT('S', 'V')] = 2, [VR_SLOT('T', 'M')] = 1, [VR_SLOT('U', 'C')] = 2,
    [VR_SLOT('U', 'I')] = 1, [VR_SLOT('U', 'L')] = 1, [VR_SLOT('U', 'N')] = 2,
    [VR_SLOT('U', 'R')] = 2, [VR_SLOT('U', 'S')] = 1, [VR_SLOT('U', 'T')] = 2,
    [VR_SLOT('U', 'V')] = 2,
};

static int vr_kind(uint8_t a, uint8_t b)
{
    if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z')
        return 0;
    return VR_KIND[VR_SLOT(a, b)];
}

int dcf_is_known_vr(uint8_t a, uint8_t b)
{
    return vr_kind(a, b) != 0;
}

/* VRs whose explicit encoding has 2 reserved bytes and a 4-byte length. */
static int has_long_length(const char vr[2])
{
    return vr_kind((uint8_t)vr[0], (uint8_t)vr[1]) == 2;
}

static int is_pixel_data_tag(uint32_t tag)
{
    return tag == DCF_TAG_PIXEL_DATA || tag == DCF_TAG_FLOAT_PIXEL_DATA ||
           tag == DCF_TAG_DOUBLE_PIXEL_DATA;
}

/* Without a VR in the data, name what we can: enough for the scanner itself
 * (SQ) and for the pixel module; the Python layer resolves the rest. */
static void infer_vr(uint32_t tag, char vr[2])
{
    const char *name = "UN";
    if ((tag & 0xFFFFu) == 0 && tag != 0)
        name = "UL"; /* group length */
    else if (tag == DCF_TAG_PIXEL_DATA)
        name = "OW";
    else if (tag == DCF_TAG_FLOAT_PIXEL_DATA)
        name = "OF";
    else if (tag == DCF_TAG_DOUBLE_PIXEL_DATA)
        name = "OD";
    vr[0] = name[0];
    vr[1] = name[1];
}

dcf_encoding dcf_encoding_for_uid(const char *uid, size_t length)
{
    while (length > 0 && (uid[length - 1] == '\0' || uid[length - 1] == ' '))
        length--;
#define UID_IS(s) (length == sizeof(s) - 1 && memcmp(uid, s, length) == 0)
    if (UID_IS("1.2.840.10008.1.2"))
        return DCF_ENCODING_IMPLICIT_LE;
    if (UID_IS("1.2.840.10008.1.2.2"))
        return DCF_ENCODING_EXPLICIT_BE;
    if (UID_IS("1.2.840.10008.1.2.1.99"))
        return DCF_ENCODING_DEFLATED;
#undef UID_IS
    /* Every other syntax, compressed ones included, is explicit VR LE. */
    return DCF_ENCODING_EXPLICIT_LE;
}

/* ---- sequences and fragments -------------------------------------------- */

/* Items of a sequence whose value starts at *pos. `defined` tells whether
 * `limit` is the end of a defined-length value or just the end of data. */
static dcf_status scan_items(scanner *s, size_t *pos, size_t limit, int defined,
                             encoding enc, uint32_t seq_tag, int32_t seq_index,
                             uint32_t depth)
{
    if (depth >= s->max_depth)
        return dcf_fail(s->err, DCF_E_TOO_DEEP, seq_tag, *pos,
                        "sequence " TAG_FMT " at offset %zu nested deeper than %u levels",
                        TAG_ARGS(seq_tag), *pos, s->max_depth);
    for (;;) {
        size_t at = *pos;
        if (defined && at == limit)
            return DCF_OK;
        if (!dcf_fits(at, limit, 8))
            return dcf_fail(s->err, DCF_E_TRUNCATED, seq_tag, at,
                            "sequence " TAG_FMT " ends inside an item header at offset %zu",
                            TAG_ARGS(seq_tag), at);
        uint32_t tag = dcf_load_tag(s->data + at, enc.big_endian);
        uint32_t length = dcf_load_u32(s->data + at + 4, enc.big_endian);
        size_t value = at + 8;
        if (tag == DCF_TAG_SEQUENCE_DELIMITER) {
            if (defined)
                return dcf_fail(s->err, DCF_E_MALFORMED, seq_tag, at,
                                "sequence delimiter inside defined-length sequence " TAG_FMT
                                " at offset %zu", TAG_ARGS(seq_tag), at);
            *pos = value;
            return DCF_OK;
        }
        if (tag != DCF_TAG_ITEM)
            return dcf_fail(s->err, DCF_E_MALFORMED, tag, at,
                            "expected an item (FFFE,E000) in sequence " TAG_FMT
                            ", found " TAG_FMT " at offset %zu",
                            TAG_ARGS(seq_tag), TAG_ARGS(tag), at);
        int32_t item;
        dcf_status st;
        if (length == UNDEFINED_LENGTH) {
            st = push(s, tag, "  ", DCF_FLAG_ITEM | DCF_FLAG_UNDEFINED_LENGTH, seq_index,
                      depth + 1, value, 0, &item);
            if (st)
                return st;
            size_t p = value;
            st = scan_elements(s, &p, limit, enc, RUN_TO_ITEM_DELIMITER, item, depth + 1);
            if (st)
                return st;
            s->out->elements[item].length = (p - 8) - value; /* without the delimiter */
            *pos = p;
        } else {
            if (!dcf_fits(value, limit, length))
                return dcf_fail(s->err, DCF_E_TRUNCATED, seq_tag, at,
                                "item of sequence " TAG_FMT " at offset %zu: length %u runs "
                                "past the end of its container (%zu bytes left)",
                                TAG_ARGS(seq_tag), at, length, limit - value);
            st = push(s, tag, "  ", DCF_FLAG_ITEM, seq_index, depth + 1, value, length, &item);
            if (st)
                return st;
            size_t p = value;
            st = scan_elements(s, &p, value + length, enc, RUN_TO_LIMIT, item, depth + 1);
            if (st)
                return st;
            *pos = value + length;
        }
    }
}

static int has_top_level(const scanner *s, uint32_t tag)
{
    for (size_t i = 0; i < s->out->count; i++)
        if (s->out->elements[i].tag == tag && s->out->elements[i].parent < 0)
            return 1;
    return 0;
}

/* May a lazy scan stop after this offset table item? Only for the top-level
 * Pixel Data, and (unless lazy is 2) only when a table can place the frames
 * without the fragment list (the Extended Offset Table precedes Pixel Data by
 * tag order). */
static int can_stop_after_table(const scanner *s, int32_t pixel_index, uint32_t depth,
                                uint32_t table_length)
{
    return s->lazy && depth == 0 && s->out->pixel_data == pixel_index &&
           (s->lazy == 2 || table_length > 0 ||
            (has_top_level(s, DCF_TAG_EXTENDED_OFFSET_TABLE) &&
             has_top_level(s, DCF_TAG_EXTENDED_OFFSET_TABLE_LENGTHS)));
}

/* Are the `n` (1..7) bytes at `p` the start of a sequence delimiter item
 * (FFFE,E0DD) with length 0? None left (0) is not: a fragment may be missing. */
static int cut_delimiter(const uint8_t *p, size_t n, int big_endian)
{
    static const uint8_t le[8] = {0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0};
    static const uint8_t be[8] = {0xFF, 0xFE, 0xE0, 0xDD, 0, 0, 0, 0};
    return n > 0 && n < 8 && memcmp(p, big_endian ? be : le, n) == 0;
}

/* Fragments of encapsulated Pixel Data, the first being the offset table;
 * `first` is 0 when resuming after it (dcf_scan_complete). */
static dcf_status scan_fragments(scanner *s, size_t *pos, size_t limit, int big_endian,
                                 uint32_t pixel_tag, int32_t pixel_index, uint32_t depth,
                                 int first)
{
    size_t start = (size_t)s->out->elements[pixel_index].offset;
    for (;; first = 0) {
        size_t at = *pos;
        if (!dcf_fits(at, limit, 8)) {
            dcf_status st = dcf_fail(s->err, DCF_E_TRUNCATED, pixel_tag, at,
                                     "encapsulated Pixel Data " TAG_FMT " ends at offset %zu "
                                     "without a sequence delimiter (%zu bytes left)",
                                     TAG_ARGS(pixel_tag), at, limit - at);
            if (first || depth != 0 || pixel_index != s->out->pixel_data || limit != s->size ||
                !cut_delimiter(s->data + at, limit - at, big_endian) ||
                s->out->count < (size_t)pixel_index + 3)
                return st;
            /* Every fragment is whole, and at least one follows the offset table:
             * the file was cut inside the sequence delimiter after them. */
            s->out->elements[pixel_index].length = at - start;
            return record_damage(s, pos, limit, s->out->count);
        }
        uint32_t tag = dcf_load_tag(s->data + at, big_endian);
        uint32_t length = dcf_load_u32(s->data + at + 4, big_endian);
        size_t value = at + 8;
        if (tag == DCF_TAG_SEQUENCE_DELIMITER && !first) {
            s->out->elements[pixel_index].length = at - start;
            *pos = value;
            return DCF_OK;
        }
        if (tag != DCF_TAG_ITEM)
            return dcf_fail(s->err, DCF_E_MALFORMED, pixel_tag, at,
                            "encapsulated Pixel Data " TAG_FMT ": expected %s item (FFFE,E000) "
                            "at offset %zu, found " TAG_FMT, TAG_ARGS(pixel_tag),
                            first ? "the Basic Offset Table" : "a fragment", at, TAG_ARGS(tag));
        if (length == UNDEFINED_LENGTH)
            return dcf_fail(s->err, DCF_E_MALFORMED, pixel_tag, at,
                            "encapsulated Pixel Data " TAG_FMT ": fragment at offset %zu has "
                            "undefined length", TAG_ARGS(pixel_tag), at);
        if (!dcf_fits(value, limit, length))
            return dcf_fail(s->err, DCF_E_TRUNCATED, pixel_tag, at,
                            "encapsulated Pixel Data " TAG_FMT ": fragment at offset %zu, "
                            "length %u, runs past the end of the data (%zu bytes left)",
                            TAG_ARGS(pixel_tag), at, length, limit - value);
        int32_t index;
        dcf_status st = push(s, DCF_TAG_ITEM, "  ", DCF_FLAG_FRAGMENT, pixel_index, depth + 1,
                             value, length, &index);
        if (st)
            return st;
        *pos = value + length;
        if (first && can_stop_after_table(s, pixel_index, depth, length)) {
            s->out->complete = 0;
            s->out->resume_offset = *pos;
            s->stopped = 1;
            return DCF_OK;
        }
    }
}

/* ---- data elements ------------------------------------------------------ */

/* Implicit VR gives no VR: a defined-length value that starts with a
 * well-formed item is taken to be a sequence. If parsing it as one fails,
 * the attempt is undone and the value stays opaque. */
static int try_implicit_sequence(scanner *s, size_t value, uint32_t length, encoding enc,
                                 uint32_t tag, int32_t index, uint32_t depth)
{
    if (length < 8 || dcf_load_tag(s->data + value, enc.big_endian) != DCF_TAG_ITEM)
        return 0;
    size_t saved_count = s->out->count;
    dcf_error saved_err = *s->err;
    size_t p = value;
    if (scan_items(s, &p, value + length, 1, enc, tag, index, depth) == DCF_OK)
        return 1;
    s->out->count = saved_count;
    *s->err = saved_err;
    return 0;
}

/* The failure for an element header that does not fit before `limit`. */
static dcf_status header_cut_short(scanner *s, uint32_t tag, size_t at, size_t limit)
{
    return dcf_fail(s->err, DCF_E_TRUNCATED, tag, at,
                    TAG_FMT " at offset %zu: element header cut short (%zu bytes left)",
                    TAG_ARGS(tag), at, limit - at);
}

/* Record `st` (in s->err), met at `at`, as damage after the top-level Pixel
 * Data: the index is cut back to `count` entries and the scan ends there. */
static dcf_status record_damage(scanner *s, size_t *pos, size_t limit, size_t count)
{
    s->out->count = count;
    s->out->damaged = 1;
    s->out->damage = *s->err;
    dcf_error_clear(s->err);
    *pos = limit;
    return DCF_OK;
}

/* Is a failure of the top-level element that would be entry `first` of the
 * index damage after the Pixel Data (tolerated) rather than an error? */
static int after_pixel_data(const scanner *s, run_end until, uint32_t depth, size_t limit,
                            size_t first, dcf_status st)
{
    int32_t pixel = s->out->pixel_data;
    return st != DCF_E_NO_MEMORY && st != DCF_E_ARGUMENT && until == RUN_TO_LIMIT &&
           depth == 0 && limit == s->size && pixel >= 0 && (size_t)pixel < first &&
           !(s->out->elements[pixel].flags & DCF_FLAG_TRUNCATED);
}

/* Read one element header at *pos and index the element (recursing into
 * sequences and fragments); leaves *pos after the element. */
static dcf_status scan_element(scanner *s, size_t *pos, size_t limit, encoding enc,
                               int32_t parent, uint32_t depth)
{
    const uint8_t *d = s->data;
    size_t at = *pos;
    uint32_t tag = dcf_load_tag(d + at, enc.big_endian);
    char vr[2];
    uint64_t length;
    size_t value;
    uint16_t flags = enc.big_endian ? DCF_FLAG_BIG_ENDIAN : 0;

    if (enc.explicit_vr) {
        if (!dcf_fits(at, limit, 8))
            return header_cut_short(s, tag, at, limit);
        vr[0] = (char)d[at + 4];
        vr[1] = (char)d[at + 5];
        if (!dcf_is_known_vr(d[at + 4], d[at + 5]))
            return dcf_fail(s->err, DCF_E_MALFORMED, tag, at,
                            TAG_FMT " at offset %zu: invalid VR bytes 0x%02X 0x%02X",
                            TAG_ARGS(tag), at, d[at + 4], d[at + 5]);
        if (has_long_length(vr)) {
            if (!dcf_fits(at, limit, 12))
                return header_cut_short(s, tag, at, limit);
            length = dcf_load_u32(d + at + 8, enc.big_endian);
            value = at + 12;
        } else {
            length = dcf_load_u16(d + at + 6, enc.big_endian);
            value = at + 8;
        }
    } else {
        if (!dcf_fits(at, limit, 8))
            return header_cut_short(s, tag, at, limit);
        infer_vr(tag, vr);
        length = dcf_load_u32(d + at + 4, enc.big_endian);
        value = at + 8;
        flags |= DCF_FLAG_IMPLICIT_VR;
    }

    int32_t index;
    dcf_status st;
    if (length == UNDEFINED_LENGTH) {
        int is_sq = vr[0] == 'S' && vr[1] == 'Q';
        int is_un = vr[0] == 'U' && vr[1] == 'N';
        flags |= DCF_FLAG_UNDEFINED_LENGTH;
        if (tag == DCF_TAG_PIXEL_DATA && (enc.explicit_vr ? vr[0] == 'O' : 1)) {
            /* Encapsulated Pixel Data (also seen in Icon Image Sequences). */
            if (!enc.explicit_vr)
                vr[0] = 'O', vr[1] = 'B';
            st = push(s, tag, vr, flags | DCF_FLAG_ENCAPSULATED, parent, depth, value, 0, &index);
            if (st)
                return st;
            if (depth == 0 && s->out->pixel_data < 0)
                s->out->pixel_data = index;
            *pos = value;
            return scan_fragments(s, pos, limit, enc.big_endian, tag, index, depth, 1);
        }
        if (!(is_sq || is_un || !enc.explicit_vr))
            return dcf_fail(s->err, DCF_E_MALFORMED, tag, at,
                            TAG_FMT " at offset %zu: undefined length is not allowed for VR %c%c",
                            TAG_ARGS(tag), at, vr[0], vr[1]);
        if (!enc.explicit_vr)
            vr[0] = 'S', vr[1] = 'Q';
        st = push(s, tag, vr, flags, parent, depth, value, 0, &index);
        if (st)
            return st;
        encoding inner = enc;
        if (is_un) /* PS3.5 6.2.2: UN of undefined length holds implicit VR LE */
            inner.explicit_vr = 0, inner.big_endian = 0;
        size_t p = value;
        st = scan_items(s, &p, limit, 0, inner, tag, index, depth);
        if (st)
            return st;
        s->out->elements[index].length = (p - 8) - value; /* without the delimiter */
        *pos = p;
        return DCF_OK;
    }

    if (!dcf_fits(value, limit, length)) {
        /* A file cut inside its last Pixel Data is still indexed, so that the
         * frames it does hold stay readable; asking for the others fails. */
        if (depth == 0 && is_pixel_data_tag(tag) && limit == s->size) {
            st = push(s, tag, vr, flags | DCF_FLAG_TRUNCATED, parent, depth, value,
                      limit - value, &index);
            if (st)
                return st;
            if (s->out->pixel_data < 0)
                s->out->pixel_data = index;
            *pos = limit;
            return DCF_OK;
        }
        return dcf_fail(s->err, DCF_E_TRUNCATED, tag, at,
                        TAG_FMT " at offset %zu: value length %llu runs past the end of %s "
                        "(%zu bytes left)", TAG_ARGS(tag), at, (unsigned long long)length,
                        limit == s->size ? "the data" : "its item", limit - value);
    }

    st = push(s, tag, vr, flags, parent, depth, value, length, &index);
    if (st)
        return st;
    if (depth == 0 && is_pixel_data_tag(tag) && s->out->pixel_data < 0)
        s->out->pixel_data = index;
    if (vr[0] == 'S' && vr[1] == 'Q' && enc.explicit_vr) {
        size_t p = value;
        st = scan_items(s, &p, value + (size_t)length, 1, enc, tag, index, depth);
        if (st)
            return st;
    } else if (!enc.explicit_vr && !is_pixel_data_tag(tag) &&
               try_implicit_sequence(s, value, (uint32_t)length, enc, tag, index, depth)) {
        s->out->elements[index].vr[0] = 'S';
        s->out->elements[index].vr[1] = 'Q';
    }
    *pos = value + (size_t)length;
    return DCF_OK;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* One step of scan_elements: index the element at *pos (DCF_OK), or say
 * that the run ends there (DCF_STEP_END), or fail (a dcf_status). */
#define DCF_STEP_END (-1)
static int scan_step(scanner *s, size_t *pos, size_t limit, encoding enc, run_end until,
                     int32_t parent, uint32_t depth)
{
    {
        size_t at = *pos;
        if (until != RUN_TO_ITEM_DELIMITER && at == limit)
            return DCF_STEP_END;
        if (until == RUN_TO_ITEM_DELIMITER && at == limit) {
            uint32_t seq_tag = s->out->elements[s->out->elements[parent].parent].tag;
            return dcf_fail(s->err, DCF_E_TRUNCATED, seq_tag, at,
                            "item of sequence " TAG_FMT " has no item delimiter: the data ends "
                            "at offset %zu", TAG_ARGS(seq_tag), at);
        }
        if (!dcf_fits(at, limit, 8)) {
            /* No element is shorter than 8 bytes. */
            if (until == RUN_TO_LIMIT && depth == 0 && limit == s->size &&
                all_zero(s->data + at, limit - at)) {
                *pos = limit; /* a few bytes of zero padding after the last element */
                return DCF_STEP_END;
            }
            if (until == RUN_FILE_META && dcf_fits(at, limit, 2) &&
                dcf_load_u16(s->data + at, 0) != 0x0002)
                return DCF_STEP_END;
            if (dcf_fits(at, limit, 4)) {
                uint32_t tag = dcf_load_tag(s->data + at, until == RUN_FILE_META ? 0
                                                                               : enc.big_endian);
                return header_cut_short(s, tag, at, limit);
            }
            return dcf_fail(s->err, DCF_E_TRUNCATED, DCF_NO_TAG, at,
                            "data ends inside an element tag at offset %zu (%zu bytes left)",
                            at, limit - at);
        }
        int big = until == RUN_FILE_META ? 0 : enc.big_endian;
        uint32_t tag = dcf_load_tag(s->data + at, big);
        if (until == RUN_FILE_META && (tag >> 16) != 0x0002)
            return DCF_STEP_END;
        if ((tag >> 16) == 0xFFFE) {
            if (tag == DCF_TAG_ITEM_DELIMITER && until == RUN_TO_ITEM_DELIMITER) {
                if (!dcf_fits(at, limit, 8))
                    return dcf_fail(s->err, DCF_E_TRUNCATED, tag, at,
                                    "item delimiter at offset %zu cut short", at);
                *pos = at + 8; /* its length should be 0; tolerated if not */
                return DCF_STEP_END;
            }
            if (tag == DCF_TAG_SEQUENCE_DELIMITER && until == RUN_TO_LIMIT && depth == 0 &&
                dcf_load_u32(s->data + at + 4, big) == 0) {
                /* A stray delimiter after encapsulated Pixel Data is a common
                 * writer bug; like pydicom, skip it. */
                *pos = at + 8;
                return DCF_OK;
            }
            return dcf_fail(s->err, DCF_E_MALFORMED, tag, at,
                            "unexpected " TAG_FMT " at offset %zu %s", TAG_ARGS(tag), at,
                            until == RUN_TO_ITEM_DELIMITER ? "inside an item"
                                                           : "among data elements");
        }
        size_t first = s->out->count;
        dcf_status st = scan_element(s, pos, limit, enc, parent, depth);
        if (st)
            return st;
        if (until == RUN_FILE_META)
            s->out->elements[first].flags |= DCF_FLAG_FILE_META;
        return DCF_OK;
    }
}

static dcf_status scan_elements(scanner *s, size_t *pos, size_t limit, encoding enc,
                                run_end until, int32_t parent, uint32_t depth)
{
    for (;;) {
        size_t first = s->out->count;
        int st = scan_step(s, pos, limit, enc, until, parent, depth);
        if (st == DCF_STEP_END)
            return DCF_OK;
        if (st != DCF_OK) {
            /* Damage after the top-level Pixel Data: the frames are whole. */
            if (after_pixel_data(s, until, depth, limit, first, (dcf_status)st))
                return record_damage(s, pos, limit, first);
            return (dcf_status)st;
        }
        if (s->stopped)
            return DCF_OK;
    }
}

/* ---- file level ---------------------------------------------------------- */

void dcf_scan_options_init(dcf_scan_options *options)
{
    options->force_encoding = -1;
    options->max_depth = DCF_DEFAULT_MAX_DEPTH;
    options->lazy_fragments = 0;
}

void dcf_scan_result_free(dcf_scan_result *result)
{
    free(result->elements);
    result->elements = NULL;
    result->count = result->capacity = 0;
}

/* Does the element at `pos` carry an explicit VR? (pydicom asks the same.) */
static int looks_explicit(const uint8_t *d, size_t pos, size_t size)
{
    return dcf_fits(pos, size, 6) && dcf_is_known_vr(d[pos + 4], d[pos + 5]);
}

/* Big endian is told apart by the group number of the first tag: real data
 * sets start with a small group (0008, 0010, ...). */
static int looks_big_endian(const uint8_t *d, size_t pos, size_t size)
{
    if (!dcf_fits(pos, size, 4))
        return 0;
    return dcf_load_u16(d + pos, 1) < dcf_load_u16(d + pos, 0);
}

static encoding encoding_of(dcf_encoding e)
{
    if (e == DCF_ENCODING_DEFLATED)
        e = DCF_ENCODING_EXPLICIT_LE; /* once inflated */
    encoding enc = {e != DCF_ENCODING_IMPLICIT_LE, e == DCF_ENCODING_EXPLICIT_BE};
    return enc;
}

/* Headers run ~30 bytes an element; guess the index size once so that a
 * typical header needs a single allocation. */
static size_t initial_capacity(size_t size)
{
    size_t guess = size / 32 + 16;
    return guess < INITIAL_CAPACITY ? INITIAL_CAPACITY : guess > 4096 ? 4096 : guess;
}

dcf_status dcf_scan(const uint8_t *data, size_t size, const dcf_scan_options *options,
                    dcf_scan_result *result, dcf_error *err)
{
    dcf_scan_options defaults;
    if (!options) {
        dcf_scan_options_init(&defaults);
        options = &defaults;
    }
    memset(result, 0, sizeof *result);
    result->transfer_syntax = -1;
    result->pixel_data = -1;
    result->complete = 1;
    dcf_error_clear(err);
    if (!data && size)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "no data");

    scanner s = {
        .data = data,
        .size = size,
        .max_depth = options->max_depth ? options->max_depth : DCF_DEFAULT_MAX_DEPTH,
        .initial_capacity = initial_capacity(size),
        .out = result,
        .err = err,
        .lazy = options->lazy_fragments,
    };
    size_t pos = 0;
    dcf_status st = DCF_OK;

    if (size >= 132 && memcmp(data + 128, "DICM", 4) == 0) {
        result->has_preamble = 1;
        pos = 132;
    } else if (size >= 4 && memcmp(data, "DICM", 4) == 0) {
        pos = 4; /* no preamble, but the prefix is there */
    }
    result->meta_offset = pos;

    /* Group 0002 is always explicit VR little endian. */
    if (dcf_fits(pos, size, 4) && dcf_load_u16(data + pos, 0) == 0x0002) {
        encoding meta = {1, 0};
        st = scan_elements(&s, &pos, size, meta, RUN_FILE_META, -1, 0);
        if (st)
            goto fail;
        result->has_file_meta = 1;
    } else if (result->has_preamble || pos == 4) {
        st = dcf_fail(err, DCF_E_MALFORMED, DCF_NO_TAG, pos,
                      "\"DICM\" prefix is not followed by File Meta Information (group 0002) "
                      "at offset %zu", pos);
        goto fail;
    }
    result->dataset_offset = pos;

    for (size_t i = 0; i < result->count; i++)
        if (result->elements[i].tag == DCF_TAG_TRANSFER_SYNTAX)
            result->transfer_syntax = (int32_t)i;

    dcf_encoding enc;
    if (options->force_encoding >= 0) {
        enc = (dcf_encoding)options->force_encoding;
        result->encoding_source = DCF_ENCODING_FORCED;
    } else if (result->transfer_syntax >= 0) {
        const dcf_element *ts = &result->elements[result->transfer_syntax];
        enc = dcf_encoding_for_uid((const char *)data + ts->offset, (size_t)ts->length);
        result->encoding_source = DCF_ENCODING_FROM_META;
        if (enc == DCF_ENCODING_DEFLATED) {
            result->encoding = (uint8_t)enc;
            return DCF_OK; /* the caller inflates and scans again */
        }
        /* pydicom's rule: trust the data over the UID for implicit/explicit. */
        if (pos < size && (enc == DCF_ENCODING_IMPLICIT_LE) == looks_explicit(data, pos, size)) {
            enc = enc == DCF_ENCODING_IMPLICIT_LE ? DCF_ENCODING_EXPLICIT_LE
                                                  : DCF_ENCODING_IMPLICIT_LE;
            result->encoding_source = DCF_ENCODING_CORRECTED;
        }
    } else {
        if (!looks_explicit(data, pos, size))
            enc = DCF_ENCODING_IMPLICIT_LE;
        else
            enc = looks_big_endian(data, pos, size) ? DCF_ENCODING_EXPLICIT_BE
                                                    : DCF_ENCODING_EXPLICIT_LE;
        result->encoding_source = DCF_ENCODING_GUESSED;
    }
    result->encoding = (uint8_t)enc;

    st = scan_elements(&s, &pos, size, encoding_of(enc), RUN_TO_LIMIT, -1, 0);
    if (st)
        goto fail;
    return DCF_OK;

fail:
    dcf_scan_result_free(result);
    return st;
}

dcf_status dcf_scan_complete(const uint8_t *data, size_t size, const dcf_scan_options *options,
                             const dcf_scan_result *partial, dcf_scan_result *full,
                             dcf_error *err)
{
    dcf_scan_options defaults;
    if (!options) {
        dcf_scan_options_init(&defaults);
        options = &defaults;
    }
    memset(full, 0, sizeof *full);
    dcf_error_clear(err);
    if (partial->complete || partial->pixel_data < 0 ||
        (size_t)partial->pixel_data >= partial->count || partial->resume_offset > size)
        return dcf_fail(err, DCF_E_ARGUMENT, DCF_NO_TAG, 0, "not a partial scan of this data");

    /* A copy, not a realloc of `partial`: other threads may be reading it. */
    *full = *partial;
    full->elements = NULL;
    full->capacity = 0;
    size_t room = partial->count + initial_capacity(size - (size_t)partial->resume_offset);
    if (room > SIZE_MAX / sizeof(dcf_element) ||
        !(full->elements = malloc(room * sizeof(dcf_element)))) {
        memset(full, 0, sizeof *full);
        return dcf_fail(err, DCF_E_NO_MEMORY, DCF_NO_TAG, partial->resume_offset,
                        "out of memory copying the element index (%zu entries)", room);
    }
    memcpy(full->elements, partial->elements, partial->count * sizeof(dcf_element));
    full->capacity = room;

    scanner s = {
        .data = data,
        .size = size,
        .max_depth = options->max_depth ? options->max_depth : DCF_DEFAULT_MAX_DEPTH,
        .initial_capacity = INITIAL_CAPACITY,
        .out = full,
        .err = err,
    };
    const dcf_element *pixel = &partial->elements[partial->pixel_data];
    size_t pos = (size_t)partial->resume_offset;
    dcf_status st = scan_fragments(&s, &pos, size, (pixel->flags & DCF_FLAG_BIG_ENDIAN) != 0,
                                   pixel->tag, partial->pixel_data, pixel->depth, 0);
    if (!st)
        st = scan_elements(&s, &pos, size, encoding_of((dcf_encoding)partial->encoding),
                           RUN_TO_LIMIT, -1, 0);
    if (st) {
        dcf_scan_result_free(full);
        return st;
    }
    full->complete = 1;
    full->resume_offset = 0;
    return DCF_OK;
}
