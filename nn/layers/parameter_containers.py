"""ParameterList and ParameterDict: containers whose entries are registered as a module's parameters."""
from collections import OrderedDict

import numpy as np

from autodiff import Tensor

from ..module import Module
from ..parameter import Parameter

__all__ = ["ParameterList", "ParameterDict"]


def _as_parameter(owner, value):
    """Parameters pass through; Tensors and ndarrays become Parameters (as PyTorch wraps plain tensors)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value, requires_grad=value.requires_grad)
    if isinstance(value, np.ndarray):
        return Parameter(value)
    raise TypeError(f"{owner}: entries must be nn.Parameter, Tensor or ndarray, got {type(value).__name__}")


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _describe(p, type_name=False):
    """PyTorch's one-line entry: ``[autodiff.float32 of size 3x4]`` (list) or ``[autodiff.FloatTensor ...]``
    (dict, which PyTorch prints with the tensor type name)."""
    size = "x".join(str(s) for s in p.shape)
    kind = f"{_TYPE_NAMES.get(str(p.dtype), str(p.dtype))}Tensor" if type_name else str(p.dtype)
    return f"Parameter containing: [autodiff.{kind} of size {size}]"


class ParameterList(Module):
    """A list of Parameters registered under the names ``'0'``, ``'1'``, ... (PyTorch's state_dict keys).

    Args:
        values: optional iterable of Parameters (Tensors/ndarrays are wrapped into Parameters).

    Supports ``len``, indexing (negative too), slicing (returns a new ParameterList), assignment by
    index, iteration, ``append``, ``extend`` and ``+=``.
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, idx):
        n = len(self._parameters)
        idx = int(idx)
        if not -n <= idx < n:
            raise IndexError(f"ParameterList: index {idx} is out of range for {n} parameters")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[self._index(idx)]

    def __setitem__(self, idx, param):
        self._parameters[self._index(idx)] = _as_parameter("ParameterList", param)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value):
        """Add ``value`` at the end under the next index; returns self."""
        self._parameters[str(len(self._parameters))] = _as_parameter("ParameterList", value)
        return self

    def extend(self, values):
        """Append every element of the iterable ``values``; returns self."""
        if isinstance(values, (Tensor, np.ndarray)) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend should be called with an iterable, "
                            f"got {type(values).__name__}")
        for v in list(values):
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in self._parameters.items())

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called")


class ParameterDict(Module):
    """An ordered dict of Parameters registered under their (string) keys.

    Args:
        parameters: optional mapping or iterable of ``(key, value)`` pairs.

    Supports the dict API: ``[]``, ``in``, ``len``, iteration over keys, ``keys``, ``values``, ``items``,
    ``get``, ``pop``, ``popitem``, ``setdefault``, ``update``, ``clear``, ``copy`` and ``fromkeys``.
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _check_key(key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__}")
        if not key or "." in key:
            raise KeyError(f"ParameterDict: key can't be empty or contain '.', got {key!r}")

    def __getitem__(self, key):
        if key not in self._parameters:
            raise KeyError(f"ParameterDict: no parameter {key!r} (keys: {list(self._parameters)})")
        return self._parameters[key]

    def __setitem__(self, key, value):
        self._check_key(key)
        self._parameters[key] = _as_parameter("ParameterDict", value)

    def __delitem__(self, key):
        self[key]
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(list(self._parameters))

    def __contains__(self, key):
        return key in self._parameters

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def __ior__(self, other):
        self.update(other)
        return self

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        """Remove ``key`` and return its Parameter."""
        v = self[key]
        del self._parameters[key]
        return v

    def popitem(self):
        """Remove and return the last inserted ``(key, parameter)`` pair."""
        if not self._parameters:
            raise KeyError("ParameterDict.popitem: dictionary is empty")
        return self._parameters.popitem()

    def setdefault(self, key, default=None):
        if key not in self._parameters:
            self[key] = default
        return self._parameters[key]

    def clear(self):
        self._parameters.clear()

    def copy(self):
        """A new ParameterDict holding the same Parameter objects."""
        return ParameterDict(list(self._parameters.items()))

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with every key in ``keys`` mapped to ``default``."""
        return ParameterDict((k, default) for k in keys)

    def update(self, values):
        """Add or replace entries from a mapping or an iterable of ``(key, value)`` pairs (a plain dict's
        keys are added in sorted order, an OrderedDict's / ParameterDict's in their own order)."""
        if isinstance(values, (ParameterDict, OrderedDict)):
            pairs = list(values.items())
        elif hasattr(values, "keys"):  # plain mappings are added in sorted key order, as PyTorch does
            pairs = sorted((k, values[k]) for k in values.keys())
        else:
            pairs = []
            for j, pair in enumerate(values):
                if not hasattr(pair, "__len__") or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element #{j} should be a (key, value) pair")
                pairs.append(tuple(pair))
        for k, v in pairs:
            self[k] = v

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_describe(p, type_name=True)}" for k, p in self._parameters.items())

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called")
