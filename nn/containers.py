"""Containers: Sequential, ModuleList, ModuleDict (children registered in order, PyTorch's names)."""
from collections import OrderedDict

from .module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


def _position(container, idx):
    """``idx`` (negative counts from the end) as a position among ``container``'s modules; IndexError
    naming the container when it is out of range."""
    n = len(container._modules)
    if not -n <= idx < n:
        raise IndexError(f"{type(container).__name__}: index {idx} is out of range for {n} modules")
    return idx % n


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(Linear(2, 4), ReLU(), Linear(4, 1))``.

    Children are named ``'0'``, ``'1'``, ... (or by the keys of an ``OrderedDict`` argument), so
    parameter names are PyTorch's (``0.weight``). Supports ``len``, indexing, slicing, iteration and
    ``append``.

    Shape:
        input: whatever the first module takes; output: what the last module returns.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return type(self)(OrderedDict(items[idx]))
        return items[_position(self, int(idx))][1]

    def __setitem__(self, idx, module):
        key = list(self._modules)[_position(self, int(idx))]
        self.add_module(key, module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        for k in (keys[idx] if isinstance(idx, slice) else [keys[_position(self, int(idx))]]):
            del self._modules[k]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def forward(self, x):
        for i, m in enumerate(self._modules.values()):
            try:
                x = m(x)
            except Exception as e:
                _name_layer(e, f"Sequential[{i}] ({type(m).__name__})")
                raise
        return x


def _name_layer(error, where):
    """Prefix ``error``'s message with ``where`` in place, keeping its type and traceback.

    Nested containers add their own prefix in front (``Sequential[1] (Sequential): Sequential[2]
    (Linear): ...``). Exceptions whose first argument is not a message are left as they are.
    """
    args = error.args
    if args and isinstance(args[0], str):
        error.args = (f"{where}: {args[0]}",) + args[1:]
    elif not args:
        error.args = (f"{where}: {type(error).__name__}",)


class ModuleList(Module):
    """A list of modules whose parameters are registered (names ``'0'``, ``'1'``, ...).

    Unlike Sequential it has no ``forward``: the owner decides how to call the modules.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[_position(self, int(idx))]

    def __setitem__(self, idx, module):
        self.add_module(str(_position(self, int(idx))), module)

    def __delitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_position(self, int(idx))]
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        """Append every module of an iterable; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys, in insertion order.

    Like ModuleList it has no ``forward``.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        """Add the modules of a mapping or of an iterable of ``(key, module)`` pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self.add_module(key, module)

    def pop(self, key):
        module = self._modules[key]
        del self._modules[key]
        return module
