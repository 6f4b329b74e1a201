"""Fast CSV writing of plsim's tables: the bytes of ``DataFrame.to_csv(path, index=False,
float_format=...)``, formatted with numpy a chunk of rows at a time instead of one Python call per
value.

pandas formats every float through ``float_format % value`` in Python, which is most of the time of
writing a national run's school-level tables (13 million rows of assessments: 36 s). Here each column
of a chunk becomes a fixed-width block of bytes (digits from integer arithmetic on the scaled values,
categories looked up once), the blocks are laid side by side with the commas and newlines, and the
padding is dropped in one pass. The output is byte-identical to pandas':

* floats with ``%.Nf``: the value times 10**N rounded half to even, which is what ``%`` does with the
  exact binary value, except where the scaled product lies within two ulps of a half (the rounding of
  the product itself could decide), beyond 2**52, or is infinite: those few values are formatted by
  ``%`` itself. NaN is written as the empty string, a negative value that rounds to zero keeps its
  sign (``-0.000000``), as with ``%``;
* integers in decimal, booleans as True/False, categorical and string columns through their distinct
  values (quoted by the csv rules never needed: a value with a comma, quote, CR or LF sends the whole
  table to pandas).

Anything else (another float format, object columns of non-strings, a single column, os.linesep other
than "\\n") is written by pandas itself, so `write_csv` always writes what to_csv would, after one
change: string cells (and column names) beginning with = + - @, a tab or a CR get a leading single
quote, as OWASP recommends against CSV injection (plsim.safe_io.formula_safe); numbers never do.
`compress` (1-9) writes gzip with that level (mtime 0, so the same table gives the same bytes).
"""
from __future__ import annotations

import gzip
import io
import os
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .safe_io import formula_safe_frame

CHUNK_ROWS = 100_000
#: Threads formatting chunks (numpy releases the GIL in most of the work); the calling thread writes
#: and compresses (zlib releases it too).
WORKERS = min(2, os.cpu_count() or 1)
_FIXED = re.compile(r"^%\.(\d)f$")
_SPECIAL = (",", '"', "\r", "\n", "\0")
_LIMIT = 2.0 ** 52  # scaled values below this have exact floor and fraction


class _Unsupported(Exception):
    """A table or column the fast path does not write exactly as pandas; pandas writes it."""


def write_csv(frame: pd.DataFrame, path, *, float_format: Optional[str] = None, compress: Optional[int] = None,
              chunk_rows: int = CHUNK_ROWS, workers: int = WORKERS) -> Path:
    """Writes `frame` as ``frame.to_csv(path, index=False, float_format=float_format)`` would, faster;
    with `compress` (a gzip level, 1-9) gzip-compressed. `workers` threads format chunks of
    `chunk_rows` rows, in order. Returns the path."""
    path = Path(path)
    if compress is not None and not (isinstance(compress, int) and 1 <= compress <= 9):
        raise ValueError(f"compress: expected a gzip level from 1 to 9 (got {compress!r})")
    frame = formula_safe_frame(frame)  # names a spreadsheet would run as formulas (OWASP): quoted as text
    try:
        plan = _plan(frame, float_format)
    except _Unsupported:
        plan = None
    with open(path, "wb") as raw:
        handle = raw if compress is None else gzip.GzipFile(filename=path.name.removesuffix(".gz"), mode="wb",
                                                            fileobj=raw, compresslevel=compress, mtime=0)
        try:
            if plan is None:
                text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
                frame.to_csv(text, index=False, float_format=float_format)
                text.flush()
                text.detach()
            else:
                handle.write((",".join(map(str, frame.columns)) + "\n").encode("utf-8"))
                _write_chunks(handle, plan, len(frame), chunk_rows, workers)
        finally:
            if handle is not raw:
                handle.close()
    return path


def format_csv(frame: pd.DataFrame, *, float_format: Optional[str] = None) -> bytes:
    """The bytes `write_csv` writes (uncompressed), in memory."""
    frame = formula_safe_frame(frame)
    try:
        plan = _plan(frame, float_format)
    except _Unsupported:
        return frame.to_csv(index=False, float_format=float_format).encode("utf-8")
    parts = [(",".join(map(str, frame.columns)) + "\n").encode("utf-8")]
    parts += [_chunk(plan, s, min(len(frame), s + CHUNK_ROWS)) for s in range(0, len(frame), CHUNK_ROWS)]
    return b"".join(parts)


# --- the plan: how each column is written ------------------------------------------------------------

def _plan(frame: pd.DataFrame, float_format: Optional[str]) -> list:
    if os.linesep != "\n" or frame.shape[1] < 2:
        raise _Unsupported("line ends or a single column")  # csv quotes a lone empty field
    names = [str(c) for c in frame.columns]
    if not all(isinstance(c, str) for c in frame.columns) or any(ch in name for name in names for ch in _SPECIAL):
        raise _Unsupported("column names")
    digits = None
    if float_format is not None:
        m = _FIXED.match(float_format)
        digits = int(m.group(1)) if m else None
    plan = []
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            categories = dtype.categories
            if categories.dtype.kind == "O" and all(isinstance(c, str) for c in categories):
                labels = list(categories)
            elif categories.dtype.kind in "iu":
                labels = [str(c) for c in categories]
            else:
                raise _Unsupported("categories")
            plan.append(("codes", column.cat.codes.to_numpy(), _label_bytes(labels)))
        elif dtype == object:
            values = column.to_numpy()
            codes, uniques = pd.factorize(values)  # NaN and None: code -1, written empty
            if not all(isinstance(u, str) for u in uniques):
                raise _Unsupported("object column of non-strings")
            plan.append(("codes", codes, _label_bytes(list(uniques))))
        elif dtype.kind == "b":
            plan.append(("codes", column.to_numpy().astype(np.int8), _label_bytes(["False", "True"])))
        elif dtype.kind in "iu" and isinstance(dtype, np.dtype):
            values = column.to_numpy()
            if dtype.kind == "i" and len(values) and values.min() == np.iinfo(np.int64).min:
                raise _Unsupported("int64 minimum")
            plan.append(("int", values, None))
        elif dtype.kind == "f" and isinstance(dtype, np.dtype):
            if digits is None:
                raise _Unsupported("float format")  # repr or another format: pandas
            plan.append(("float", column.to_numpy(), digits))
        else:
            raise _Unsupported(f"dtype {dtype}")
    return plan


def _label_bytes(labels: list) -> np.ndarray:
    """The labels as a (k + 1, width) block of UTF-8 bytes, NUL-padded; the last row (code -1) empty."""
    if any(ch in label for label in labels for ch in _SPECIAL):
        raise _Unsupported("a value the csv rules quote")
    encoded = [label.encode("utf-8") for label in labels] + [b""]
    width = max(1, max(len(e) for e in encoded))
    return np.array(encoded, dtype=f"S{width}").view(np.uint8).reshape(len(encoded), width)


def _write_chunks(handle, plan: list, rows: int, chunk_rows: int, workers: int) -> None:
    starts = range(0, rows, max(1, chunk_rows))
    if workers <= 1 or len(starts) <= 1:
        for start in starts:
            handle.write(_chunk(plan, start, min(rows, start + chunk_rows)))
        return
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for start in starts:  # at most workers + 1 chunks in memory
            pending.append(pool.submit(_chunk, plan, start, min(rows, start + chunk_rows)))
            if len(pending) > workers:
                handle.write(pending.popleft().result())
        while pending:
            handle.write(pending.popleft().result())


# --- one chunk ---------------------------------------------------------------------------------------

def _chunk(plan: list, start: int, stop: int) -> memoryview:
    blocks = [_block(kind, values[start:stop], extra) for kind, values, extra in plan]
    n = stop - start
    width = sum(b.shape[1] for b in blocks) + len(blocks)
    buf = np.zeros((n, width), np.uint8)
    pos = 0
    for k, block in enumerate(blocks):
        w = block.shape[1]
        buf[:, pos:pos + w] = block
        buf[:, pos + w] = 44 if k < len(blocks) - 1 else 10  # "," or "\n"
        pos += w + 1
    flat = buf.reshape(-1)
    return memoryview(flat[flat != 0])


def _block(kind: str, values: np.ndarray, extra) -> np.ndarray:
    if kind == "codes":
        return extra[values]  # code -1 picks the empty last row
    if kind == "int":
        return _int_block(values)
    return _float_block(values, extra)


_TRIPLES = np.array([f"{i:03d}".encode("ascii") for i in range(1000)], dtype="V3")  # "000" to "999"


def _digits(a: np.ndarray, width: int, keep: int) -> np.ndarray:
    """(n, width) ASCII digits of the non-negative int64 `a` (below 10**width), leading zeros as NUL
    except in the last `keep` places. Three digits at a time: a division by a constant (numpy divides
    by a scalar with multiplications) and a table look-up."""
    groups = -(-width // 3)
    out = np.empty((len(a), groups), dtype="V3")
    rest = a
    for g in range(groups - 1, -1, -1):
        low = rest % 1000 if g else rest
        out[:, g] = _TRIPLES[low]
        if g:
            rest = rest // 1000
    out = out.view(np.uint8).reshape(len(a), 3 * groups)[:, 3 * groups - width:]
    for j in range(width - keep):
        out[:, j] *= a >= 10 ** (width - 1 - j)
    return out


def _width(a: np.ndarray) -> int:
    return len(str(int(a.max()))) if len(a) else 1


def _int_block(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "u":
        if len(values) and int(values.max()) > np.iinfo(np.int64).max:
            return _strings_block([str(int(v)) for v in values])
        a, negative = values.astype(np.int64), None
    else:
        v = values.astype(np.int64)
        negative = v < 0
        a = np.abs(v)
    digits = _digits(a, _width(a), 1)
    if negative is None or not negative.any():
        return digits
    sign = np.where(negative, 45, 0).astype(np.uint8)[:, None]  # "-"
    return np.hstack([sign, digits])


def _float_block(values: np.ndarray, digits: int) -> np.ndarray:
    x = values.astype(np.float64)
    scale = 10.0 ** digits
    with np.errstate(over="ignore"):  # beyond the float range: infinite, formatted by %
        y = np.abs(x) * scale  # the scaled product's rounding is symmetric: |x| * scale = |x * scale|
    nan = np.isnan(x)
    fast = np.isfinite(y) & (y < _LIMIT)
    y = np.where(fast, y, 0.0)
    whole = np.floor(y)
    half = np.abs(y - whole - 0.5)  # exact below 2**52
    fast &= half > 2 * np.spacing(y)  # clear of the half way: rint(y) rounds as % rounds the exact value
    q = np.rint(y).astype(np.int64)
    q[~fast] = 0
    unit = 10 ** digits
    ip, fp = q // unit, q % unit
    parts = [np.where(np.signbit(x) & fast, 45, 0).astype(np.uint8)[:, None], _digits(ip, _width(ip), 1)]
    if digits:
        parts.append(np.full((len(x), 1), 46, np.uint8))  # "."
        parts.append(_digits(fp, digits, digits))
    block = np.hstack(parts)
    block[~fast] = 0
    slow = np.flatnonzero(~fast & ~nan)  # infinities, huge values, near-halves: % itself
    if len(slow):
        fmt = f"%.{digits}f"
        texts = [(fmt % float(x[i])).encode("ascii") for i in slow]
        wide = max(len(t) for t in texts)
        if wide > block.shape[1]:
            block = np.hstack([block, np.zeros((len(x), wide - block.shape[1]), np.uint8)])
        special = np.array(texts, dtype=f"S{wide}").view(np.uint8).reshape(len(texts), wide)
        block[slow, :wide] = special
    return block


def _strings_block(texts: list) -> np.ndarray:
    encoded = [t.encode("utf-8") for t in texts]
    width = max(1, max((len(e) for e in encoded), default=1))
    return np.array(encoded, dtype=f"S{width}").view(np.uint8).reshape(len(encoded), width)
