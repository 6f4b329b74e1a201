"""Reading files plsim did not write, and writing cells others will open, without trusting them.

Every file a user hands plsim (a scenario, a table of schools, a checkpoint) is read through here:
only regular files (never a device such as /dev/zero, a pipe or a directory), never more than a
bound checked before reading, JSON with duplicated keys refused with their path (json keeps the last
value silently) and nesting bounded (a Python dict nested a thousand deep ends in RecursionError
anywhere it is walked). CSV cells that a spreadsheet would run as a formula are written with a
leading single quote, as OWASP recommends against CSV injection.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np
import pandas as pd

PathLike = Union[str, os.PathLike]

MiB = 1 << 20
#: Largest scenario file read: shipped ones are a few kB; a scenario listing 100,000 schools one by one
#: is about 30 MB.
SCENARIO_MAX_BYTES = 64 * MiB
#: Largest table of schools (plsim init --schools, plsim.from_schools): a row is under 200 bytes, so
#: this holds every school of the United States several times over.
SCHOOLS_CSV_MAX_BYTES = 64 * MiB
#: Deepest nesting of a scenario (lists and objects); real ones nest six levels.
MAX_JSON_DEPTH = 64


class FileRefused(ValueError):
    """A file (or document) plsim will not read: not a regular file, too large, not UTF-8, nested too
    deep or with a duplicated key. Its message is one line: which file, what is wrong, what to do."""


def regular_file_size(path: PathLike, what: str, error: Callable[[str], Exception] = FileRefused) -> int:
    """The size of `path`, after checking that it is a regular file (following links); raises
    `error(message)` otherwise."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: no such file; give the path of a {what}") from None
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror}); give the path of a {what}") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is a directory; give the path of a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: not a regular file (a device, pipe or socket, which plsim does not read); "
                    f"give the path of a {what}")
    return info.st_size


def read_table(path: PathLike) -> pd.DataFrame:
    """A CSV table plsim wrote (a report reads its run's tables), after checking that it is a regular
    file: a device or a pipe under a table's name is refused, not read forever."""
    regular_file_size(path, Path(path).name)
    return pd.read_csv(path)


def read_bounded(path: PathLike, *, limit: int, what: str,
                 error: Callable[[str], Exception] = FileRefused) -> bytes:
    """The bytes of the regular file `path`, refused (`error(message)`) when it is larger than `limit`
    bytes, before anything is read; a file that grows while read is cut off and refused too."""
    size = regular_file_size(path, what, error)
    if size > limit:
        raise error(f"{path}: {_size(size)}, more than the {_size(limit)} plsim reads as a {what}; "
                    f"check that it is the right file")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise error(f"{path}: grew past {_size(limit)} while being read; give a {what} that is not being written")
    return data


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes"


class _Object(dict):
    """A JSON object as parsed, remembering keys that appeared more than once."""

    __slots__ = ("duplicates",)


def _object_pairs(pairs: list) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def _pointer_token(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def check_depth(document: Any, source: str, *, limit: int = MAX_JSON_DEPTH,
                error: Callable[[str], Exception] = FileRefused) -> None:
    """Refuses (`error`) a document of dicts and lists nested deeper than `limit`, naming the path where
    it goes too deep. Iterative, so any depth is checked without recursion."""
    stack = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, (Mapping, list, tuple)):
            if depth >= limit:
                raise error(f"{source}: {path or '/'}: nested deeper than {limit} levels; a scenario nests a few "
                            f"levels (check for a runaway generator of the document)")
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            stack.extend((item, f"{path}/{_pointer_token(key)}", depth + 1) for key, item in items)


def duplicated_keys(document: Any) -> list:
    """The JSON paths of the keys that appear twice in an object of a document parsed by `parse_json`."""
    found, stack = [], [(document, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Object):
            found += [f"{path}/{_pointer_token(key)}" for key in value.duplicates]
        if isinstance(value, dict):
            stack.extend((item, f"{path}/{_pointer_token(key)}") for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, f"{path}/{k}") for k, item in enumerate(value))
    return sorted(found)


def loads_noting_duplicates(text: str) -> Any:
    """json.loads, with each object remembering the keys it had twice (for `duplicated_keys`). Raises
    json.JSONDecodeError on bad syntax and RecursionError beyond about a thousand levels."""
    return json.loads(text, object_pairs_hook=_object_pairs)


def check_duplicates(document: Any, source: str, error: Callable[[str], Exception] = FileRefused) -> None:
    """Refuses (`error`) a document of `loads_noting_duplicates` with a key given twice in an object,
    naming its JSON path: json would keep the last value silently."""
    duplicates = duplicated_keys(document)
    if duplicates:
        raise error(f"{source}: {duplicates[0]}: the key appears more than once in its object (JSON would keep the "
                    f"last value silently); keep one" + (f" (also: {', '.join(duplicates[1:4])})" if len(duplicates) > 1 else ""))


def parse_json(data: Union[bytes, str], source: str, *, what: str = "JSON file",
               error: Callable[[str], Exception] = FileRefused, depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON document from bytes or text, refused (`error`) when it is not UTF-8, has a duplicated key
    (named by its path) or nests deeper than `depth`. Syntax errors raise json.JSONDecodeError, for the
    caller to report as it does."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise error(f"{source}: not UTF-8 text (byte {e.start} is {data[e.start:e.start + 1]!r}); "
                        f"give a {what} saved as UTF-8") from None
    try:
        document = loads_noting_duplicates(data)
    except RecursionError:
        raise error(f"{source}: nested deeper than Python can parse; a {what} nests a few levels") from None
    check_depth(document, source, limit=depth, error=error)
    check_duplicates(document, source, error)
    return document


#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection): = + - @, tab and CR.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: Any) -> Any:
    """A string cell that a spreadsheet would run as a formula, with a leading single quote (shown as
    text, the quote hidden); anything else unchanged."""
    if isinstance(text, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def formula_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every string cell made `formula_safe` (strings and categories only: numbers, and so
    negative numbers, are never touched). The same object when nothing needs changing."""
    changed: Optional[pd.DataFrame] = None
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            categories = list(values.cat.categories)
            if any(isinstance(c, str) and c.startswith(FORMULA_STARTS) for c in categories):
                changed = frame.copy() if changed is None else changed
                changed[column] = values.cat.rename_categories([formula_safe(c) for c in categories])
        elif values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
            if bool(np.any(risky.to_numpy(dtype=bool))):
                changed = frame.copy() if changed is None else changed
                changed[column] = values.map(formula_safe)
    names = [formula_safe(c) for c in frame.columns]
    if names != list(frame.columns):
        changed = (frame.copy() if changed is None else changed)
        changed.columns = names
    return frame if changed is None else changed


def plot_label(text: Any) -> str:
    """A user's name (a district, a scenario) as a matplotlib label shown as written: a `$` would start
    mathtext, and a name such as ``$\\frac{1}{$`` makes drawing fail."""
    return str(text).replace("$", r"\$")


def json_ready(value: Any) -> Any:
    """NaN and infinities as None, numpy scalars as Python ones, through dicts and lists."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
