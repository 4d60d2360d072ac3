"""Optimizer base class: parameter groups, zero_grad, step, state_dict / load_state_dict.

An optimizer holds references to parameters (autodiff Tensors with ``requires_grad=True``)
and updates their ``.data`` arrays in place from their ``.grad`` after ``backward()``. The
updates are plain numpy in-place operations on the arrays: no graph is built and no
Tensor is created, so a step costs a few vectorised numpy calls per parameter.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["Optimizer", "required"]


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _grad_array(p):
    g = p.grad
    if g is None:
        return None
    return g if isinstance(g, np.ndarray) else g.data


class Optimizer:
    """Base class of all optimizers, with PyTorch's interface.

    Subclasses set their defaults and implement ``_init_state(p, group)`` (the per-parameter
    state, created on the parameter's first step) and ``_update(p, grad, state, group)``
    (one in-place update of the array ``p`` from the gradient array ``grad``).

    Args:
        params: an iterable of parameters, or of dicts (parameter groups) with a ``'params'``
            entry and any hyper-parameters that override ``defaults`` for that group, e.g.
            ``[{'params': model.body.parameters()}, {'params': head_params, 'lr': 1e-2}]``.
        defaults: the default hyper-parameters of every group.

    Attributes:
        param_groups: list of dicts, each with ``'params'`` (a list of parameters) and its
            hyper-parameters (``'lr'``, ...). Schedulers change ``group['lr']`` here.
        state: dict mapping a parameter to its state dict (moment estimates, ``'step'``...).
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}
        self.param_groups: list[dict] = []
        self._scratch: dict = {}
        if hasattr(params, "data") and isinstance(getattr(params, "data"), np.ndarray):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or "
                            f"dicts, but got a single Tensor; wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- groups ---------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters (defaults fill the rest)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if hasattr(params, "data") and isinstance(params.data, np.ndarray):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters must be an ordered sequence, not a set "
                            f"(a set's order changes between runs)")
        params = list(params)
        for p in params:
            if not isinstance(getattr(p, "data", None), np.ndarray):
                raise TypeError(f"{name}: can only optimize Tensors, got {type(p).__name__}")
            if not getattr(p, "requires_grad", False):
                raise ValueError(f"{name}: a parameter of shape {tuple(p.data.shape)} does not "
                                 f"require grad")
            if not getattr(p, "is_leaf", True):
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (shape "
                                 f"{tuple(p.data.shape)})")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name}: a parameter appears twice in the same group")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if existing.intersection(ids):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = dict(param_group)
        group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {key!r}")
            group.setdefault(key, default)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict) -> None:
        """Validate a group's hyper-parameters (subclasses extend); raise ValueError."""
        lr = group.get("lr")
        if lr is not None and not lr >= 0.0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate lr={lr}")
        wd = group.get("weight_decay", 0.0)
        if not wd >= 0.0:
            raise ValueError(f"{type(self).__name__}: invalid weight_decay={wd}")

    # --- gradients and steps --------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: drop them (``None``, the default) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = _grad_array(p)
                    if g.flags.writeable:
                        g.fill(0)
                    else:
                        p.grad.data = np.zeros_like(g)

    def _buffer(self, p, slot: int = 0) -> np.ndarray:
        """A scratch array shaped like ``p`` (reused across steps, never part of the state)."""
        bufs = self._scratch.get(id(p))
        if bufs is None or bufs[0].shape != p.data.shape or bufs[0].dtype != p.data.dtype:
            bufs = self._scratch[id(p)] = []
        while len(bufs) <= slot:
            bufs.append(np.empty_like(p.data))
        return bufs[slot]

    def _effective_grad(self, p, grad, group, slot: int = 0):
        """``grad`` (negated if maximizing) plus L2 weight decay ``wd * p``, without touching p.grad."""
        maximize = group.get("maximize", False)
        wd = group.get("weight_decay", 0.0)
        if not maximize and not wd:
            return grad
        buf = self._buffer(p, slot)
        if maximize:
            np.negative(grad, out=buf)
            if wd:
                buf += np.multiply(p.data, wd)
            return buf
        np.multiply(p.data, wd, out=buf)
        buf += grad
        return buf

    def step(self, closure=None):
        """Update every parameter that has a gradient, once.

        Args:
            closure: optional function that re-evaluates the model and returns the loss
                (called with gradients enabled before the update).

        Returns:
            the closure's loss, or None.
        """
        loss = None
        if closure is not None:
            from autodiff import enable_grad

            with enable_grad():
                loss = closure()
        work = []
        for group in self.param_groups:
            for p in group["params"]:
                grad = _grad_array(p)
                if grad is None:
                    continue
                if grad.shape != p.data.shape:
                    raise RuntimeError(f"{type(self).__name__}.step: gradient of shape "
                                       f"{tuple(grad.shape)} for a parameter of shape "
                                       f"{tuple(p.data.shape)}")
                work.append((p, grad, group))
        for p, grad, group in work:
            state = self.state.get(p)
            fresh = state is None
            if fresh:
                state = self._init_state(p, group)
            self._update(p, grad, state, group)
            if fresh and state:  # e.g. SGD without momentum keeps no state, as in PyTorch
                self.state[p] = state
        return loss

    def _init_state(self, p, group) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _init_state")

    def _update(self, p, grad, state, group) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    # --- saving and resuming --------------------------------------------------------------
    def _all_params(self) -> list:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict:
        """A copy of the optimizer's state, in PyTorch's layout.

        Returns:
            ``{'state': {index: {name: array or number}}, 'param_groups': [{..., 'params':
            [indices]}]}`` where indices count the parameters over all groups in order.
            Arrays are copies, so later steps do not change a saved state dict.
        """
        index = {id(p): i for i, p in enumerate(self._all_params())}
        state = {}
        for p, s in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                       for k, v in s.items()}
        groups = []
        for g in self.param_groups:
            saved = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            saved["params"] = [index[id(p)] for p in g["params"]]
            groups.append(saved)
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state from :meth:`state_dict` (e.g. after ``nn.load``) so training resumes exactly.

        Everything is checked first (group count, parameters per group, state array shapes);
        on any mismatch a ValueError is raised and the optimizer is left unchanged. Float
        state arrays are cast to their parameter's dtype.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and "
                             f"'param_groups', got {sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} "
                             f"parameter groups, the optimizer has {len(self.param_groups)}")
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(g["params"]) for g in saved_groups]
        if sizes != saved_sizes:
            raise ValueError(f"{name}.load_state_dict: loaded state dict has groups of sizes "
                             f"{saved_sizes}, the optimizer's groups have sizes {sizes}")
        params = self._all_params()
        by_index = {}
        for g, saved in zip(self.param_groups, saved_groups):
            for p, i in zip(g["params"], saved["params"]):
                by_index[int(i)] = p
        new_state = {}
        for i, s in state_dict["state"].items():
            i = int(i)
            if i not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for parameter index {i}, but "
                                 f"there are only {len(params)} parameters")
            p = by_index[i]
            entry = {}
            for k, v in s.items():
                if isinstance(v, np.ndarray) or (not isinstance(v, (int, float, bool, type(None)))
                                                 and isinstance(getattr(v, "data", None), np.ndarray)):
                    v = np.asarray(v if isinstance(v, np.ndarray) else v.data)
                    if v.ndim == 0:
                        v = v.item()
                    else:
                        if v.shape != p.data.shape:
                            raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter "
                                             f"{i} has shape {tuple(v.shape)}, the parameter has "
                                             f"shape {tuple(p.data.shape)}")
                        dtype = p.data.dtype if np.issubdtype(v.dtype, np.floating) else v.dtype
                        v = np.array(v, dtype=dtype, copy=True)
                elif isinstance(v, np.generic):
                    v = v.item()
                entry[k] = v
            new_state[p] = entry
        new_groups = []
        for g, saved in zip(self.param_groups, saved_groups):
            ng = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            for k, v in ng.items():
                if isinstance(v, list) and isinstance(g.get(k), tuple):
                    ng[k] = tuple(v)
            ng["params"] = g["params"]
            self._check_group(ng)
            new_groups.append(ng)
        self.state = new_state
        self.param_groups[:] = new_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(k for k in g if k != "params"):
                lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)
