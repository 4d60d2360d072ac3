"""Module and Parameter: what every layer and model is built from (containers: nn/containers.py).

A ``Module`` registers what is assigned to it, in assignment order (plain dicts, never a set):
``Parameter`` values become parameters, ``Module`` values become submodules, and tensors passed to
``register_buffer`` become buffers. Names are PyTorch's (``0.weight``, ``fc1.bias``), so a PyTorch state
dict converted to numpy arrays loads as it is.
"""
from collections import OrderedDict, namedtuple
import copy

import numpy as np

import autodiff
from autodiff import Tensor
from autodiff.viz.names import note_module as _note_module

from . import hooks as _hooks
from .hooks import RemovableHandle
from .parameter import Parameter

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "IncompatibleKeys"]


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
IncompatibleKeys.__doc__ = "What ``load_state_dict(strict=False)`` skipped: (missing_keys, unexpected_keys)."


def _as_array(value, key):
    """The numpy array behind a state-dict value (Tensor, ndarray, number or anything with __array__)."""
    if isinstance(value, Tensor):
        arr = value.data
    elif isinstance(value, np.ndarray):
        arr = value
    else:
        if hasattr(value, "detach") and hasattr(value, "numpy"):  # e.g. a torch tensor
            value = value.detach().cpu().numpy()
        try:
            arr = np.asarray(value)
        except Exception as e:  # pragma: no cover - depends on the foreign object
            raise TypeError(f"load_state_dict: value for {key!r} is not an array "
                            f"({type(value).__name__})") from e
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"load_state_dict: value for {key!r} has dtype {arr.dtype} (shape "
                        f"{tuple(arr.shape)}); expected numbers (bool, int or float); nothing was changed")
    return arr


class Module:
    """Base class of layers and models: subclass it, assign submodules and parameters in ``__init__``
    and write ``forward``. Calling the module runs ``forward`` inside ``autodiff.scope(name)``, where
    ``name`` is the attribute name the parent gave it (the class name for the root), so pictures of the
    graph group operations by module.

    Example::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 256)
                self.fc2 = nn.Linear(256, 10)

            def forward(self, x):
                return self.fc2(nn.functional.relu(self.fc1(x)))
    """

    _version = 1

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers"] = []
        d["_modules"] = {}
        d["_scope_name"] = None
        d["_forward_hooks"] = {}
        d["_forward_pre_hooks"] = {}
        d["_backward_hooks"] = {}
        d["_backward_pre_hooks"] = {}

    # --- registration ---------------------------------------------------------------------------
    def _check_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call "
                                 f"(call super().__init__() first in {type(self).__name__}.__init__)")

    def _forget(self, name, keep=None):
        """Remove ``name`` from every registry except ``keep`` (re-assigning keeps its position)."""
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                self.__dict__[store].pop(name, None)
        self.__dict__.pop(name, None)
        if name in self._non_persistent_buffers:
            self._non_persistent_buffers.remove(name)

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            self._check_init("parameters")
            self._forget(name, "_parameters")
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} as parameter "
                                f"{name!r} (nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._check_init("submodules")
            self._forget(name, "_modules")
            d["_modules"][name] = value
            value.__dict__["_scope_name"] = name
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} as child "
                                f"module {name!r} (nn.Module or None expected)")
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                if isinstance(value, np.ndarray):
                    value = Tensor(value)
                else:
                    raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} as "
                                    f"buffer {name!r} (Tensor, ndarray or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        d = self.__dict__
        if any(name in d.get(s, ()) for s in ("_parameters", "_buffers", "_modules")):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    @staticmethod
    def _check_name(kind, name, owner):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain '.', got {name!r}")
        if hasattr(owner, name) and not any(name in getattr(owner, s) for s in
                                            ("_parameters", "_buffers", "_modules")):
            raise KeyError(f"attribute {name!r} already exists on {type(owner).__name__}")

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as a missing bias)."""
        self._check_init("parameters")
        self._check_name("parameter", name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be an nn.Parameter or None, "
                            f"got {type(param).__name__}")
        self._forget(name, "_parameters")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a tensor that is state but not a parameter (e.g. BatchNorm's running mean).

        Persistent buffers are part of ``state_dict``; ``.to(dtype)`` converts float buffers.
        """
        self._check_init("buffers")
        self._check_name("buffer", name, self)
        if tensor is not None and not isinstance(tensor, Tensor):
            if isinstance(tensor, np.ndarray):
                tensor = Tensor(tensor)
            else:
                raise TypeError(f"register_buffer: {name!r} must be a Tensor, ndarray or None, "
                                f"got {type(tensor).__name__}")
        self._forget(name, "_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.append(name)

    def add_module(self, name, module):
        """Register ``module`` as a child called ``name`` (same as assigning the attribute)."""
        self._check_init("submodules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be an nn.Module or None, got {type(module).__name__}")
        self._check_name("module", name, self)
        self._forget(name, "_modules")
        self._modules[name] = module
        if module is not None:
            module.__dict__["_scope_name"] = name

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at dotted path ``target`` ('' is the module itself)."""
        mod = self
        for part in target.split(".") if target else ():
            if part not in mod._modules or mod._modules[part] is None:
                raise AttributeError(f"get_submodule: {type(mod).__name__} has no submodule {part!r} "
                                     f"(looking for {target!r})")
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target):
        """The parameter at dotted path ``target`` (e.g. ``'fc1.weight'``)."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"get_parameter: {type(mod).__name__} has no parameter {name!r}")
        return mod._parameters[name]

    # --- iteration --------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield ``(dotted_name, module)`` for this module and every submodule, depth first."""
        if memo is None:
            memo = {}
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo[id(mod)] = mod
            yield name, mod
            children = [(f"{name}.{k}" if name else k, m) for k, m in mod._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        """Yield this module and every submodule (each once), depth first."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yield ``(name, module)`` for the direct children, in registration order."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """Yield the direct child modules, in registration order."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_name, mod in mods:
            for k, v in getattr(mod, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mod_name}.{k}" if mod_name else k), v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, Parameter)`` in registration order (shared parameters once)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield the parameters in registration order (what optimizers take)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, Tensor)`` for the buffers."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield the buffers."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # --- modes and gradients --------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here and below."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {mode!r}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Set evaluation mode: same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of every parameter (e.g. False to freeze a module)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default) or to zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    # --- calling ----------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define it in the subclass")

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if d["_forward_pre_hooks"]:
            for hook in list(d["_forward_pre_hooks"].values()):
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        finish = None
        if d.get("_backward_hooks") or d.get("_backward_pre_hooks"):
            args, finish = _hooks.setup_backward_hooks(self, args)
        with autodiff.scope(d["_scope_name"] or type(self).__name__):
            _note_module(self)  # lets the pictures name parameters by module path
            out = self.forward(*args, **kwargs)
        if d["_forward_hooks"]:
            for hook in list(d["_forward_hooks"].values()):
                res = hook(self, args, out)
                if res is not None:
                    out = res
        if finish is not None:
            out = finish(out)
        return out

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before ``forward``; a returned value replaces the args.

        Returns a handle with ``remove()``.
        """
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after ``forward``; a returned value replaces the output.

        Returns a handle with ``remove()``.
        """
        return RemovableHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        module's inputs are computed, as PyTorch does.

        ``grad_input`` has one entry per positional argument (None for non-Tensors, zeros for
        Tensors that need no gradient, as PyTorch), ``grad_output`` one per Tensor output; both
        are tuples of Tensors. A returned tuple replaces ``grad_input``. With ``prepend`` the hook
        runs before those registered earlier. Returns a handle with ``remove()``.
        """
        return RemovableHandle(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs are computed, before those of the inputs; a returned tuple replaces
        ``grad_output``. With ``prepend`` the hook runs before those registered earlier. Returns a
        handle with ``remove()``.
        """
        return RemovableHandle(self._backward_pre_hooks, hook, prepend)

    # --- state ------------------------------------------------------------------------------------
    def _state_items(self):
        for mod_name, mod in self.named_modules(remove_duplicate=False):
            pre = f"{mod_name}." if mod_name else ""
            for k, p in mod._parameters.items():
                if p is not None:
                    yield pre + k, p
            for k, b in mod._buffers.items():
                if b is not None and k not in mod._non_persistent_buffers:
                    yield pre + k, b

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict ``name -> Tensor`` of parameters and persistent buffers.

        The tensors share memory with the module (detached unless ``keep_vars``); convert them with
        ``np.asarray`` or save them with ``nn.save``.
        """
        out = OrderedDict() if destination is None else destination
        for k, v in self._state_items():
            out[prefix + k] = v if keep_vars else v.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` into the parameters and buffers, in place.

        Every name and shape is checked first; if anything is wrong nothing changes. Values may be
        Tensors, numpy arrays or anything ``np.asarray`` accepts; they are cast to the parameter's dtype.

        Args:
            state_dict: mapping ``name -> array``, e.g. from ``state_dict()``, ``nn.load`` or a PyTorch
                state dict converted with ``{k: v.numpy() for k, v in sd.items()}``.
            strict: require exactly the module's keys. Shape mismatches are errors either way.

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)``.

        Raises:
            RuntimeError: listing the missing, unexpected and mismatched keys.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict-like mapping, got {type(state_dict).__name__}")
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        plan = []
        for k, target in own.items():
            if k not in state_dict:
                continue
            arr = _as_array(state_dict[k], k)
            if arr.shape != target.data.shape:
                mismatched.append(f"{k}: shape {tuple(arr.shape)} in the state dict, "
                                  f"{tuple(target.data.shape)} in the model")
                continue
            plan.append((target, arr))
        problems = []
        if strict and missing:
            problems.append("Missing key(s): " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
        if mismatched:
            problems.append("Size mismatch: " + "; ".join(mismatched))
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__} "
                               f"(nothing was changed):\n  " + "\n  ".join(problems))
        converted = [(t, arr.astype(t.data.dtype, copy=False)) for t, arr in plan]
        for t, arr in converted:
            np.copyto(t.data, arr)
            t._version[0] += 1
        return IncompatibleKeys(missing, unexpected)

    # --- conversion -------------------------------------------------------------------------------
    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and on self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, dtype=None, device=None):
        """Convert float parameters and buffers (and gradients) to ``dtype`` in place; returns self.

        Parameters keep their identity (optimizers holding them stay valid). The only device is the
        CPU, so ``to('cpu')`` / ``device='cpu'`` change nothing (for code written for PyTorch).
        """
        if isinstance(dtype, str) and dtype.split(":")[0] in ("cpu", "cuda", "mps", "xpu"):
            dtype, device = None, dtype
        if device is not None and str(device).split(":")[0] != "cpu":
            raise ValueError(f"{type(self).__name__}.to: only the 'cpu' device exists, got {device!r}")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to: only floating dtypes are supported, got {dtype}")
        for m in self.modules():
            for t in list(m._parameters.values()) + list(m._buffers.values()):
                if t is None or t.data.dtype.kind != "f" or t.data.dtype == dtype:
                    continue
                t.data = t.data.astype(dtype)
                t._version[0] += 1
                if t.grad is not None:
                    t.grad = Tensor(t.grad.data.astype(dtype))
        return self

    def float(self):
        """Convert float parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self):
        """Convert float parameters and buffers to float64."""
        return self.to(np.float64)

    def half(self):
        """Convert float parameters and buffers to float16."""
        return self.to(np.float16)

    def type(self, dst_type):
        """Convert float parameters and buffers to ``dst_type`` (PyTorch's ``Module.type``)."""
        return self.to(dst_type)

    def cpu(self):
        """This module: every tensor lives in host memory here."""
        return self

    def __deepcopy__(self, memo):
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            new.__dict__[k] = copy.deepcopy(v, memo)
        return new

    # --- repr -------------------------------------------------------------------------------------
    def extra_repr(self):
        """One line of settings shown inside the parentheses of ``repr``; layers override it."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        if not lines:
            return f"{type(self).__name__}()"
        if not self._modules and len(lines) == 1:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


# the containers live in nn/containers.py; importable from here too (nn.module.Sequential)
from .containers import ModuleDict, ModuleList, Sequential  # noqa: E402
