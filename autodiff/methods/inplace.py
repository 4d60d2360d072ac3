"""Tensor's in-place changes (``+= -= *= /=``, ``t[key] = v``, zero_/fill_/copy_), recorded like any op.

An in-place change really modifies the tensor's array and bumps its version counter. When grad is
recorded, the op runs out of place through its Function on a copy of the old values, the result is
copied back into the array, and the tensor is moved onto the new node. A view's change is carried
into its base's graph (``CopySlices``), as PyTorch does.
"""
import numpy as np

from .. import mode
from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..function import view_indices
from ..ops import elementwise, index
from .shapes import index_key

_grad_enabled = mode._grad_enabled


class InplaceMethods:
    """``+= -= *= /=``, ``add_ sub_ mul_ div_``, ``t[key] = v``, ``zero_ fill_ copy_``."""

    __slots__ = ()

    def _old_values(self):
        """A tensor holding a copy of the current values, at the current place in the graph."""
        Tensor = tensors.Tensor
        if self._node is not None:
            return Tensor._make(self.data.copy(), self._node, self._out_idx, True)
        return Tensor(self.data.copy(), requires_grad=self._requires_grad)

    def _check_recordable(self, what):
        """Refuse a recorded in-place change of a leaf that requires grad, or of a view of one: it
        would rewrite the leaf's values behind the graph's back (PyTorch refuses it too)."""
        if self._node is None and self._requires_grad:
            raise RuntimeError(
                f"{what}: a leaf tensor that requires grad (shape {tuple(self.shape)}) cannot be "
                "modified in place while grad is recorded; wrap the update in autodiff.no_grad() or "
                "use an out-of-place operation")
        base = getattr(self, "_base", None)
        if base is not None and base._node is None and base._requires_grad:
            raise RuntimeError(
                f"{what}: this tensor (shape {tuple(self.shape)}) is a view of a leaf tensor that "
                f"requires grad (shape {tuple(base.shape)}); it cannot be modified in place while grad "
                "is recorded; wrap the update in autodiff.no_grad() or use an out-of-place operation")

    def _take_result(self, result):
        """Copy a recorded out-of-place result into this tensor's array and move it onto its node."""
        np.copyto(self.data, result.data, casting="same_kind")
        self._node, self._out_idx, self._requires_grad = result._node, 0, True
        self._propagate_to_base()

    def _propagate_to_base(self):
        """After a recorded in-place change of this view, make its base's graph see the change.

        The base (which already holds the new values: it shares memory with the view) is rebased onto
        a ``CopySlices`` node: the base's previous graph outside the view, this view's new graph
        inside it, so gradients through the base reach the in-place op.
        """
        base = getattr(self, "_base", None)
        if base is None:
            return
        Tensor = tensors.Tensor
        vidx = view_indices(base.data.shape, self._view_steps)
        old = Tensor._make(base.data, base._node, base._out_idx, True) if base._node is not None else base
        result = index.CopySlices.apply(old, self, vidx)
        base._node, base._out_idx, base._requires_grad = result._node, 0, True

    def _inplace(self, other, op, ufunc, symbol):
        other_t = isinstance(other, tensors.Tensor)
        if _grad_enabled.get() and (self._requires_grad or (other_t and other._requires_grad)):
            self._check_recordable(f"in-place {symbol}")
            result = op.apply(self._old_values(), other)
            if result.shape != self.shape:
                raise ValueError(f"in-place {symbol}: result shape {tuple(result.shape)} does not match "
                                 f"the tensor's shape {tuple(self.shape)}")
            self._take_result(result)
        else:
            od = other.data if other_t else other
            try:
                res_shape = np.broadcast_shapes(self.data.shape, np.shape(od))
            except ValueError:
                raise ValueError(f"in-place {symbol}: shapes {tuple(self.shape)} and "
                                 f"{tuple(np.shape(od))} cannot be broadcast") from None
            if res_shape != self.data.shape:
                raise ValueError(f"in-place {symbol}: result shape {res_shape} does not match the "
                                 f"tensor's shape {tuple(self.shape)}")
            ufunc(self.data, od, out=self.data, casting="same_kind")
        self._version[0] += 1
        return self

    def __iadd__(self, other):
        return self._inplace(other, elementwise.Add, np.add, "+=")

    def __isub__(self, other):
        return self._inplace(other, elementwise.Sub, np.subtract, "-=")

    def __imul__(self, other):
        return self._inplace(other, elementwise.Mul, np.multiply, "*=")

    def __itruediv__(self, other):
        return self._inplace(other, elementwise.Div, np.true_divide, "/=")

    def add_(self, other):
        return self.__iadd__(other)

    def sub_(self, other):
        return self.__isub__(other)

    def mul_(self, other):
        return self.__imul__(other)

    def div_(self, other):
        return self.__itruediv__(other)

    # zero_, fill_ and copy_ are ``self[...] = value``: recorded like any index assignment when grad is
    # on (the old values get no gradient, a Tensor ``src`` of copy_ gets one), refused on a leaf that
    # requires grad outside no_grad, and they bump the version counter
    def zero_(self):
        self[...] = 0
        return self

    def fill_(self, value):
        self[...] = value
        return self

    def copy_(self, src):
        """Copy ``src`` (broadcast to this tensor's shape) into this tensor, in place."""
        self[...] = src
        return self

    def __setitem__(self, key, value):
        """``t[key] = value``, in place; recorded when grad is on (gradient flows to ``value``)."""
        key = index_key(key)
        value_t = isinstance(value, tensors.Tensor)
        if _grad_enabled.get() and (self._requires_grad or (value_t and value._requires_grad)):
            self._check_recordable("setitem")
            self._take_result(index.SetItem.apply(self._old_values(), value, key))
        else:
            v = value.data if value_t else value
            try:
                self.data[key] = v
            except ValueError as e:
                raise ValueError(f"setitem: cannot assign a value of shape {tuple(np.shape(v))} into a "
                                 f"tensor of shape {tuple(self.shape)}: {e}") from None
        self._version[0] += 1
