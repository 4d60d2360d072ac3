"""The checking runs of an export: the model traced again with other input values (constants that
change were computed from the inputs) and with other sizes on the dynamic axes (which dimensions
follow each axis)."""
import warnings

import numpy as np

from autodiff import Tensor

from . import trace as tracing
from .convert import ExportError

__all__ = ["CheckingRuns", "RunFailed"]


class RunFailed(ExportError):
    """The model raised when it was traced again for a check."""


class CheckingRuns:
    """The part of :class:`~nn.onnx.builder.Exporter` that traces the model again and compares."""

    def _rerun(self, arrays, what):
        args, kwargs = _replace_leaves((self.args, self.kwargs), arrays, [0])
        try:
            other, _ = tracing.run(self.model, args, kwargs)
        except Exception as e:
            raise RunFailed(f"onnx export: the model failed when traced again with {what}: "
                            f"{type(e).__name__}: {e}") from None
        try:
            tracing.compare(self.trace, other, what)
        except tracing.StructureError as e:
            raise ExportError(str(e)) from None
        return other

    def _check_values(self):
        """Trace with other input values: constants that change were computed from the inputs."""
        rng = np.random.default_rng(0)
        try:
            other = self._rerun([_perturbed(t.data, rng) for t in self.trace.inputs], "other input values")
        except RunFailed as e:  # the model accepts only some values (it checks them): no check then
            warnings.warn(f"{e}; constants computed from the inputs outside the graph are not detected "
                          f"(the exported model is still compared with ours at the example input)", stacklevel=4)
            return
        self._note_varying(other, "other input values")
        self.other_traces.append(("other input values", other))

    def _note_varying(self, other, reason):
        """Note the constant arguments that differ in ``other`` (arrays of another shape only when the
        values were changed: a size change gives them dynamic dims instead)."""
        sized = reason != "other input values"
        for i, (a, b) in enumerate(zip(self.trace.nodes, other.nodes)):
            for j, (x, y) in enumerate(zip(self.trace.args[i], other.args[i])):
                const = not isinstance(x, Tensor) or self._is_const_leaf(x)
                if const and not _same(x, y) and not (sized and _reshaped(x, y)):
                    self.varying_args.setdefault((i, j), reason)
            for key, x in (a.kwargs or {}).items():
                if not _same(x, (b.kwargs or {}).get(key)):
                    self.varying_kwargs.setdefault((i, key), reason)

    def _dynamic(self, dyn_inputs):
        """Trace once per dynamic symbol with that size changed; derive every value's dims."""
        sizes, axes_of = {}, {}
        for pos, axis, sym in dyn_inputs:
            size = self.trace.inputs[pos].shape[axis]
            if sizes.setdefault(sym, size) != size:
                raise ValueError(f"onnx export: dynamic axis name {sym!r} is given to inputs of sizes "
                                 f"{sizes[sym]} and {size}")
            axes_of.setdefault(sym, []).append((pos, axis))
        traces, new_sizes = {}, {}
        for sym in axes_of:
            if sym in new_sizes:
                continue
            # inputs of the same size under different names often share one axis (x and h0's batch):
            # when changing one alone fails, they are changed together and become one symbol
            together = [s for s in axes_of if sizes[s] == sizes[sym] and s not in new_sizes]
            groups = [[sym]] + ([together] if len(together) > 1 else [])
            first = None
            for new in _other_sizes(sizes[sym]):
                for group in groups:
                    places = [p for s in group for p in axes_of[s]]
                    try:
                        traces[sym] = self._rerun(self._resized(places, new), f"size {new} on dynamic axis {sym!r}")
                        break
                    except ExportError as e:
                        first = first or e
                if sym in traces:
                    break
            if sym not in traces:
                raise first
            for s in group:
                new_sizes[s] = new
                for pos, axis in axes_of[s]:
                    self.arg_dims[pos][axis] = tracing.Dim(1, (sym,), sizes[sym])
                    self.sym_source.setdefault(sym, (pos, axis))
        for sym, other in traces.items():
            self._note_varying(other, f"the size of dynamic axis {sym!r}")
            self.other_traces.append((f"the size of dynamic axis {sym!r}", other))
        for i, shapes in enumerate(self.trace.output_shapes):
            for k, base in enumerate(shapes):
                varied = {s: tr.output_shapes[i][k] for s, tr in traces.items()}
                self.node_dims[i][k] = tracing.symbolic_dims(base, varied, sizes, new_sizes)
            for j, x in enumerate(self.trace.args[i]):
                if not isinstance(x, Tensor) and not isinstance(x, np.ndarray) or (
                        isinstance(x, Tensor) and not self._is_const_leaf(x)):
                    continue
                shape = np.shape(_array(x))
                varied = {s: np.shape(_array(tr.args[i][j]))
                          for s, tr in traces.items()}
                if any(v != shape for v in varied.values()):
                    self.const_dims[(i, j)] = tracing.symbolic_dims(shape, varied, sizes, new_sizes)

    def _resized(self, places, new):
        arrays = [t.data for t in self.trace.inputs]
        for pos, axis in places:
            arrays[pos] = _retile(arrays[pos], axis, new)
        return arrays


def _other_sizes(n):
    """Sizes to trace a dynamic axis of size ``n`` at: a large change first (a strided dimension then
    changes too), smaller ones for models with a size limit (a context length)."""
    return [2 * n + 1, n + 1] + ([n - 1] if n > 1 else [])


def _retile(arr, axis, size):
    """``arr`` with ``axis`` changed to ``size`` by repeating its entries (values stay valid indices)."""
    return np.take(arr, np.arange(size) % arr.shape[axis], axis=axis)


def _perturbed(arr, rng):
    """Other values of the same shape and dtype: noise for floats, a roll for integers and bools."""
    if arr.dtype.kind == "f":
        scale = float(np.std(arr)) if arr.size > 1 else 1.0
        return (arr + rng.standard_normal(arr.shape) * 0.5 * (scale or 1.0)).astype(arr.dtype)
    return np.roll(arr.reshape(-1), 1).reshape(arr.shape) if arr.size else arr


def _replace_leaves(obj, new, counter):
    """``obj`` (the args structure) with its Tensors replaced, in order, by the arrays in ``new``."""
    if isinstance(obj, Tensor):
        counter[0] += 1
        return Tensor(new[counter[0] - 1])
    if isinstance(obj, (tuple, list)):
        return type(obj)(_replace_leaves(v, new, counter) for v in obj)
    if isinstance(obj, dict):
        return {k: _replace_leaves(v, new, counter) for k, v in obj.items()}
    return obj


def _array(x):
    """The array of a Tensor argument, other arguments as they are."""
    return x.data if isinstance(x, Tensor) else x


def _reshaped(a, b):
    """True if ``a`` and ``b`` are arrays (or Tensors) of different shapes."""
    a, b = _array(a), _array(b)
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape != b.shape


def _same(a, b):
    """True if two traced arguments are equal (arrays by shape, dtype and values)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        a, b = a.data, b.data
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype == object or b.dtype == object:
            return a is b
        return a.shape == b.shape and a.dtype == b.dtype and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:
        return a is b
