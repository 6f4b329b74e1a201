"""A run's Python hooks (Policy, Process and RolloutPlan objects) as data, for checkpoints.

A hook is stored by reference and state, never pickled (a pickle can make loading call any function
the file names, such as os.system):

    {"module": "mypkg.hooks", "class": "Coaching", "state": <its state, encoded>}

On loading, the class is looked up by that name (its module imported like any ``import``), checked to
be a subclass of plsim's Policy, Process or RolloutPlan, as its slot requires, and a new instance
receives the state: ``set_state(state)`` when the class defines ``get_state``/``set_state``,
otherwise its ``__dict__`` is updated. Nothing the file says is called.

The state is encoded as plain JSON: None, booleans, integers, strings and lists stand for themselves;
everything else is an object with one tag: {"$float": "nan"} (non-finite floats), {"$tuple": [...]},
{"$dict": [[key, value], ...]}, {"$set": [...]}, {"$bytes": base64}, {"$ndarray": {"dtype", "shape",
"data": base64}} (numbers and booleans only), {"$scalar": {"dtype", "data"}} (a numpy number) and
{"$generator": {"bit_generator", "state"}} (a numpy Generator of one of numpy's bit generators).
A state holding anything else (a function, a DataFrame, an open file) is refused when saving, naming
the hook and the attribute; such a hook defines get_state/set_state returning plain data.
"""
from __future__ import annotations

import base64
import importlib
import math
import re
import sys
from typing import Any, Callable

import numpy as np

from .extend import Policy, Process, RolloutPlan

#: The hook slots of a Sim, with the plsim class each hook must subclass.
SLOTS = {"policies": Policy, "processes": Process, "rollout_plans": RolloutPlan}
_BIT_GENERATORS = {"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"}
# numpy dtypes a state array may have: numbers and booleans, in either byte order (never object).
_ARRAY_KINDS = "biufc"
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_MAX_ITEMS = 1 << 31  # elements of one decoded array (besides being bounded by the data given)


class HookStateError(ValueError):
    """A hook whose state cannot be stored as data (saving), or a stored hook that cannot be restored
    (loading); callers turn it into a CheckpointError naming the file."""


def encode_hooks(hooks: dict) -> dict:
    """{slot: [record, ...]} for the hooks of a Sim (slot -> list of hook objects)."""
    out = {}
    for slot, objects in hooks.items():
        out[slot] = [_encode_hook(hook, f"{slot}[{k}]") for k, hook in enumerate(objects)]
    return out


def decode_hooks(records: Any) -> dict:
    """The hook objects of `encode_hooks`'s records, each a new instance of a checked plsim subclass."""
    if not isinstance(records, dict) or set(records) - set(SLOTS):
        raise HookStateError(f"hooks: expected an object with the lists {', '.join(SLOTS)}")
    out = {}
    for slot, base in SLOTS.items():
        items = records.get(slot, [])
        if not isinstance(items, list):
            raise HookStateError(f"hooks/{slot}: expected a list")
        out[slot] = [_decode_hook(record, base, f"{slot}[{k}]") for k, record in enumerate(items)]
    return out


def _encode_hook(hook: Any, where: str) -> dict:
    cls = type(hook)
    label = f"{where} ({cls.__module__}.{cls.__qualname__})"
    if "<locals>" in cls.__qualname__:
        raise HookStateError(f"{label}: its class is defined inside a function, so loading cannot find it by "
                             f"name; define it at the top level of a module")
    if cls.__module__ == "__main__" and getattr(sys.modules.get("__main__"), cls.__qualname__, None) is not cls:
        raise HookStateError(f"{label}: its class cannot be found by name in __main__; define it in a module")
    if _has_state_protocol(cls):
        state, path = hook.get_state(), "get_state()"
    elif hasattr(hook, "__dict__"):
        state, path = dict(vars(hook)), ""
    else:
        raise HookStateError(f"{label}: it has no __dict__ (slots?); give its class get_state() and set_state()")
    try:
        encoded = _encode(state, path, set())
    except RecursionError:
        raise HookStateError(f"{label}: its state nests too deep to store") from None
    except _Unstorable as error:
        raise HookStateError(f"{label}: attribute {error.path or '(the state)'} holds {error.what}, which a "
                             f"checkpoint cannot store as data (only numbers, strings, lists, dicts, numpy arrays "
                             f"and generators); give {cls.__qualname__} get_state() and set_state() that return "
                             f"and take plain data") from None
    return {"module": cls.__module__, "class": cls.__qualname__, "state": encoded}


def _has_state_protocol(cls: type) -> bool:
    return callable(getattr(cls, "get_state", None)) and callable(getattr(cls, "set_state", None))


class _Unstorable(Exception):
    def __init__(self, path: str, what: str):
        super().__init__(path)
        self.path, self.what = path, what


def _encode(value: Any, path: str, seen: set) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):  # first: np.float64 is also a float
        if value.dtype.kind not in _ARRAY_KINDS:
            raise _Unstorable(path, f"a numpy {value.dtype} scalar")
        return {"$scalar": {"dtype": value.dtype.str, "data": _b64(value.tobytes())}}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$float": repr(float(value))}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": _b64(bytes(value))}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ARRAY_KINDS:
            raise _Unstorable(path, f"a numpy array of {value.dtype}")
        return {"$ndarray": {"dtype": value.dtype.str, "shape": list(value.shape),
                             "data": _b64(np.ascontiguousarray(value).tobytes())}}
    if isinstance(value, np.random.Generator):
        name = type(value.bit_generator).__name__
        if name not in _BIT_GENERATORS:
            raise _Unstorable(path, f"a numpy Generator of {name}")
        return {"$generator": {"bit_generator": name, "state": _encode(value.bit_generator.state, path, seen)}}
    if id(value) in seen:
        raise _Unstorable(path, "a reference to itself")
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        seen = seen | {id(value)}
        if isinstance(value, dict):
            return {"$dict": [[_encode(k, f"{path}[{k!r}] (its key)", seen), _encode(v, _join(path, k), seen)]
                              for k, v in value.items()]}
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        encoded = [_encode(v, f"{path}[{k}]", seen) for k, v in enumerate(items)]
        if isinstance(value, list):
            return encoded
        return {"$tuple": encoded} if isinstance(value, tuple) else {"$set": encoded}
    raise _Unstorable(path, f"a {type(value).__module__}.{type(value).__qualname__}")


def _join(path: str, key: Any) -> str:
    if not path and isinstance(key, str):
        return key
    return f"{path}.{key}" if isinstance(key, str) and key.isidentifier() else f"{path}[{key!r}]"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _decode_hook(record: Any, base: type, where: str) -> Any:
    if not isinstance(record, dict) or set(record) != {"module", "class", "state"}:
        raise HookStateError(f"hooks/{where}: expected an object with module, class and state")
    module, qualname = record["module"], record["class"]
    if not (isinstance(module, str) and _MODULE.match(module) and isinstance(qualname, str) and _MODULE.match(qualname)):
        raise HookStateError(f"hooks/{where}: {module!r}.{qualname!r} is not a Python class name")
    cls = _find_class(module, qualname, where)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise HookStateError(f"hooks/{where}: {module}.{qualname} is not a subclass of plsim.{base.__name__}, "
                             f"so it is not restored (a checkpoint names only plsim hooks)")
    state = decode(record["state"], f"hooks/{where}/state")
    hook = cls.__new__(cls)
    try:
        if _has_state_protocol(cls):
            hook.set_state(state)
        elif isinstance(state, dict) and all(isinstance(k, str) for k in state):
            hook.__dict__.update(state)
        else:
            raise HookStateError(f"hooks/{where}: the state of {module}.{qualname} must be a dict of attributes")
    except HookStateError:
        raise
    except Exception as error:
        raise HookStateError(f"hooks/{where}: {module}.{qualname}.set_state refused the saved state: "
                             f"{type(error).__name__}: {error}") from None
    return hook


def _find_class(module: str, qualname: str, where: str) -> Any:
    """The class `qualname` of `module`, importing the module as `import module` would. Modules of
    Python's standard library are not imported (no plsim hook lives there, and some act on import)."""
    if module in sys.modules:
        found = sys.modules[module]
    elif module == "__main__" or module.split(".")[0] in sys.stdlib_module_names:
        raise HookStateError(f"hooks/{where}: {module}.{qualname} is not a plsim hook class that can be imported")
    else:
        try:
            found = importlib.import_module(module)
        except Exception as error:  # ImportError, or the module's own error at import
            raise HookStateError(f"hooks/{where}: the module {module!r} of the hook class {qualname} cannot be "
                                 f"imported ({type(error).__name__}: {error}); put it on the Python path "
                                 f"(PYTHONPATH) and load again") from None
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise HookStateError(f"hooks/{where}: the module {module!r} has no class {qualname}; was it renamed?")
    return found


def decode(value: Any, where: str) -> Any:
    """A value of `_encode`, checked as it is rebuilt: only the tags above, arrays whose data has the
    length its dtype and shape give."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        return [decode(v, f"{where}/{k}") for k, v in enumerate(value)]
    if not isinstance(value, dict) or len(value) != 1:
        raise HookStateError(f"{where}: expected a value or an object with one tag")
    (tag, body), = value.items()
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise HookStateError(f"{where}: unknown tag {tag!r} (expected one of {', '.join(_DECODERS)})")
    try:
        return decoder(body, where)
    except HookStateError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        raise HookStateError(f"{where}: a bad {tag} ({type(error).__name__}: {error})") from None


def _float(body: Any, where: str) -> float:
    if body not in ("nan", "inf", "-inf"):
        raise HookStateError(f"{where}: $float must be 'nan', 'inf' or '-inf'")
    return float(body)


def _pairs(body: Any, where: str) -> dict:
    if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
        raise HookStateError(f"{where}: $dict must be a list of [key, value] pairs")
    out = {}
    for k, (key, item) in enumerate(body):
        key = decode(key, f"{where}/{k}/0")
        try:
            hash(key)
        except TypeError:
            raise HookStateError(f"{where}/{k}/0: a dict key must be hashable") from None
        out[key] = decode(item, f"{where}/{k}/1")
    return out


def _sequence(kind: Callable) -> Callable:
    def build(body: Any, where: str):
        if not isinstance(body, list):
            raise HookStateError(f"{where}: expected a list")
        items = [decode(v, f"{where}/{k}") for k, v in enumerate(body)]
        return kind(items)
    return build


def _unb64(body: Any, where: str) -> bytes:
    if not isinstance(body, str):
        raise HookStateError(f"{where}: expected base64 text")
    try:
        return base64.b64decode(body.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise HookStateError(f"{where}: not base64") from None


def _dtype(text: Any, where: str) -> np.dtype:
    if not isinstance(text, str) or not re.fullmatch(r"[<>|=][biufc][0-9]{1,2}", text):
        raise HookStateError(f"{where}: {text!r} is not a numeric numpy dtype")
    return np.dtype(text)


def _ndarray(body: Any, where: str) -> np.ndarray:
    if not isinstance(body, dict) or set(body) != {"dtype", "shape", "data"}:
        raise HookStateError(f"{where}: $ndarray must have dtype, shape and data")
    dtype, data = _dtype(body["dtype"], where), _unb64(body["data"], where)
    shape = body["shape"]
    if not (isinstance(shape, list) and len(shape) <= 32 and all(isinstance(n, int) and not isinstance(n, bool)
                                                                and 0 <= n <= _MAX_ITEMS for n in shape)):
        raise HookStateError(f"{where}: shape must be a list of sizes")
    items = math.prod(shape)
    if items * dtype.itemsize != len(data):
        raise HookStateError(f"{where}: shape {shape} of {dtype} needs {items * dtype.itemsize} bytes, the data "
                             f"has {len(data)}")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _scalar(body: Any, where: str) -> np.generic:
    if not isinstance(body, dict) or set(body) != {"dtype", "data"}:
        raise HookStateError(f"{where}: $scalar must have dtype and data")
    dtype, data = _dtype(body["dtype"], where), _unb64(body["data"], where)
    if len(data) != dtype.itemsize:
        raise HookStateError(f"{where}: a {dtype} needs {dtype.itemsize} bytes, the data has {len(data)}")
    return np.frombuffer(data, dtype=dtype)[0]


def _generator(body: Any, where: str) -> np.random.Generator:
    if not isinstance(body, dict) or set(body) != {"bit_generator", "state"}:
        raise HookStateError(f"{where}: $generator must have bit_generator and state")
    name = body["bit_generator"]
    if name not in _BIT_GENERATORS:
        raise HookStateError(f"{where}: {name!r} is not one of numpy's bit generators ({', '.join(sorted(_BIT_GENERATORS))})")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = decode(body["state"], f"{where}/state")  # numpy checks the state's form
    return np.random.Generator(bit_generator)


_DECODERS = {"$float": _float, "$dict": _pairs, "$tuple": _sequence(tuple), "$set": _sequence(set),
             "$bytes": _unb64, "$ndarray": _ndarray, "$scalar": _scalar, "$generator": _generator}
