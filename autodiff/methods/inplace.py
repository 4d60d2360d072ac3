"""Tensor's in-place changes (``+= -= *= /=``, ``t[key] = v``, zero_/fill_/copy_), recorded like any op.

An in-place change really modifies the tensor's array and bumps its version counter. When grad is
recorded, the op runs out of place through its Function on a copy of the old values, the result is
copied back into the array, and the tensor is moved onto the new node. A view's change is carried
into its base's graph (``CopySlices``), as PyTorch does.
"""
import numpy as np

from .. import grad_mode
from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..errors import ShapeError
from ..function import view_indices
from ..ops import elementwise, index
from ..ops.promotion import result_type
from .arithmetic import _scaled
from .shapes import index_key

_grad_enabled = grad_mode._grad_enabled


class InplaceMethods:
    """``+= -= *= /= //= %= **= &= |= ^= <<= >>=``, the ``_``-suffixed in-place methods (``add_``,
    ``clamp_`` ...), ``t[key] = v``, ``zero_ fill_ copy_``."""

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

    def _inplace_result(self, fn, what, *others):
        """Set this tensor to ``fn(self)`` in place, recorded like any op when grad is on.

        PyTorch's rules: the result must keep this tensor's shape (ShapeError, a RuntimeError
        otherwise) and be castable to its dtype (``int_tensor.add_(1.5)`` is a RuntimeError).
        """
        Tensor = tensors.Tensor
        recording = _grad_enabled.get() and (
            self._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others))
        if recording:
            self._check_recordable(what)
            result = fn(self._old_values())
        else:
            result = fn(self)
        if result.shape != self.data.shape:
            raise ShapeError(f"{what}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                             f"shape {tuple(result.shape)}")
        if not np.can_cast(result.data.dtype, self.data.dtype, casting="same_kind"):
            raise RuntimeError(f"{what}: result type {result.data.dtype} can't be cast to the desired "
                               f"output type {self.data.dtype}")
        if recording:
            self._take_result(result)
        else:
            np.copyto(self.data, result.data, casting="same_kind")
        self._version[0] += 1
        return self

    def _inplace_binary(self, other, op, ufunc, what):
        """``self op= other``: numpy's in-place ufunc when nothing is recorded, else ``_inplace_result``."""
        Tensor = tensors.Tensor
        other_t = isinstance(other, Tensor)
        if _grad_enabled.get() and (self._requires_grad or (other_t and other._requires_grad)):
            return self._inplace_result(lambda x: op.apply(x, other), what, other)
        od = other.data if other_t else other
        dtype = result_type(self.data, od)
        if ufunc is np.true_divide and dtype.kind not in "fc":
            dtype = np.dtype(np.float64)  # true division of integers is a float result
        if not np.can_cast(dtype, self.data.dtype, casting="same_kind"):
            raise RuntimeError(f"{what}: result type {dtype} can't be cast to the desired output type "
                               f"{self.data.dtype}")
        try:
            shape = np.broadcast_shapes(self.data.shape, np.shape(od))
        except ValueError:
            raise ShapeError(f"{what}: shapes {tuple(self.shape)} and {tuple(np.shape(od))} cannot be "
                             "broadcast") from None
        if shape != self.data.shape:
            raise ShapeError(f"{what}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                             f"shape {shape}")
        ufunc(self.data, od, out=self.data, casting="same_kind")
        self._version[0] += 1
        return self

    def __iadd__(self, other):
        return self._inplace_binary(other, elementwise.Add, np.add, "add_")

    def __isub__(self, other):
        return self._inplace_binary(other, elementwise.Sub, np.subtract, "sub_")

    def __imul__(self, other):
        return self._inplace_binary(other, elementwise.Mul, np.multiply, "mul_")

    def __itruediv__(self, other):
        return self._inplace_binary(other, elementwise.Div, np.true_divide, "div_")

    def __ifloordiv__(self, other):
        return self._inplace_result(lambda x: x // other, "floor_divide_", other)

    def __imod__(self, other):
        return self._inplace_result(lambda x: x % other, "remainder_", other)

    def __ipow__(self, other):
        return self._inplace_result(lambda x: x ** other, "pow_", other)

    def add_(self, other, *, alpha=1):
        return self._inplace_binary(_scaled(other, alpha), elementwise.Add, np.add, "add_")

    def sub_(self, other, *, alpha=1):
        return self._inplace_binary(_scaled(other, alpha), elementwise.Sub, np.subtract, "sub_")

    def mul_(self, other):
        return self._inplace_binary(other, elementwise.Mul, np.multiply, "mul_")

    def div_(self, other, *, rounding_mode=None):
        if rounding_mode is None:
            return self._inplace_binary(other, elementwise.Div, np.true_divide, "div_")
        return self._inplace_result(lambda x: x.div(other, rounding_mode=rounding_mode), "div_", other)

    subtract_ = sub_
    multiply_ = mul_
    divide_ = div_
    true_divide_ = div_

    def pow_(self, exponent):
        return self._inplace_result(lambda x: x.pow(exponent), "pow_", exponent)

    def neg_(self):
        return self._inplace_result(lambda x: x.neg(), "neg_")

    negative_ = neg_

    def floor_divide_(self, other):
        return self._inplace_result(lambda x: x.floor_divide(other), "floor_divide_", other)

    def remainder_(self, other):
        return self._inplace_result(lambda x: x.remainder(other), "remainder_", other)

    def fmod_(self, other):
        return self._inplace_result(lambda x: x.fmod(other), "fmod_", other)

    def copysign_(self, other):
        return self._inplace_result(lambda x: x.copysign(other), "copysign_", other)

    def atan2_(self, other):
        return self._inplace_result(lambda x: x.atan2(other), "atan2_", other)

    def __iand__(self, other):
        return self._inplace_result(lambda x: x & other, "bitwise_and_", other)

    def __ior__(self, other):
        return self._inplace_result(lambda x: x | other, "bitwise_or_", other)

    def __ixor__(self, other):
        return self._inplace_result(lambda x: x ^ other, "bitwise_xor_", other)

    def __ilshift__(self, other):
        return self._inplace_result(lambda x: x << other, "bitwise_left_shift_", other)

    def __irshift__(self, other):
        return self._inplace_result(lambda x: x >> other, "bitwise_right_shift_", other)

    bitwise_and_, bitwise_or_, bitwise_xor_ = __iand__, __ior__, __ixor__
    bitwise_left_shift_, bitwise_right_shift_ = __ilshift__, __irshift__

    def bitwise_not_(self):
        return self._inplace_result(lambda x: ~x, "bitwise_not_")

    def logical_not_(self):
        return self._inplace_result(lambda x: x.logical_not(), "logical_not_")

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return self._inplace_result(lambda x: x.addcmul(tensor1, tensor2, value=value), "addcmul_", tensor1, tensor2)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return self._inplace_result(lambda x: x.addcdiv(tensor1, tensor2, value=value), "addcdiv_", tensor1, tensor2)

    def lerp_(self, end, weight):
        return self._inplace_result(lambda x: x.lerp(end, weight), "lerp_", end, weight)

    # zero_, fill_ and copy_ are ``self[...] = value``: recorded like any index assignment when grad is
    # on (the old values get no gradient, a Tensor ``src`` of copy_ gets one), refused on a leaf that
    # requires grad outside no_grad, and they bump the version counter
    def zero_(self):
        self[...] = 0
        return self

    def fill_(self, value):
        self[...] = value
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fill with samples from U[a, b) (the global generator unless ``generator``), in place."""
        from ..creation import default_generator
        g = generator if generator is not None else default_generator()
        self[...] = g.uniform(a, b, self.shape).astype(self.data.dtype)
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill with samples from N(mean, std^2), in place."""
        from ..creation import default_generator
        g = generator if generator is not None else default_generator()
        self[...] = (g.standard_normal(self.shape) * std + mean).astype(self.data.dtype)
        return self

    def bernoulli_(self, p=0.5, generator=None):
        """Fill with 1 (probability ``p``) or 0, in place."""
        from ..creation import default_generator
        g = generator if generator is not None else default_generator()
        self[...] = (g.random(self.shape) < p).astype(self.data.dtype)
        return self

    def copy_(self, src):
        """Copy ``src`` (broadcast to this tensor's shape) into this tensor, in place."""
        self[...] = src
        return self

    def __setitem__(self, key, value):
        """``t[key] = value``, in place; recorded when grad is on (gradient flows to ``value``)."""
        key = index_key(key, self.data.shape)
        value_t = isinstance(value, tensors.Tensor)
        if _grad_enabled.get() and (self._requires_grad or (value_t and value._requires_grad)):
            self._check_recordable("setitem")
            self._take_result(index.SetItem.apply(self._old_values(), value, key))
        else:
            v = value.data if value_t else value
            try:
                self.data[key] = v
            except ValueError as e:
                raise ShapeError(f"setitem: cannot assign a value of shape {tuple(np.shape(v))} into a "
                                 f"tensor of shape {tuple(self.shape)}: {e}") from None
        self._version[0] += 1
