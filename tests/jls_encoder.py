"""A test-only, pure-Python JPEG-LS encoder written from ITU-T T.87 / ISO/IEC 14495-1.

It exists so that tests can produce JPEG-LS code streams with features that the encoders at
hand (CharLS through pyjpegls) cannot be asked to write: preset parameters (LSE id 1) with
custom MAXVAL / T1-T3 / RESET, restart intervals (DRI + RSTm), every interleave mode with any
NEAR, the HP1/HP2/HP3 colour transforms of CharLS's APP8 "mrfx" segment, odd padding before
EOI or no EOI at all.  It is slow (one Python loop iteration per sample) and meant only for
small images.

Usage::

    data = encode(arr, near=0, interleave=2, restart_interval=4)

``arr`` is a numpy array (rows, cols) or (rows, cols, comps) of non-negative integers.

Where T.87 leaves a choice, or where CharLS (the reference decoder in the tests) behaves in a
way T.87 does not spell out, this module follows CharLS; each such place is marked "CharLS".
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["default_thresholds", "encode", "hp_forward"]

# T.87 A.7.1.2, table J (run-length order of the run-mode Golomb codes)
J = (0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
     4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15)

MIN_C, MAX_C = -128, 127
DEFAULT_RESET = 64


def _ceil_log2(n: int) -> int:
    """Smallest x with 2**x >= n (0 for n <= 1)."""
    return (n - 1).bit_length() if n > 1 else 0


def default_thresholds(maxval: int, near: int) -> tuple[int, int, int]:
    """T.87 C.2.4.1.1: the default T1, T2, T3 for MAXVAL and NEAR."""
    basic_t1, basic_t2, basic_t3 = 3, 7, 21

    def clamp(i: int, j: int) -> int:
        return j if (i > maxval or i < j) else i

    if maxval >= 128:
        factor = (min(maxval, 4095) + 128) // 256
        t1 = clamp(factor * (basic_t1 - 2) + 2 + 3 * near, near + 1)
        t2 = clamp(factor * (basic_t2 - 3) + 3 + 5 * near, t1)
        t3 = clamp(factor * (basic_t3 - 4) + 4 + 7 * near, t2)
    else:
        factor = 256 // (maxval + 1)
        t1 = clamp(max(2, basic_t1 // factor + 3 * near), near + 1)
        t2 = clamp(max(3, basic_t2 // factor + 5 * near), t1)
        t3 = clamp(max(4, basic_t3 // factor + 7 * near), t2)
    return t1, t2, t3


def hp_forward(arr: np.ndarray, transform: int, precision: int) -> np.ndarray:
    """CharLS's forward HP1/HP2/HP3 colour transform of (rows, cols, 3) samples, modulo 2**P."""
    rng = 1 << precision
    a = arr.astype(np.int64)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    if transform == 1:
        v1, v2, v3 = r - g + rng // 2, g, b - g + rng // 2
    elif transform == 2:
        v1, v2, v3 = r - g + rng // 2, g, b - ((r + g) >> 1) + rng // 2
    elif transform == 3:
        v2 = (b - g + rng // 2) % rng
        v3 = (r - g + rng // 2) % rng
        v1 = g + ((v2 + v3) >> 2) - rng // 4
    else:
        raise ValueError(f"unknown colour transform {transform}")
    return np.stack([v1, v2, v3], axis=-1) % rng


class _BitWriter:
    """MSB-first bit output with T.87 A.1 bit stuffing: after a 0xFF byte, the next byte
    carries only 7 bits (its MSB is a stuffed 0)."""

    def __init__(self, out: bytearray) -> None:
        self.out = out
        self.acc = 0
        self.nacc = 0
        self.last_ff = False

    def put(self, value: int, nbits: int) -> None:
        acc = (self.acc << nbits) | value
        n = self.nacc + nbits
        out = self.out
        last_ff = self.last_ff
        while n >= (7 if last_ff else 8):
            if last_ff:
                n -= 7
                byte = (acc >> n) & 0x7F
            else:
                n -= 8
                byte = (acc >> n) & 0xFF
            out.append(byte)
            last_ff = byte == 0xFF
        self.acc = acc & ((1 << n) - 1)
        self.nacc = n
        self.last_ff = last_ff

    def flush(self) -> None:
        """End of scan or of a restart interval: pad the last byte with 0 bits.  If the last
        byte written is 0xFF, one more byte (a stuffed 0 bit and seven 0 bits) follows, as
        CharLS writes it, so a marker never directly follows a 0xFF data byte."""
        if self.nacc:
            self.put(0, (7 if self.last_ff else 8) - self.nacc)
        if self.last_ff:
            self.out.append(0)
            self.last_ff = False
        self.acc = self.nacc = 0


@functools.lru_cache(maxsize=64)
def _gradient_tables(maxval: int, near: int, t1: int, t2: int, t3: int):
    """A.3.3 gradient quantization as lists indexed by D + MAXVAL, pre-multiplied by 81, 9
    and 1 so that the signed context number is q1[D1] + q2[D2] + q3[D3]."""
    d = np.arange(-maxval, maxval + 1)
    q = np.select([d <= -t3, d <= -t2, d <= -t1, d < -near, d <= near, d < t1, d < t2, d < t3],
                  [-4, -3, -2, -1, 0, 1, 2, 3], 4)
    return (81 * q).tolist(), (9 * q).tolist(), q.tolist()


class _ScanCoder:
    """Context state and sample coding of one scan (T.87 Annex A)."""

    def __init__(self, bw: _BitWriter, maxval: int, near: int, t1: int, t2: int, t3: int,
                 reset: int, ncomp_runs: int) -> None:
        self.bw = bw
        self.maxval = maxval
        self.near = near
        self.reset_val = reset
        self.range_ = (maxval + 2 * near) // (2 * near + 1) + 1
        self.qbpp = _ceil_log2(self.range_)
        bpp = max(2, _ceil_log2(maxval + 1))
        self.limit = 2 * (bpp + max(8, bpp))
        self.ncomp_runs = ncomp_runs
        self.q1, self.q2, self.q3 = _gradient_tables(maxval, near, t1, t2, t3)
        self.reset_contexts()

    def reset_contexts(self) -> None:
        """A.2.1 initialisation: at the start of the scan and of every restart interval."""
        a_init = max(2, (self.range_ + 32) // 64)
        self.A = [a_init] * 367
        self.N = [1] * 367
        self.B = [0] * 365
        self.C = [0] * 365
        self.Nn = [0, 0]  # contexts 365, 366
        self.run_index = [0] * self.ncomp_runs

    # -- coding primitives -------------------------------------------------------------
    def golomb(self, m: int, k: int, limit: int) -> None:
        """A.5.3 limited-length Golomb code of the mapped error m."""
        high = m >> k
        if high < limit - self.qbpp - 1:
            self.bw.put((1 << k) | (m & ((1 << k) - 1)), high + 1 + k)
        else:
            self.bw.put(1, limit - self.qbpp)
            self.bw.put(m - 1, self.qbpp)

    def _quantize(self, err: int) -> int:
        near = self.near
        if near:
            if err > 0:
                return (err + near) // (2 * near + 1)
            return -((near - err) // (2 * near + 1))
        return err

    def _reconstruct(self, px: int, signed_err: int) -> int:
        """Rx as the decoder computes it (A.4.4 / A.7.2 with modulo correction)."""
        near = self.near
        rx = px + signed_err * (2 * near + 1)
        if rx < -near:
            rx += self.range_ * (2 * near + 1)
        elif rx > self.maxval + near:
            rx -= self.range_ * (2 * near + 1)
        if rx < 0:
            return 0
        if rx > self.maxval:
            return self.maxval
        return rx

    def _modulo(self, err: int) -> int:
        if err < 0:
            err += self.range_
        if err >= (self.range_ + 1) // 2:
            err -= self.range_
        return err

    def regular(self, qs: int, ra: int, rb: int, rc: int, ix: int) -> int:
        """Code one sample in regular mode (A.3-A.6); returns its reconstructed value."""
        if qs < 0:
            sign, q = -1, -qs
        else:
            sign, q = 1, qs
        # A.4.1 median edge detector
        if rc >= max(ra, rb):
            px = min(ra, rb)
        elif rc <= min(ra, rb):
            px = max(ra, rb)
        else:
            px = ra + rb - rc
        # A.4.2 prediction correction
        px += sign * self.C[q]
        if px > self.maxval:
            px = self.maxval
        elif px < 0:
            px = 0
        err = self._quantize(sign * (ix - px))
        rx = self._reconstruct(px, sign * err)
        err = self._modulo(err)
        A, B, N = self.A, self.B, self.N
        nq = N[q]
        k = 0
        while (nq << k) < A[q]:
            k += 1
        # A.5.2 error mapping
        if self.near == 0 and k == 0 and 2 * B[q] <= -nq:
            m = 2 * err + 1 if err >= 0 else -2 * (err + 1)
        else:
            m = 2 * err if err >= 0 else -2 * err - 1
        self.golomb(m, k, self.limit)
        # A.6.1 context update
        B[q] += err * (2 * self.near + 1)
        A[q] += abs(err)
        if nq == self.reset_val:
            A[q] >>= 1
            B[q] >>= 1
            nq >>= 1
        nq += 1
        N[q] = nq
        # A.6.2 bias computation
        b = B[q]
        if b <= -nq:
            b += nq
            if self.C[q] > MIN_C:
                self.C[q] -= 1
            if b <= -nq:
                b = -nq + 1
        elif b > 0:
            b -= nq
            if self.C[q] < MAX_C:
                self.C[q] += 1
            b = min(b, 0)
        B[q] = b
        return rx

    def run_length(self, cnt: int, eol: bool, comp: int) -> None:
        """A.7.1.2: code the run length; RUNindex of run `comp`."""
        ri = self.run_index[comp]
        while cnt >= (1 << J[ri]):
            self.bw.put(1, 1)
            cnt -= 1 << J[ri]
            if ri < 31:
                ri += 1
        if eol:
            if cnt > 0:
                self.bw.put(1, 1)
        else:
            self.bw.put(cnt, J[ri] + 1)  # a 0 bit, then cnt in J[RUNindex] bits
        self.run_index[comp] = ri

    def interruption(self, ra: int, rb: int, ix: int, comp: int, force_type0: bool = False) -> int:
        """A.7.2: code the run interruption sample; returns its reconstructed value.
        RUNindex is decremented by the caller after the whole interruption is coded."""
        near = self.near
        ritype = 0 if force_type0 else (1 if abs(ra - rb) <= near else 0)
        if ritype:
            px, sign = ra, 1
        else:
            px, sign = rb, (-1 if ra > rb else 1)
        err = self._quantize(sign * (ix - px))
        rx = self._reconstruct(px, sign * err)
        err = self._modulo(err)
        q = 365 + ritype
        A, N, Nn = self.A, self.N, self.Nn
        temp = A[q] + ((N[q] >> 1) if ritype else 0)
        nq = N[q]
        k = 0
        while (nq << k) < temp:
            k += 1
        nn = Nn[ritype]
        # A.7.2.1 (T.87 code segment for "map")
        mp = int((k == 0 and err > 0 and 2 * nn < nq)
                 or (err < 0 and 2 * nn >= nq)
                 or (err < 0 and k != 0))
        em = 2 * abs(err) - ritype - mp
        self.golomb(em, k, self.limit - J[self.run_index[comp]] - 1)
        if err < 0:
            Nn[ritype] += 1
        A[q] += (em + 1 - ritype) >> 1
        if nq == self.reset_val:
            A[q] >>= 1
            nq >>= 1
            Nn[ritype] >>= 1
        N[q] = nq + 1
        return rx

    def decrement_run_index(self, comp: int) -> None:
        if self.run_index[comp] > 0:
            self.run_index[comp] -= 1

    # -- lines -----------------------------------------------------------------------
    def line(self, src: list[int], prev: list[int], cur: list[int], comp: int) -> None:
        """Code one line of one component.  prev/cur hold reconstructed values with an
        offset of 1: index 0 is x = -1 and index cols + 1 is x = cols."""
        cols = len(src)
        prev[cols + 1] = prev[cols]
        cur[0] = prev[1]
        mv = self.maxval
        q1, q2, q3 = self.q1, self.q2, self.q3
        near = self.near
        x = 0
        while x < cols:
            ra = cur[x]
            rb = prev[x + 1]
            rc = prev[x]
            qs = q1[prev[x + 2] - rb + mv] + q2[rb - rc + mv] + q3[rc - ra + mv]
            if qs:
                cur[x + 1] = self.regular(qs, ra, rb, rc, src[x])
                x += 1
                continue
            # A.7 run mode
            start = x
            while x < cols and abs(src[x] - ra) <= near:
                cur[x + 1] = ra
                x += 1
            if x == cols:
                self.run_length(x - start, True, comp)
                return
            self.run_length(x - start, False, comp)
            cur[x + 1] = self.interruption(ra, prev[x + 1], src[x], comp)
            self.decrement_run_index(comp)
            x += 1

    def pixel_line(self, src: list[list[int]], prev: list[list[int]], cur: list[list[int]]) -> None:
        """Code one line of a sample-interleaved (ILV=2) scan.  Run mode is entered only
        when every component's context is 0; a run interruption codes every component with
        the RItype 0 rules (context 365, Px = Rb) as CharLS does."""
        nc = len(src)
        cols = len(src[0])
        for c in range(nc):
            prev[c][cols + 1] = prev[c][cols]
            cur[c][0] = prev[c][1]
        mv = self.maxval
        q1, q2, q3 = self.q1, self.q2, self.q3
        near = self.near
        comps = range(nc)
        x = 0
        while x < cols:
            qss = []
            for c in comps:
                p, k = prev[c], cur[c]
                rb = p[x + 1]
                rc = p[x]
                qss.append(q1[p[x + 2] - rb + mv] + q2[rb - rc + mv] + q3[rc - k[x] + mv])
            if any(qss):
                for c in comps:
                    p, k = prev[c], cur[c]
                    k[x + 1] = self.regular(qss[c], k[x], p[x + 1], p[x], src[c][x])
                x += 1
                continue
            ras = [cur[c][x] for c in comps]
            start = x
            while x < cols and all(abs(src[c][x] - ras[c]) <= near for c in comps):
                for c in comps:
                    cur[c][x + 1] = ras[c]
                x += 1
            if x == cols:
                self.run_length(x - start, True, 0)
                return
            self.run_length(x - start, False, 0)
            for c in comps:
                cur[c][x + 1] = self.interruption(ras[c], prev[c][x + 1], src[c][x], 0,
                                                  force_type0=True)
            self.decrement_run_index(0)
            x += 1


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def encode(arr, *, near: int = 0, interleave: int = 0, precision: int | None = None,
           maxval: int | None = None, t1: int | None = None, t2: int | None = None,
           t3: int | None = None, reset: int | None = None,
           restart_interval: int | None = None, colour_transform: int = 0,
           pad_before_eoi: bytes = b"", write_eoi: bool = True,
           maxval_coding: str = "t87", validate: bool = True,
           _restart_clears_lines: bool = True) -> bytes:
    """Encode `arr` as a JPEG-LS code stream (T.87).

    near: NEAR (0 = lossless).  interleave: ILV 0 (one scan per component), 1 (line) or
    2 (sample).  precision: P of SOF55 (default: bits of the largest sample, at least 2).
    maxval, t1, t2, t3, reset: written in an LSE id 1 segment when any is given (None or 0
    writes 0 = "default" for that field; the coder uses the T.87 default then).
    restart_interval: lines per restart interval (DRI + RSTm); for ILV 1 a line is one
    line of every component.  colour_transform: 1/2/3 = CharLS's HP1/HP2/HP3, written as
    APP8 "mrfx" and applied to the 3 components before coding.  pad_before_eoi: bytes put
    between the last scan and EOI; write_eoi=False leaves EOI out.

    maxval_coding: which MAXVAL drives the coding when an LSE gives one below 2**P - 1.
    "t87" (default): the LSE MAXVAL, everywhere (RANGE, qbpp, bpp/LIMIT, clamping, default
    thresholds), as T.87 says.  "charls": what the CharLS in pyjpegls 1.5.1 decodes -- the
    default thresholds come from the LSE MAXVAL, but RANGE, qbpp, LIMIT and the clamping of
    predictions and reconstructed samples use 2**P - 1.  The two agree when MAXVAL is
    2**P - 1 (or absent).
    validate: refuse preset parameters that T.87 (and CharLS) do not allow once the
    defaults are filled in (NEAR+1 <= T1 <= T2 <= T3 <= MAXVAL, 3 <= RESET <= max(255,
    MAXVAL)); False writes them anyway, for tests of decoders' error paths.

    _restart_clears_lines: after a restart marker the line above the first line is taken
    as all zeros (as at the top of the image), which is what CharLS expects.
    """
    a = np.asarray(arr)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or not 1 <= a.shape[2] <= 255:
        raise ValueError("arr must be (rows, cols) or (rows, cols, comps)")
    rows, cols, ncomp = a.shape
    if rows < 1 or cols < 1:
        raise ValueError("empty image")
    if interleave not in (0, 1, 2):
        raise ValueError("interleave must be 0, 1 or 2")
    if a.dtype.kind not in "ui" or (a.size and a.min() < 0):
        raise ValueError("samples must be non-negative integers")
    top = int(a.max())
    if precision is None:
        precision = max(2, top.bit_length())
    if not 2 <= precision <= 16:
        raise ValueError("precision must be 2..16")
    mv = maxval if maxval else (1 << precision) - 1
    if top > mv:
        raise ValueError(f"sample {top} above MAXVAL {mv}")
    if not 0 <= near <= min(255, mv // 2):
        raise ValueError("NEAR out of range")
    if maxval_coding == "t87":
        cmv = mv
    elif maxval_coding == "charls":
        cmv = (1 << precision) - 1
    else:
        raise ValueError("maxval_coding must be 't87' or 'charls'")
    d1, d2, d3 = default_thresholds(mv, near)
    T1, T2, T3 = t1 or d1, t2 or d2, t3 or d3
    RESET = reset or DEFAULT_RESET
    if validate and not (mv < (1 << precision) and near + 1 <= T1 <= T2 <= T3 <= mv and 3 <= RESET <= max(255, mv)):
        raise ValueError(f"invalid preset parameters T1={T1} T2={T2} T3={T3} RESET={RESET} "
                         f"for MAXVAL={mv} NEAR={near} (T.87 C.2.4.1.1)")
    if colour_transform:
        if ncomp != 3:
            raise ValueError("colour transforms need 3 components")
        a = hp_forward(a, colour_transform, precision)

    out = bytearray(b"\xff\xd8")
    if colour_transform:
        out += _segment(0xE8, b"mrfx" + bytes((colour_transform,)))
    sof = bytes((precision,)) + rows.to_bytes(2, "big") + cols.to_bytes(2, "big") + bytes((ncomp,))
    for c in range(ncomp):
        sof += bytes((c + 1, 0x11, 0))
    out += _segment(0xF7, sof)
    if any(v is not None for v in (maxval, t1, t2, t3, reset)):
        lse = bytes((1,)) + b"".join((v or 0).to_bytes(2, "big") for v in (maxval, t1, t2, t3, reset))
        out += _segment(0xF8, lse)
    if restart_interval is not None:
        nb = 2 if restart_interval < 0x10000 else (3 if restart_interval < 0x1000000 else 4)
        out += _segment(0xDD, restart_interval.to_bytes(nb, "big"))

    planes = [[[int(v) for v in a[y, :, c]] for y in range(rows)] for c in range(ncomp)]

    def sos(comps: list[int]) -> bytes:
        payload = bytes((len(comps),))
        for c in comps:
            payload += bytes((c + 1, 0))
        payload += bytes((near, interleave if len(comps) > 1 else 0, 0))
        return _segment(0xDA, payload)

    scans = [[c] for c in range(ncomp)] if interleave == 0 else [list(range(ncomp))]
    for comps in scans:
        out += sos(comps)
        bw = _BitWriter(out)
        coder = _ScanCoder(bw, cmv, near, T1, T2, T3, RESET, len(comps))
        nc = len(comps)
        prev = [[0] * (cols + 2) for _ in comps]
        cur = [[0] * (cols + 2) for _ in comps]
        rst = 0
        for y in range(rows):
            if restart_interval and y and y % restart_interval == 0:
                bw.flush()
                out += bytes((0xFF, 0xD0 + rst))
                rst = (rst + 1) % 8
                coder.reset_contexts()
                if _restart_clears_lines:
                    prev = [[0] * (cols + 2) for _ in comps]
                    cur = [[0] * (cols + 2) for _ in comps]
            if interleave == 2 and nc > 1:
                coder.pixel_line([planes[c][y] for c in comps], prev, cur)
                prev, cur = cur, prev
            else:
                for i, c in enumerate(comps):
                    coder.line(planes[c][y], prev[i], cur[i], i)
                    prev[i], cur[i] = cur[i], prev[i]
        bw.flush()
    out += pad_before_eoi
    if write_eoi:
        out += b"\xff\xd9"
    return bytes(out)


# ---- helpers of the tests that use this encoder ----


def charls_decode(data: bytes) -> np.ndarray:
    """CharLS's decoding of `data` (through pyjpegls) as (rows, cols) or (rows, cols, comps)."""
    import jpeg_ls

    raw, info = jpeg_ls.decode_buffer(bytes(data))
    dtype = "<u1" if info["bits_per_sample"] <= 8 else "<u2"
    arr = np.frombuffer(bytes(raw), dtype=dtype)
    rows, cols, n = info["height"], info["width"], info["components"]
    if n == 1:
        return arr.reshape(rows, cols)
    if info["interleave_mode"] == 0:
        return arr.reshape(n, rows, cols).transpose(1, 2, 0)
    return arr.reshape(rows, cols, n)


def make_image(seed: int, rows: int, cols: int, comps: int, maxval: int, kind: str) -> np.ndarray:
    """Random samples in [0, maxval]: noise, smooth ramps with flat runs, or constant."""
    rng = np.random.default_rng(seed)
    shape = (rows, cols, comps)
    if kind == "noise":
        a = rng.integers(0, maxval + 1, size=shape)
    elif kind == "constant":
        a = np.full(shape, rng.integers(0, maxval + 1))
    else:
        step = max(1, maxval // 16)
        base = rng.integers(0, maxval + 1, size=(1, 1, comps))
        a = base + np.cumsum(rng.integers(-1, 2, size=shape), axis=1) * step
        flat = rng.random(size=(rows, 1, 1)) < 0.4
        a = np.where(flat, a[:, :1], a)          # whole flat lines: runs to the end
        a[rng.random(size=shape) < 0.05] = rng.integers(0, maxval + 1)  # interruptions
        a = np.clip(a, 0, maxval)
    a = a.astype(np.uint16 if maxval > 255 else np.uint8)
    return a[:, :, 0] if comps == 1 else a
