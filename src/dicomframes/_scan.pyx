# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Boundary to the C element scanner: bytes in, an element index out.

The index stays in C memory; lookups run over it in C, and the numpy view of
it (`ElementIndex.array()`) is built only when someone asks for it.

A lazy scan (`scan(..., lazy=True)`) may stop after the offset table of the
top-level encapsulated Pixel Data (see csrc/dcf_scan.h). The index then holds
every element before the Pixel Data, which is all that metadata lookups need;
whatever needs the rest (its length, `array()`, `children(-1)`, a lookup of a
tag that sorts after the Pixel Data, the fragments) first completes the scan,
once, under a lock, and then answers exactly as an eager scan would.

Damage after the top-level Pixel Data (a cut, garbage, a bogus length) does
not fail the scan: the index ends before it, `damage` holds the error it
would have been, and a DicomFramesWarning says so once, when the scan (or its
completion) meets it.
"""
import threading
import warnings
from typing import NamedTuple

from libc.stdint cimport int32_t, uint8_t, uint16_t, uint32_t, uint64_t
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.unicode cimport PyUnicode_DecodeLatin1
from libc.string cimport memcpy

cimport numpy as cnp
import numpy as np

from libc.stdlib cimport free

from dicomframes._capi cimport (
    DCF_E_NO_MEMORY, DCF_FLAG_BIG_ENDIAN, DCF_FLAG_ENCAPSULATED, DCF_FLAG_FRAGMENT,
    DCF_FLAG_IMPLICIT_VR, DCF_FLAG_ITEM, DCF_FLAG_TRUNCATED, DCF_FLAG_UNDEFINED_LENGTH, DCF_OK,
    dcf_element, dcf_error, dcf_scan,
    dcf_scan_complete, dcf_scan_options,
    dcf_scan_options_init, dcf_scan_result, dcf_scan_result_free, error_from,
)
from dicomframes.errors import DicomFramesWarning, from_status

cnp.import_array()

ELEMENT_DTYPE = np.dtype(
    [
        ("tag", "=u4"),
        ("vr", "S2"),
        ("flags", "=u2"),
        ("parent", "=i4"),
        ("depth", "=u4"),
        ("offset", "=u8"),
        ("length", "=u8"),
    ],
    align=True,
)
assert ELEMENT_DTYPE.itemsize == sizeof(dcf_element)

# One row of the index, as `ElementIndex.record` returns it.
ElementRecord = NamedTuple("ElementRecord", [("tag", int), ("vr", str), ("flags", int),
                                             ("offset", int), ("length", int)])

_new_tuple = tuple.__new__

cdef const unsigned char EMPTY[1]


cdef class ElementIndex:
    """The scanner's output: one record per element, item and fragment."""

    cdef dcf_scan_result result
    cdef object _array
    # What completing a lazy scan needs: the scanned object (a reference, not a
    # buffer export, so that the file can still be closed), the options, a lock.
    cdef object _data
    cdef dcf_scan_options _options
    cdef object _lock
    cdef object _failure       # (status, tag, offset, message) of a failed completion
    cdef object _damage        # the DicomFramesError of the damage after the Pixel Data
    # Called (once, under the lock) before a lazy scan is completed: a remote source
    # fetches the bytes the completion reads (everything after the offset table).
    cdef public object before_finish
    cdef dcf_element *_retired # the partial index: another thread may still read it
    cdef readonly uint64_t meta_offset
    cdef readonly uint64_t dataset_offset
    cdef readonly int32_t transfer_syntax
    cdef readonly int32_t pixel_data
    cdef readonly bint has_preamble
    cdef readonly bint has_file_meta
    cdef readonly int encoding
    cdef readonly int encoding_source

    def __dealloc__(self):
        dcf_scan_result_free(&self.result)
        free(self._retired)

    @property
    def damage(self):
        """The DicomFramesError met after the top-level Pixel Data (the index
        ends before it), or None. On a lazy index, known once complete."""
        return self._damage

    cdef int _note_damage(self) except -1:
        if self.result.damaged and self._damage is None:
            self._damage = error_from(&self.result.damage)
            warnings.warn(DicomFramesWarning(
                f"damaged data after the Pixel Data, ignored (the frames are whole): "
                f"{self._damage}", tag=self._damage.tag, offset=self._damage.offset),
                stacklevel=3)
        return 0

    @property
    def complete(self):
        """False while a lazy scan has not indexed the Pixel Data's fragments
        and what follows them (see `finish`)."""
        return bool(self.result.complete)

    @property
    def indexed(self):
        """Elements indexed so far (`len()` completes the scan first)."""
        return self.result.count

    def finish(self):
        """Complete a lazy scan: index the fragments and whatever follows the
        Pixel Data. Thread-safe; done once. Raises the error an eager scan
        would have raised at open (again on every later call)."""
        if not self.result.complete:
            self._finish()

    cdef int _finish(self) except -1:
        cdef dcf_scan_result full
        cdef dcf_error err
        cdef int status
        cdef const unsigned char[::1] data
        cdef const unsigned char *ptr
        with self._lock:
            if self.result.complete:
                return 0
            if self._failure is not None:
                raise from_status(*self._failure)
            if self.before_finish is not None:
                # Cleared only once it succeeds: a network error is raised as it is,
                # and the next attempt fetches again rather than scan missing bytes.
                self.before_finish()
                self.before_finish = None
            try:
                data = self._data
            except ValueError:  # the memoryview was released
                raise ValueError("the data was closed before its Pixel Data fragments were "
                                 "indexed") from None
            ptr = &data[0] if data.shape[0] > 0 else EMPTY
            with nogil:
                status = dcf_scan_complete(ptr, data.shape[0], &self._options, &self.result,
                                           &full, &err)
            if status != DCF_OK:
                if status != DCF_E_NO_MEMORY:  # may pass; anything else is in the data
                    self._failure = (<int>err.status, err.tag, err.offset,
                                     err.message.decode("utf-8", "replace"))
                raise error_from(&err)
            # Swapped while holding the GIL; the partial array stays allocated
            # because a reader in another thread may hold a pointer into it.
            self._retired = self.result.elements
            self.result = full
            self._data = None
        self._note_damage()
        return 0

    cdef inline bint _beyond_prefix(self, int32_t parent):
        """Would the children of `parent` (-1: top level) lie partly after
        where a lazy scan stopped? Nested data sets before the Pixel Data are
        wholly indexed."""
        return not self.result.complete and (parent < 0 or parent >= self.result.pixel_data)

    def __len__(self):
        if not self.result.complete:
            self._finish()
        return self.result.count

    cdef inline void _check(self, Py_ssize_t i) except *:
        if i >= 0 and <size_t>i >= self.result.count and not self.result.complete:
            self._finish()
        if i < 0 or <size_t>i >= self.result.count:
            raise IndexError(f"element {i} out of range")

    def array(self):
        """The index as a read-only numpy structured array (ELEMENT_DTYPE)."""
        cdef cnp.ndarray out
        if not self.result.complete:
            self._finish()
        if self._array is None:
            out = np.empty(self.result.count, dtype=ELEMENT_DTYPE)
            if self.result.count:
                memcpy(cnp.PyArray_DATA(out), self.result.elements,
                       self.result.count * sizeof(dcf_element))
            out.flags.writeable = False
            self._array = out
        return self._array

    def record(self, Py_ssize_t i):
        """The ElementRecord (tag, vr, flags, offset, length) of element `i`."""
        self._check(i)
        cdef dcf_element *e = &self.result.elements[i]
        # tuple.__new__: the NamedTuple's own __new__ is Python code, several times the cost
        return _new_tuple(ElementRecord, (e.tag, PyUnicode_DecodeLatin1(e.vr, 2, NULL), e.flags,
                                          e.offset, e.length))

    def find(self, int32_t parent, uint32_t tag):
        """Index of the first child of `parent` (-1: top level) with `tag`, or -1.
        On a lazy index a top-level tag sorting before the Pixel Data is not
        looked for after it (data set elements ascend by tag, PS3.5 7.1)."""
        cdef Py_ssize_t found = self._find(parent, tag, <size_t>(parent + 1))
        cdef size_t searched = self.result.count
        if found >= 0 or not self._beyond_prefix(parent):
            return found
        if parent < 0 and tag < self.result.elements[self.result.pixel_data].tag:
            return -1
        self._finish()
        return self._find(parent, tag, searched)

    cdef Py_ssize_t _find(self, int32_t parent, uint32_t tag, size_t start):
        cdef size_t i
        cdef dcf_element *e = self.result.elements
        for i in range(start, self.result.count):
            if e[i].tag == tag and e[i].parent == parent:
                return <Py_ssize_t>i
        return -1

    def children(self, int32_t parent):
        """{tag: index} of the direct children of `parent` (-1: top level)."""
        if self._beyond_prefix(parent):
            self._finish()
        cdef size_t i
        cdef dcf_element *e = self.result.elements
        cdef dict table = {}
        for i in range(<size_t>(parent + 1), self.result.count):
            if e[i].parent == parent and e[i].tag not in table:
                table[e[i].tag] = i
        return table

    def items_of(self, int32_t parent):
        """Indices of the items (or fragments) directly under `parent`."""
        if self._beyond_prefix(parent):
            self._finish()
        cdef size_t i
        cdef dcf_element *e = self.result.elements
        cdef list found = []
        for i in range(<size_t>(parent + 1), self.result.count):
            if e[i].parent == parent and (e[i].flags & (DCF_FLAG_ITEM | DCF_FLAG_FRAGMENT)):
                found.append(i)
        return found

    def fragments(self, int32_t parent):
        """(offsets, lengths) uint64 arrays of the fragments under `parent`."""
        if self._beyond_prefix(parent):
            self._finish()
        cdef size_t i, n = 0
        cdef dcf_element *e = self.result.elements
        for i in range(<size_t>(parent + 1), self.result.count):
            if e[i].parent == parent and (e[i].flags & DCF_FLAG_FRAGMENT):
                n += 1
        cdef cnp.ndarray offsets = np.empty(n, np.uint64)
        cdef cnp.ndarray lengths = np.empty(n, np.uint64)
        cdef uint64_t *o = <uint64_t *>cnp.PyArray_DATA(offsets)
        cdef uint64_t *l = <uint64_t *>cnp.PyArray_DATA(lengths)
        n = 0
        for i in range(<size_t>(parent + 1), self.result.count):
            if e[i].parent == parent and (e[i].flags & DCF_FLAG_FRAGMENT):
                o[n] = e[i].offset
                l[n] = e[i].length
                n += 1
        return offsets, lengths

    cdef int _find_top_level(self, tags, Py_ssize_t *found) except -1:
        """found[j]: the first top-level element with tags[j] (at most 32), or -1.
        One pass over the indexed elements: a lazy index holds every top-level
        element before the Pixel Data, and nothing here completes it."""
        cdef uint32_t wanted[32]
        cdef Py_ssize_t slot, n = len(tags), missing = len(tags)
        cdef size_t i
        cdef dcf_element *e = self.result.elements
        if n > 32:
            raise ValueError("at most 32 tags are looked for at once")
        for slot in range(n):
            wanted[slot] = tags[slot]
            found[slot] = -1
        for i in range(self.result.count):
            if missing == 0:
                break
            if e[i].depth != 0:
                continue
            for slot in range(n):
                if found[slot] < 0 and e[i].tag == wanted[slot]:
                    found[slot] = <Py_ssize_t>i
                    missing -= 1
        return 0

    def top_level_values(self, const unsigned char[::1] data not None, us_tags, raw_tags,
                         size_t limit):
        """[int or None for each of `us_tags`, then bytes or None for each of
        `raw_tags`] (at most 32 tags in all), from the first top-level element
        with each tag: its first US value in its byte order (None when shorter
        than 2 bytes: implicit VR files may store anything there), or its value
        bytes cut to `limit` + 1 (so that a longer value shows as one). None
        when absent or past the end of `data`."""
        cdef Py_ssize_t found[32]
        cdef Py_ssize_t slot, n_us = len(us_tags)
        cdef dcf_element *e
        cdef const unsigned char *p
        cdef uint64_t size
        self._find_top_level(tuple(us_tags) + tuple(raw_tags), found)
        values = []
        for slot in range(n_us + len(raw_tags)):
            if found[slot] < 0:
                values.append(None)
                continue
            e = &self.result.elements[found[slot]]
            size = 2 if slot < n_us else min(e.length, limit + 1)
            if e.length < size or e.offset + size > <uint64_t>data.shape[0]:
                values.append(None)
                continue
            p = &data[e.offset] if size else EMPTY
            if slot >= n_us:
                values.append(PyBytes_FromStringAndSize(<const char *>p, <Py_ssize_t>size))
            elif e.flags & DCF_FLAG_BIG_ENDIAN:
                values.append((p[0] << 8) | p[1])
            else:
                values.append(p[0] | (p[1] << 8))
        return values

    def plain_values(self, const unsigned char[::1] data not None, us_tags, checked_tags,
                     uint32_t is_tag, uint32_t cs_tag, size_t limit):
        """[int or None for each of `us_tags`, then the IS value of `is_tag`,
        then the CS value of `cs_tag`] (first top-level elements, as
        `top_level_values` finds them) when every one of them, and each of
        `checked_tags` (US, values not returned), is absent or plainly
        well-formed: VR US (IS, CS) or implicit, a defined length within
        `data`: 2 bytes for US, 1 to `limit` for IS (digits padded with spaces
        or NULs) and CS (printable ASCII, one value, padded). Else None: the
        caller reads them the general way, which words any error. Claims
        nothing the general way would not: the fast way of reading the Image
        Pixel attributes of a well-formed file."""
        cdef Py_ssize_t found[32]
        cdef Py_ssize_t slot, n_us = len(us_tags), n_checked = len(checked_tags)
        cdef Py_ssize_t n = n_us + n_checked + 2
        cdef dcf_element *e
        cdef const unsigned char *p
        cdef size_t i, start, end
        cdef long long number
        cdef uint16_t bad_flags = (DCF_FLAG_UNDEFINED_LENGTH | DCF_FLAG_ITEM | DCF_FLAG_FRAGMENT
                                   | DCF_FLAG_ENCAPSULATED | DCF_FLAG_TRUNCATED)
        self._find_top_level(tuple(us_tags) + tuple(checked_tags) + (is_tag, cs_tag), found)
        values = []
        for slot in range(n):
            if found[slot] < 0:
                if slot < n_us or slot >= n_us + n_checked:
                    values.append(None)
                continue
            e = &self.result.elements[found[slot]]
            if e.flags & bad_flags or e.offset > <uint64_t>data.shape[0] or \
                    e.length > <uint64_t>data.shape[0] - e.offset:
                return None
            p = &data[e.offset] if e.length else EMPTY
            if slot < n_us + n_checked:  # US: one value
                if e.length != 2 or not (e.flags & DCF_FLAG_IMPLICIT_VR or
                                         (e.vr[0] == b'U' and e.vr[1] == b'S')):
                    return None
                if slot < n_us:
                    values.append((p[0] << 8) | p[1] if e.flags & DCF_FLAG_BIG_ENDIAN
                                  else p[0] | (p[1] << 8))
                continue
            # IS or CS: one value, padded with spaces or NULs at either end
            if e.length == 0 or e.length > limit:
                return None
            start, end = 0, e.length
            while start < end and (p[start] == 32 or p[start] == 0):
                start += 1
            while end > start and (p[end - 1] == 32 or p[end - 1] == 0):
                end -= 1
            if start == end:
                return None
            if slot == n - 2:  # IS: decimal digits (at most 18)
                if not (e.flags & DCF_FLAG_IMPLICIT_VR or (e.vr[0] == b'I' and e.vr[1] == b'S')):
                    return None
                if end - start > 18:
                    return None
                number = 0
                for i in range(start, end):
                    if p[i] < 48 or p[i] > 57:
                        return None
                    number = number * 10 + (p[i] - 48)
                values.append(number)
            else:  # CS: printable ASCII, no backslash (one value)
                if not (e.flags & DCF_FLAG_IMPLICIT_VR or (e.vr[0] == b'C' and e.vr[1] == b'S')):
                    return None
                for i in range(start, end):
                    if p[i] < 32 or p[i] > 126 or p[i] == 92:
                        return None
                values.append(PyUnicode_DecodeLatin1(<const char *>p + start,
                                                     <Py_ssize_t>(end - start), NULL))
        return values

    def top_level_records(self, tags):
        """[(index, vr, flags, offset, length) or None for each of `tags`] (at
        most 32): the first top-level element with each tag, found in one pass
        (as find(-1, tag) does, completing nothing), as plain tuples: cheaper
        than find + record per tag where a few attributes are checked on every
        open."""
        cdef Py_ssize_t found[32]
        cdef Py_ssize_t slot
        cdef dcf_element *e
        tags = tuple(tags)
        self._find_top_level(tags, found)
        records = []
        for slot in range(len(tags)):
            if found[slot] < 0:
                records.append(None)
                continue
            e = &self.result.elements[found[slot]]
            records.append((found[slot], e.vr[:2].decode("latin-1"), e.flags, e.offset,
                            e.length))
        return records


def scan(object source not None, int force_encoding=-1, unsigned int max_depth=0,
         int lazy=0):
    """Index the DICOM data in `source` (a bytes-like object) and return an
    ElementIndex. `lazy` 1 (or True): stop after the offset table of the
    top-level encapsulated Pixel Data when that table can place the frames;
    2: stop there whatever the table holds (sources fetched on demand). The
    index then keeps a reference to `source` to complete itself when asked.

    Raises a DicomFramesError subclass naming the tag and byte offset on bad data.
    """
    cdef const unsigned char[::1] data = source
    cdef dcf_scan_options options
    cdef dcf_error err
    cdef int status
    cdef const unsigned char *ptr = &data[0] if data.shape[0] > 0 else EMPTY
    cdef size_t size = data.shape[0]
    cdef ElementIndex index = ElementIndex.__new__(ElementIndex)
    dcf_scan_options_init(&options)
    options.force_encoding = force_encoding
    if max_depth:
        options.max_depth = max_depth
    if lazy < 0 or lazy > 2:
        raise ValueError(f"lazy must be 0, 1 or 2, not {lazy}")
    options.lazy_fragments = lazy
    with nogil:
        status = dcf_scan(ptr, size, &options, &index.result, &err)
    if status != DCF_OK:
        raise error_from(&err)
    if not index.result.complete:
        index._data = source
        index._options = options
        index._lock = threading.Lock()
    index.meta_offset = index.result.meta_offset
    index.dataset_offset = index.result.dataset_offset
    index.transfer_syntax = index.result.transfer_syntax
    index.pixel_data = index.result.pixel_data
    index.has_preamble = index.result.has_preamble
    index.has_file_meta = index.result.has_file_meta
    index.encoding = index.result.encoding
    index.encoding_source = index.result.encoding_source
    index._note_damage()
    return index
