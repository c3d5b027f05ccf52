# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Boundary to the C frame codecs: one compressed frame in, its pixels out.

Each ``decode_*`` function takes the frame as any C-contiguous bytes-like
(bytes, bytearray, a read-only mmap or memoryview) and writes the decoded
samples into ``out``, a writable C-contiguous buffer (normally a numpy array)
of exactly rows * columns * samples * item size bytes, in native byte order,
shaped (rows, columns, samples) unless ``planar_configuration`` is 1. The GIL
is released for the whole decode. Failures raise a
:class:`dicomframes.errors.DicomFramesError` subclass.
"""
from cpython.buffer cimport (
    PyBUF_C_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer,
)
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport UINT64_MAX, uint8_t, uint32_t, uint64_t

from dicomframes._native cimport NativeLayout

from dicomframes._capi cimport (
    DCF_E_ARGUMENT, DCF_NO_TAG, DCF_OK, DCF_TAG_PIXEL_DATA, dcf_batch_decode_native, dcf_error,
    dcf_error_clear, dcf_status, error_from,
)

# Stands in for the data pointer of an empty source, which a memoryview lacks.
cdef const unsigned char EMPTY[1]

# codec key (TransferSyntax.codec) -> the batch decoder of csrc/dcf_batch.h
BATCH_CODECS = {"rle": DCF_BATCH_RLE, "jpegls": DCF_BATCH_JLS, "j2k": DCF_BATCH_J2K,
                "htj2k": DCF_BATCH_J2K, "jpeg": DCF_BATCH_JPEG}

cdef enum codec_kind:
    CODEC_RLE
    CODEC_JLS
    CODEC_J2K
    CODEC_JPEG_OWN
    CODEC_JPEG8
    CODEC_JPEG

# (0028,0004) Photometric Interpretation -> enum dcf_photometric
PHOTOMETRIC = {
    "MONOCHROME1": DCF_PHOTOMETRIC_MONOCHROME1,
    "MONOCHROME2": DCF_PHOTOMETRIC_MONOCHROME2,
    "RGB": DCF_PHOTOMETRIC_RGB,
    "YBR_FULL": DCF_PHOTOMETRIC_YBR_FULL,
    "YBR_FULL_422": DCF_PHOTOMETRIC_YBR_FULL_422,
    "YBR_RCT": DCF_PHOTOMETRIC_YBR_RCT,
    "YBR_ICT": DCF_PHOTOMETRIC_YBR_ICT,
    "PALETTE COLOR": DCF_PHOTOMETRIC_PALETTE,
}


def codec_versions():
    """The versions of the codec libraries this module is linked with."""
    return {
        "openjpeg": dcf_openjpeg_version().decode("ascii", "replace"),
        "libjpeg": dcf_libjpeg_version().decode("ascii", "replace"),
    }


def _text(const char *s):
    return s.decode("utf-8", "surrogateescape") if s != NULL else ""


def engine_config():
    """What the C core runs with, for dicomframes.show_config(): per engine its
    loaded version, the version of the headers it was compiled against, the file
    its code was loaded from ("" where the platform cannot tell) and, for our own
    kernels, the SIMD variant this CPU runs."""
    return {
        "core": {"path": _text(dcf_library_path(DCF_LIBRARY_CORE))},
        "openjpeg": {
            "version": _text(dcf_openjpeg_version()),
            "compiled": _text(dcf_openjpeg_header_version()),
            "path": _text(dcf_library_path(DCF_LIBRARY_OPENJPEG)),
        },
        "libjpeg": {
            # libjpeg(-turbo) exports no version function: the header's is all there is.
            "compiled": _text(dcf_libjpeg_version()),
            "path": _text(dcf_library_path(DCF_LIBRARY_LIBJPEG)),
        },
        "zlib": {
            "version": _text(dcf_zlib_version()),
            "compiled": _text(dcf_zlib_header_version()),
            "path": _text(dcf_library_path(DCF_LIBRARY_ZLIB)),
        },
        "simd": {
            "jpeg_dct12": _text(dcf_dct12_variant()),
            "rle_interleave": _text(dcf_rle_variant()),
            "cpu": _text(dcf_cpu_features()),
        },
    }


cdef argument_error(str message):
    from dicomframes.errors import from_status
    return from_status(DCF_E_ARGUMENT, DCF_NO_TAG, 0, message)


cdef long long checked(object value, str name, long long low, long long high) except? -1:
    """`value` as an int in [low, high], else a DicomFramesError."""
    cdef long long result
    try:
        result = value.__index__()
    except (AttributeError, TypeError, OverflowError):
        raise argument_error(f"{name} must be an integer, not {value!r}") from None
    if result < low or result > high:
        raise argument_error(f"{name} {result} is out of range {low}..{high}")
    return result


cdef int photometric_code(object photometric) except -1:
    if isinstance(photometric, str):
        return PHOTOMETRIC.get(photometric.strip().upper(), DCF_PHOTOMETRIC_OTHER)
    return <int>checked(photometric, "photometric", 0, DCF_PHOTOMETRIC_OTHER)


cdef int fill_spec(dcf_frame_spec *spec, object rows, object columns,
                   object samples_per_pixel, object bits_allocated, object bits_stored,
                   object pixel_representation, object photometric,
                   object planar_configuration) except -1:
    spec.rows = <uint32_t>checked(rows, "rows", 1, 0xFFFFFFFF)
    spec.columns = <uint32_t>checked(columns, "columns", 1, 0xFFFFFFFF)
    spec.samples_per_pixel = <uint16_t>checked(samples_per_pixel, "samples per pixel", 1, 0xFFFF)
    spec.bits_allocated = <uint16_t>checked(bits_allocated, "bits allocated", 1, 0xFFFF)
    spec.bits_stored = <uint16_t>checked(bits_stored, "bits stored", 1, 0xFFFF)
    spec.pixel_representation = <uint8_t>checked(pixel_representation, "pixel representation", 0, 1)
    spec.planar_configuration = <uint8_t>checked(planar_configuration, "planar configuration", 0, 1)
    spec.photometric = <uint8_t>photometric_code(photometric)
    return 0


cdef int decode(codec_kind kind, const unsigned char[::1] src, object out,
                const dcf_frame_spec *spec, int reduce, int threads, int to_rgb=1,
                int *colour_done=NULL) except -1:
    """Decode `src` into the buffer `out` with the GIL released. `reduce` reaches
    J2K and JPEG, `threads` J2K, `to_rgb` and `colour_done` JPEG."""
    cdef Py_buffer view
    cdef int done = 0
    cdef dcf_error err
    cdef dcf_status status
    cdef size_t src_size = src.shape[0]
    cdef const uint8_t *src_data = EMPTY
    if src_size > 0:
        src_data = &src[0]

    try:
        PyObject_GetBuffer(out, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
    except (BufferError, TypeError, ValueError) as exc:
        raise TypeError(f"out must be a writable C-contiguous buffer: {exc}") from None
    dcf_error_clear(&err)
    try:
        with nogil:
            if kind == CODEC_RLE:
                status = dcf_rle_decode(src_data, src_size, spec, <uint8_t *>view.buf,
                                        <size_t>view.len, &err)
            elif kind == CODEC_JLS:
                status = dcf_jls_decode(src_data, src_size, spec, <uint8_t *>view.buf,
                                        <size_t>view.len, &err)
            elif kind == CODEC_JPEG_OWN:
                status = dcf_jpeg_decode(src_data, src_size, spec, <uint8_t *>view.buf,
                                         <size_t>view.len, &err)
            elif kind == CODEC_JPEG8:
                status = dcf_jpeg8_decode(src_data, src_size, spec, to_rgb, reduce,
                                          <uint8_t *>view.buf, <size_t>view.len, &err)
            elif kind == CODEC_JPEG:
                status = dcf_jpeg_any_decode(src_data, src_size, spec, to_rgb, reduce,
                                             <uint8_t *>view.buf, <size_t>view.len, &done,
                                             &err)
            else:
                status = dcf_j2k_decode(src_data, src_size, spec, <uint8_t *>view.buf,
                                        <size_t>view.len, reduce, threads, &err)
    finally:
        PyBuffer_Release(&view)
    if status != DCF_OK:
        raise error_from(&err)
    if colour_done != NULL:
        colour_done[0] = done
    return 0


def decode_rle(const unsigned char[::1] src not None, out, rows, columns,
               samples_per_pixel, bits_allocated, bits_stored, pixel_representation,
               photometric, planar_configuration=0):
    """Decode one RLE Lossless frame into `out`.

    Bits above Bits Stored are cleared (unsigned) or sign-filled (signed).
    """
    cdef dcf_frame_spec spec
    fill_spec(&spec, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
              pixel_representation, photometric, planar_configuration)
    decode(CODEC_RLE, src, out, &spec, 0, 1)


def decode_jls(const unsigned char[::1] src not None, out, rows, columns,
               samples_per_pixel, bits_allocated, bits_stored, pixel_representation,
               photometric, planar_configuration=0):
    """Decode one JPEG-LS (lossless or near-lossless) frame into `out`.

    With Pixel Representation 1 the samples are sign-extended from the
    codestream's precision.
    """
    cdef dcf_frame_spec spec
    fill_spec(&spec, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
              pixel_representation, photometric, planar_configuration)
    decode(CODEC_JLS, src, out, &spec, 0, 1)


def decode_j2k(const unsigned char[::1] src not None, out, rows, columns,
               samples_per_pixel, bits_allocated, bits_stored, pixel_representation,
               photometric, planar_configuration=0, reduce=0, threads=1):
    """Decode one JPEG 2000 or HTJ2K frame (codestream or JP2) into `out`.

    `reduce` drops that many resolution levels: rows and columns are then the
    reduced size, ceil(full / 2**reduce). `threads` > 1 decodes in parallel.
    YBR_RCT/YBR_ICT come out as RGB.
    """
    cdef dcf_frame_spec spec
    fill_spec(&spec, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
              pixel_representation, photometric, planar_configuration)
    decode(CODEC_J2K, src, out, &spec, <int>checked(reduce, "reduce", 0, 32),
           <int>checked(threads, "threads", 0, 1024))


def decode_jpeg_own(const unsigned char[::1] src not None, out, rows, columns,
                    samples_per_pixel, bits_allocated, bits_stored, pixel_representation,
                    photometric, planar_configuration=0):
    """Decode one JPEG lossless (SOF3) or 12-bit DCT (SOF0/SOF1) frame into `out`
    with our own decoder.

    Bits allocated 8 or 16. Subsampled components are upsampled as
    libjpeg-turbo does by default (interpolated for 12-bit DCT components
    subsampled 2:1, else replicated); no colour conversion. As pydicom does for JPEG, the bits above
    Bits Stored are cleared (Pixel Representation 0) or sign-filled (1). Other
    JPEG processes (8-bit DCT, progressive, arithmetic, hierarchical) raise
    UnsupportedError.
    """
    cdef dcf_frame_spec spec
    fill_spec(&spec, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
              pixel_representation, photometric, planar_configuration)
    decode(CODEC_JPEG_OWN, src, out, &spec, 0, 1)


def jpeg_info(const unsigned char[::1] src not None):
    """The frame header of a JPEG codestream, from its SOFn marker segment.

    Returns a dict: ``sof`` (the marker's second byte, 0xC0..0xCF),
    ``precision``, ``rows``, ``columns``, ``components`` (Nf) and
    ``component_info``, a list of ``(id, h, v, tq)`` for the first four.
    """
    cdef dcf_jpeg_info info
    cdef dcf_error err
    cdef dcf_status status
    cdef size_t src_size = src.shape[0]
    cdef const uint8_t *src_data = EMPTY
    if src_size > 0:
        src_data = &src[0]
    dcf_error_clear(&err)
    with nogil:
        status = dcf_jpeg_peek(src_data, src_size, &info, &err)
    if status != DCF_OK:
        raise error_from(&err)
    count = info.components if info.components < 4 else 4
    return {
        "sof": info.sof,
        "precision": info.precision,
        "rows": info.rows,
        "columns": info.columns,
        "components": info.components,
        "component_info": [
            (info.component[i].id, info.component[i].h, info.component[i].v,
             info.component[i].tq) for i in range(count)
        ],
    }


# ---- 8-bit DCT JPEG on libjpeg(-turbo) ---------------------------------------------------
def decode_jpeg8(const unsigned char[::1] src not None, out, rows, columns,
                 samples_per_pixel, bits_allocated, bits_stored, pixel_representation,
                 photometric, planar_configuration=0, as_rgb=True, reduce=0):
    """Decode one 8-bit DCT JPEG frame (baseline, extended 8-bit, progressive) into `out`
    with libjpeg(-turbo).

    With `as_rgb` 3-component YCbCr streams are converted to RGB by libjpeg (fancy
    upsampling, ISLOW IDCT, as Pillow does); without it the stored YCbCr comes out,
    upsampled to full size. Streams libjpeg takes as RGB (Adobe transform 0, component
    IDs 'R','G','B', or no JFIF/Adobe marker with `photometric` RGB) are never converted.
    `reduce` (0..3) scales the IDCT by 1/2**reduce: rows and columns are then the reduced
    size, ceil(full / 2**reduce). 12-bit and lossless JPEG raise UnsupportedError.
    """
    cdef dcf_frame_spec spec
    fill_spec(&spec, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
              pixel_representation, photometric, planar_configuration)
    decode(CODEC_JPEG8, src, out, &spec,
           <int>checked(reduce, "reduce", 0, DCF_JPEG8_MAX_REDUCE), 1, 1 if as_rgb else 0)


# ---- the JPEG transfer syntaxes: each frame routed by its SOF (csrc/dcf_jpeg_any.h) -----
def decode_jpeg(const unsigned char[::1] src not None, out, rows, columns,
                samples_per_pixel, bits_allocated, bits_stored, pixel_representation,
                photometric, planar_configuration=0, as_rgb=True, reduce=0):
    """Decode one frame of JPEG Baseline, Extended or Lossless Pixel Data into `out`:
    8-bit DCT frames through libjpeg-turbo (as :func:`decode_jpeg8`), lossless and
    12-bit frames through our own decoder (as :func:`decode_jpeg_own`). Returns True
    when the codec took care of colour (libjpeg: YCbCr to RGB with `as_rgb`, the
    stored YCbCr without), False when nothing was converted (our decoder) and a
    YBR_FULL frame is left to the caller. `reduce` (0..3) applies to 8-bit DCT
    frames only; the others raise UnsupportedError for it.
    """
    cdef dcf_frame_spec spec
    cdef int colour_done = 0
    fill_spec(&spec, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
              pixel_representation, photometric, planar_configuration)
    decode(CODEC_JPEG, src, out, &spec,
           <int>checked(reduce, "reduce", 0, DCF_JPEG8_MAX_REDUCE), 1, 1 if as_rgb else 0,
           &colour_done)
    return bool(colour_done)


cdef object batch_outcome(dcf_status status, size_t failed, size_t count, dcf_error *err,
                          const uint64_t *frame_numbers=NULL):
    """What a batch call returns: None when it succeeded, else ``(position,
    error)`` for the lowest failing position (its frame number from
    `frame_numbers`, where given); a failure of no position (the batch's
    arguments) is raised instead."""
    if status == DCF_OK:
        return None
    if failed >= count:
        raise error_from(err)
    return (<Py_ssize_t>failed,
            error_from(err, frame_numbers[failed] if frame_numbers != NULL else None))


def decode_batch(str codec, frames, out, rows, columns, samples_per_pixel,
                 bits_allocated, bits_stored, pixel_representation, photometric,
                 threads=1, codec_threads=1, planar_configuration=0, as_rgb=True,
                 colour_done=None):
    """Decode ``frames[i]`` (bytes-likes, codec one of :data:`BATCH_CODECS`)
    into ``out[i]`` for every i, on up to `threads` C threads (the caller's
    included) with the GIL released throughout: `out` is a writable
    C-contiguous buffer of ``len(frames)`` frames. `codec_threads` reaches
    J2K/HTJ2K, `as_rgb` JPEG (as for :func:`decode_jpeg`: a frame it leaves
    unconverted stays so; `colour_done`, a writable buffer of ``len(frames)``
    bytes, receives 1 for each JPEG frame whose colour the codec took care of,
    0 for the others). Returns None, or ``(i, error)`` for the lowest
    failing position i (no position after a failure is started; frames
    before it are decoded)."""
    cdef dcf_frame_spec spec
    cdef dcf_batch_codec kind
    cdef Py_buffer view
    cdef Py_buffer *sources = NULL
    cdef dcf_batch_source *located = NULL
    cdef tuple items = tuple(frames)  # the GIL is released while its buffers are held
    cdef Py_ssize_t count = len(items), held = 0, i
    cdef size_t failed = 0, frame_size
    cdef unsigned thread_count = <unsigned>checked(threads, "threads", 1, 1 << 16)
    cdef int codec_thread_count = <int>checked(codec_threads, "codec threads", 1, 1024)
    cdef int to_rgb = 1 if as_rgb else 0
    cdef Py_buffer done_view
    cdef bint done_held = False
    cdef uint8_t *done = NULL
    cdef dcf_error err
    cdef dcf_status status
    try:
        kind = BATCH_CODECS[codec]
    except KeyError:
        raise argument_error(f"no batch decoder for codec {codec!r}") from None
    fill_spec(&spec, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
              pixel_representation, photometric, planar_configuration)
    try:
        PyObject_GetBuffer(out, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
    except (BufferError, TypeError, ValueError) as exc:
        raise TypeError(f"out must be a writable C-contiguous buffer: {exc}") from None
    try:
        if colour_done is not None:
            PyObject_GetBuffer(colour_done, &done_view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
            done_held = True
            if done_view.len != count:
                raise argument_error(f"colour_done holds {done_view.len} bytes, not {count}")
            done = <uint8_t *>done_view.buf
        if count == 0:
            return None
        if view.len % count:
            raise argument_error(f"out holds {view.len} bytes, not a whole number of "
                                 f"{count} frames")
        frame_size = <size_t>(view.len // count)
        dcf_error_clear(&err)
        if dcf_frame_spec_check(&spec, frame_size, &err) != DCF_OK:
            raise error_from(&err)
        sources = <Py_buffer *>PyMem_Malloc(count * sizeof(Py_buffer))
        located = <dcf_batch_source *>PyMem_Malloc(count * sizeof(dcf_batch_source))
        if sources == NULL or located == NULL:
            raise MemoryError()
        for i in range(count):
            PyObject_GetBuffer(items[i], &sources[i], PyBUF_C_CONTIGUOUS)
            held += 1
            located[i].data = <const uint8_t *>sources[i].buf if sources[i].len else EMPTY
            located[i].size = <size_t>sources[i].len
        with nogil:
            status = dcf_batch_decode(kind, located, <size_t>count, &spec,
                                      <uint8_t *>view.buf, frame_size, thread_count,
                                      codec_thread_count, to_rgb, done, &failed, &err)
        return batch_outcome(status, failed, <size_t>count, &err)
    finally:
        for i in range(held):
            PyBuffer_Release(&sources[i])
        PyMem_Free(sources)
        PyMem_Free(located)
        if done_held:
            PyBuffer_Release(&done_view)
        PyBuffer_Release(&view)


def decode_native_batch(NativeLayout layout not None, const unsigned char[::1] src not None,
                        indices, unsigned char[::1] out not None,
                        uint32_t pixel_tag=DCF_TAG_PIXEL_DATA, uint64_t value_offset=0,
                        bint stream=False, unsigned threads=1):
    """Decode native frames ``indices[i]`` of the Pixel Data value `src` (laid
    out as `layout` says) into slot i of `out` (bytes, ``layout.frame_size``
    per index) on up to `threads` threads of the C pool, the GIL released
    throughout (csrc/dcf_batch.h). None, or ``(i, error)`` for the lowest
    failing position i (frames before it are decoded, none after started)."""
    cdef tuple numbers_in = tuple(indices)
    cdef Py_ssize_t count = len(numbers_in), i
    cdef uint64_t *numbers
    cdef size_t failed = 0
    cdef dcf_error err
    cdef dcf_status status
    cdef const unsigned char *s = &src[0] if src.shape[0] > 0 else EMPTY
    if count == 0:
        return None
    if (layout.frame_size and <uint64_t>count > UINT64_MAX // layout.frame_size) or (
            <uint64_t>out.shape[0] != <uint64_t>count * layout.frame_size):
        raise ValueError(f"out holds {out.shape[0]} bytes, not {count} frames of "
                         f"{layout.frame_size}")
    numbers = <uint64_t *>PyMem_Malloc(count * sizeof(uint64_t))
    if numbers == NULL:
        raise MemoryError()
    try:
        for i in range(count):
            numbers[i] = numbers_in[i]
        dcf_error_clear(&err)
        with nogil:
            status = dcf_batch_decode_native(s, src.shape[0], numbers, <size_t>count,
                                             &layout.layout, &out[0], layout.frame_size,
                                             stream, pixel_tag, value_offset, threads,
                                             &failed, &err)
        return batch_outcome(status, failed, <size_t>count, &err, numbers)
    finally:
        PyMem_Free(numbers)


def prewake(workers):
    """Ask up to ``workers - 1`` sleeping threads of the C pool to wake, as a
    batch is about to come (their wake-up overlaps the caller's preparation)."""
    cdef unsigned count = <unsigned>checked(workers, "workers", 0, 1 << 16)
    with nogil:
        dcf_pool_prewake(count)
