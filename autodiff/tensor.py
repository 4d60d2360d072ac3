"""Tensor: a numpy array, its gradient and its link into the graph. Operators delegate to ``ops``."""
import weakref

import numpy as np

from . import mode
from .backward import run_backward
from .function import VersionBox
from .function import binary_operator
from .function import apply_unary as _unary
from .ops import elementwise as E
from .ops import index as I
from .ops import linalg as L
from .ops import reduce as R
from .ops import shape as S

_grad_enabled = mode._grad_enabled


def _to_array(data, dtype=None):
    """numpy array for ``data``: float ndarrays keep their dtype, Python floats become float32."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        return data if dtype is None else data.astype(dtype, copy=False)
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=dtype)
    arr = np.asarray(data if not isinstance(data, (list, tuple)) else _unwrap_nested(data))
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype.kind in "iu" and arr.dtype != np.int64:
        return arr.astype(np.int64)
    return arr


def _unwrap_nested(x):
    if isinstance(x, (list, tuple)):
        return [_unwrap_nested(v) for v in x]
    if isinstance(x, Tensor):
        return x.data
    return x


def _axis(axis, dim):
    return axis if dim is None else dim


def _keep(keepdims, keepdim):
    return bool(keepdims or keepdim)


# Tensor's arithmetic operators: fn.apply(a, b) unrolled (see function.binary_operator)
_ADD, _SUB, _MUL, _DIV, _POW = (binary_operator(f) for f in (E.Add, E.Sub, E.Mul, E.Div, E.Pow))


class Tensor:
    """An n-d array that records the operations made on it, for reverse-mode differentiation.

    Args:
        data: array-like. A float ndarray keeps its dtype; Python floats become float32, Python ints
            int64, as PyTorch does; integer and bool arrays stay as they are.
        requires_grad: record operations on this tensor so ``backward`` fills its ``.grad``.
        dtype: optional numpy dtype to convert to.
        name: optional label shown in pictures of the graph.
    """

    # _vbox: the version counter (function.VersionBox, a one-element list shared with detached copies
    # and with views, see Function.returns_view), created on first use (most tensors are never
    # modified in place or detached): see _version. _base: for a view, the tensor whose memory it
    # shares, and _view_steps the ops from it to the view (both set on views only: read with getattr)
    __slots__ = ("data", "grad", "_requires_grad", "_node", "_out_idx", "_vbox", "_hooks", "name", "_base",
                 "_view_steps",
                 "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None  # make ndarray <op> Tensor return NotImplemented, so Tensor's reflected op runs

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self._node = None
        self._out_idx = 0
        self._vbox = None
        self._hooks = None
        self.name = name
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data):
        """A constant tensor around an op's output array (fast path, no conversion)."""
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t._node = None
        t._out_idx = 0
        t._vbox = None
        t._hooks = None
        t.name = None
        t._requires_grad = False
        return t

    @classmethod
    def _make(cls, data, node, idx, version=None):
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        t = cls.__new__(cls)
        t.data = data
        t.grad = None
        t._node = node
        t._out_idx = idx
        t._vbox = version
        t._hooks = None
        t.name = None
        t._requires_grad = True
        return t

    # --- autograd attributes ---------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(f"requires_grad: only floating point tensors can require gradients "
                            f"(this tensor has dtype {self.data.dtype}, shape {self.data.shape})")
        if not flag and self._node is not None:
            raise RuntimeError("requires_grad: can only change it on leaf tensors; use detach() instead")
        self._requires_grad = flag

    def requires_grad_(self, flag=True):
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = flag
        return self

    @property
    def grad_fn(self):
        """The Node that produced this tensor (None for leaves)."""
        return self._node

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (user-made tensors, parameters)."""
        return self._node is None

    @property
    def output_nr(self):
        return self._out_idx

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` by the chain rule.

        Args:
            gradient: d(loss)/d(self); may be omitted only for a single-element tensor.
            retain_graph: keep saved arrays so backward can run again (default: ``create_graph``).
            create_graph: record the backward pass so gradients can be differentiated again.
        """
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs; this tensor "
                    f"has shape {tuple(self.shape)}. Pass gradient= (a tensor of that shape).")
            gradient = np.ones_like(self.data)
        else:
            gradient = _to_array(gradient).astype(self.data.dtype, copy=False) if not (
                create_graph and isinstance(gradient, Tensor)) else gradient
            # its shape is checked by run_backward, for every caller
        if create_graph and not isinstance(gradient, Tensor):
            gradient = Tensor(gradient)
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            grads = run_backward([self], [gradient], retain_graph, create_graph, inputs=list(inputs))
            for t, g in zip(inputs, grads):
                if g is not None:
                    from .backward import _set_grad
                    _set_grad(t, g, create_graph)
            return
        run_backward([self], [gradient], retain_graph, create_graph)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if self._node is None:
            return
        node = self._node
        if node._retained is None:
            node._retained = {}
        node._retained[self._out_idx] = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle with ``remove()``.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require grad")
        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self._node
            if node._tensor_hooks is None:
                node._tensor_hooks = {}
            hooks = node._tensor_hooks.setdefault(self._out_idx, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def detach(self):
        """A new leaf sharing this tensor's data (and version counter), outside the graph."""
        t = Tensor.__new__(Tensor)
        t.data, t.grad, t._node, t._out_idx = self.data, None, None, 0
        t._vbox, t._hooks, t.name, t._requires_grad = self._version, None, self.name, False
        return t

    def detach_(self):
        self._node = None
        self._requires_grad = False
        return self

    @property
    def _version(self):
        """The version counter box ``[n]``: in-place changes do ``t._version[0] += 1``."""
        box = self._vbox
        if box is None:
            box = self._vbox = VersionBox()
        return box

    # --- numpy interop ---------------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def numpy(self):
        """The underlying numpy array (shared, not copied). Fails if it requires grad? No: like .detach()."""
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python scalar "
                             f"(shape {tuple(self.shape)})")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    @property
    def shape(self):
        return self.data.shape

    def size(self, dim=None):
        """PyTorch-style ``size()``: the shape, or one dimension of it."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = f", dtype={self.data.dtype}"
        if self._node is not None:
            extra += f", grad_fn=<{self._node.name}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __deepcopy__(self, memo):
        t = Tensor(self.data.copy(), requires_grad=self._requires_grad and self._node is None)
        t.name = self.name
        if self.grad is not None:
            t.grad = Tensor(self.grad.data.copy())
        memo[id(self)] = t
        return t

    # --- arithmetic ------------------------------------------------------------------------------
    # binary operators are function.binary_operator(...): Function.apply unrolled for two arguments
    # (and the elementwise methods below apply_unary, for one)
    __add__ = _ADD

    def __radd__(self, other):
        return _ADD(other, self)

    __sub__ = _SUB

    def __rsub__(self, other):
        return _SUB(other, self)

    __mul__ = _MUL

    def __rmul__(self, other):
        return _MUL(other, self)

    __truediv__ = _DIV

    def __rtruediv__(self, other):
        return _DIV(other, self)

    __pow__ = _POW

    def __rpow__(self, other):
        return _POW(other, self)

    def __neg__(self):
        return _unary(E.Neg, self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return L.MatMul.apply(self, _as_operand(other))

    def __rmatmul__(self, other):
        return L.MatMul.apply(_as_operand(other), self)

    def matmul(self, other):
        return self @ other

    def dot(self, other):
        return self @ other

    # in place: really modifies this tensor's array and bumps its version counter
    def _check_view_of_leaf(self, what):
        """Refuse a recorded in-place change of a view whose memory belongs to a leaf requiring grad.

        The change would rewrite the leaf's values behind the graph's back (PyTorch refuses it too).
        """
        base = getattr(self, "_base", None)
        if base is not None and base._node is None and base._requires_grad:
            raise RuntimeError(
                f"{what}: this tensor (shape {tuple(self.shape)}) is a view of a leaf tensor that "
                f"requires grad (shape {tuple(base.shape)}); it cannot be modified in place while grad "
                "is recorded; wrap the update in autodiff.no_grad() or use an out-of-place operation")

    def _propagate_to_base(self):
        """After a recorded in-place change of this view, make its base's graph see the change.

        The base (which already holds the new values: it shares memory with the view) is rebased onto
        a ``CopySlices`` node: the base's previous graph outside the view, this view's new graph
        inside it, so gradients through the base reach the in-place op (PyTorch does the same).
        """
        base = getattr(self, "_base", None)
        if base is None:
            return
        vidx = _function.view_indices(base.data.shape, self._view_steps)
        old = Tensor._make(base.data, base._node, base._out_idx) if base._node is not None else base
        result = I.CopySlices.apply(old, self, vidx)
        base._node, base._out_idx, base._requires_grad = result._node, 0, True

    def _inplace(self, other, op, ufunc, symbol):
        other_t = isinstance(other, Tensor)
        if _grad_enabled.get() and (self._requires_grad or (other_t and other._requires_grad)):
            if self._node is None and self._requires_grad:
                raise RuntimeError(
                    f"in-place {symbol}: a leaf tensor that requires grad (shape {tuple(self.shape)}) "
                    "cannot be modified in place while grad is recorded; wrap the update in "
                    "autodiff.no_grad() or use an out-of-place operation")
            self._check_view_of_leaf(f"in-place {symbol}")
            source = Tensor._make(self.data.copy(), self._node, self._out_idx) if self._node is not None \
                else Tensor(self.data.copy())
            result = op.apply(source, other)
            if result.shape != self.shape:
                raise ValueError(f"in-place {symbol}: result shape {tuple(result.shape)} does not match "
                                 f"the tensor's shape {tuple(self.shape)}")
            np.copyto(self.data, result.data, casting="same_kind")
            self._node, self._out_idx, self._requires_grad = result._node, 0, True
            self._propagate_to_base()
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
        return self._inplace(other, E.Add, np.add, "+=")

    def __isub__(self, other):
        return self._inplace(other, E.Sub, np.subtract, "-=")

    def __imul__(self, other):
        return self._inplace(other, E.Mul, np.multiply, "*=")

    def __itruediv__(self, other):
        return self._inplace(other, E.Div, np.true_divide, "/=")

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
        key = _index_key(key)
        value_t = isinstance(value, Tensor)
        if _grad_enabled.get() and (self._requires_grad or (value_t and value._requires_grad)):
            if self._node is None and self._requires_grad:
                raise RuntimeError(
                    f"setitem: a leaf tensor that requires grad (shape {tuple(self.shape)}) cannot be "
                    "modified in place while grad is recorded; wrap it in autodiff.no_grad()")
            self._check_view_of_leaf("setitem")
            source = Tensor._make(self.data.copy(), self._node, self._out_idx) if self._node is not None \
                else Tensor(self.data.copy())
            result = I.SetItem.apply(source, value, key)
            np.copyto(self.data, result.data, casting="same_kind")
            self._node, self._out_idx, self._requires_grad = result._node, 0, True
            self._propagate_to_base()
        else:
            v = value.data if value_t else value
            try:
                self.data[key] = v
            except ValueError as e:
                raise ValueError(f"setitem: cannot assign a value of shape {tuple(np.shape(v))} into a "
                                 f"tensor of shape {tuple(self.shape)}: {e}") from None
        self._version[0] += 1

    # comparisons: plain boolean tensors, no gradient
    def _cmp(self, other, fn):
        return Tensor(fn(self.data, other.data if isinstance(other, Tensor) else other))

    def __lt__(self, o):
        return self._cmp(o, np.less)

    def __le__(self, o):
        return self._cmp(o, np.less_equal)

    def __gt__(self, o):
        return self._cmp(o, np.greater)

    def __ge__(self, o):
        return self._cmp(o, np.greater_equal)

    def __eq__(self, o):
        return self._cmp(o, np.equal)

    def __ne__(self, o):
        return self._cmp(o, np.not_equal)

    def __invert__(self):
        return Tensor(np.invert(self.data))

    def __and__(self, o):
        return self._cmp(o, np.logical_and)

    def __or__(self, o):
        return self._cmp(o, np.logical_or)

    # --- elementwise functions --------------------------------------------------------------------
    def exp(self):
        return _unary(E.Exp, self)

    def log(self):
        return _unary(E.Log, self)

    def sqrt(self):
        return _unary(E.Sqrt, self)

    def abs(self):
        return _unary(E.Abs, self)

    __abs__ = abs

    def sin(self):
        return _unary(E.Sin, self)

    def cos(self):
        return _unary(E.Cos, self)

    def tanh(self):
        return _unary(E.Tanh, self)

    def sigmoid(self):
        return _unary(E.Sigmoid, self)

    def softplus(self):
        return _unary(E.Softplus, self)

    def relu(self):
        return _unary(E.Relu, self)

    def clip(self, min=None, max=None):
        """Clamp to [min, max]; the gradient passes where the value is inside."""
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        return E.Clip.apply(self, min, max)

    clamp = clip

    def maximum(self, other):
        return E.Maximum.apply(self, other)

    def minimum(self, other):
        return E.Minimum.apply(self, other)

    def astype(self, dtype):
        """Convert to ``dtype`` (differentiable between float types)."""
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if dtype.kind not in "fc":
            return Tensor(self.data.astype(dtype))
        return E.Cast.apply(self, dtype)

    def to(self, dtype):
        return self.astype(dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def clone(self):
        return self * 1 if self._requires_grad else Tensor(self.data.copy())

    # --- reductions -------------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return R.Sum.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def mean(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return R.Mean.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def var(self, axis=None, keepdims=False, ddof=0, dim=None, keepdim=False):
        return R.Var.apply(self, _axis(axis, dim), _keep(keepdims, keepdim), ddof)

    def std(self, axis=None, keepdims=False, ddof=0, dim=None, keepdim=False):
        return self.var(axis, keepdims, ddof, dim, keepdim).sqrt()

    def max(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return R.Max.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def min(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return R.Min.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def logsumexp(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return R.LogSumExp.apply(self, _axis(axis, dim), _keep(keepdims, keepdim))

    def argmax(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return Tensor(np.argmax(self.data, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim)))

    def argmin(self, axis=None, keepdims=False, dim=None, keepdim=False):
        return Tensor(np.argmin(self.data, axis=_axis(axis, dim), keepdims=_keep(keepdims, keepdim)))

    def softmax(self, axis=-1, dim=None):
        return R.Softmax.apply(self, _axis(axis, dim))

    def log_softmax(self, axis=-1, dim=None):
        return R.LogSoftmax.apply(self, _axis(axis, dim))

    # --- shape ------------------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        shape = tuple(int(s) for s in shape)
        if shape == self.data.shape:
            return self
        return S.Reshape.apply(self, shape)

    view = reshape

    def transpose(self, *axes):
        """Permute the axes (numpy's meaning); with no argument reverse them."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return S.Transpose.apply(self, axes if axes else None)

    def permute(self, *axes):
        return self.transpose(*axes)

    @property
    def T(self):
        return S.Transpose.apply(self, None)

    def swapaxes(self, a, b):
        axes = list(range(self.ndim))
        a, b = a % self.ndim, b % self.ndim
        axes[a], axes[b] = axes[b], axes[a]
        return S.Transpose.apply(self, tuple(axes))

    def broadcast_to(self, shape):
        shape = tuple(shape)
        if shape == self.data.shape:
            return self
        return S.BroadcastTo.apply(self, shape)

    def expand(self, *sizes):
        """PyTorch's expand: -1 keeps a dimension; new leading dimensions may be added."""
        sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {len(sizes)} sizes given for a tensor of shape {tuple(self.shape)}")
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return self.broadcast_to(shape)

    def expand_as(self, other):
        return self.broadcast_to(other.shape)

    def squeeze(self, axis=None, dim=None):
        axis = _axis(axis, dim)
        if axis is None:
            shape = tuple(s for s in self.shape if s != 1)
        else:
            axes = R.normalize_axis(axis, self.ndim, "squeeze")
            shape = tuple(s for i, s in enumerate(self.shape) if not (i in axes and s == 1))
        return self.reshape(shape)

    def unsqueeze(self, axis=None, dim=None):
        axis = _axis(axis, dim)
        nd = self.ndim + 1
        if not -nd <= axis < nd:
            raise ValueError(f"unsqueeze: axis {axis} out of range for a result with {nd} dimensions")
        axis %= nd
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dimensions start_dim..end_dim (all by default, as numpy's flatten)."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
        return self.reshape(shape)

    def ravel(self):
        return self.reshape(-1)

    def pad(self, pad_width, value=0.0):
        return S.Pad.apply(self, pad_width, value)

    def split(self, split_size_or_sections, axis=0, dim=None):
        return split(self, split_size_or_sections, axis=_axis(axis, dim))

    def chunk(self, chunks, axis=0, dim=None):
        axis = _axis(axis, dim)
        n = self.shape[axis]
        return split(self, -(-n // chunks), axis=axis)

    def __getitem__(self, key):
        return I.GetItem.apply(self, _index_key(key))


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _index_key(key):
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, list):
        return np.asarray([k.data if isinstance(k, Tensor) else k for k in key])
    if isinstance(key, tuple):
        return tuple(k.data if isinstance(k, Tensor) else (np.asarray(k) if isinstance(k, list) else k)
                     for k in key)
    return key


def _as_operand(x):
    return x if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x, dtype=np.float32) \
        if isinstance(x, (list, tuple)) else x


# --- functions that numpy also has -----------------------------------------------------------------
def where(condition, x, y):
    """Elements of x where condition holds, else of y (differentiable in x and y)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    return E.Where.apply(cond, x, y)


def maximum(a, b):
    return E.Maximum.apply(a, b) if isinstance(a, Tensor) or isinstance(b, Tensor) else Tensor(np.maximum(a, b))


def minimum(a, b):
    return E.Minimum.apply(a, b) if isinstance(a, Tensor) or isinstance(b, Tensor) else Tensor(np.minimum(a, b))


def concatenate(tensors, axis=0, dim=None):
    """Join tensors along an existing axis."""
    return S.Concatenate.apply(_axis(axis, dim), *tensors)


cat = concatenate


def stack(tensors, axis=0, dim=None):
    """Join tensors along a new axis."""
    return S.Stack.apply(_axis(axis, dim), *tensors)


def split(x, split_size_or_sections, axis=0, dim=None):
    """PyTorch's split: pieces of ``split_size`` (the last may be smaller) or of the given sizes."""
    axis = _axis(axis, dim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the length of axis {axis} "
                             f"of a tensor of shape {tuple(x.shape)}")
    lead = (slice(None),) * (axis % x.ndim)
    out, start = [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Returns a tuple with one Tensor per input (None for an unused input when ``allow_unused``).
    """
    single_in = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single_in else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    gos = []
    for o, g in zip(outputs, grad_outputs):
        if g is None:
            if o.data.size != 1:
                raise RuntimeError(f"grad: grad can be implicitly created only for scalar outputs "
                                   f"(got shape {tuple(o.shape)}); pass grad_outputs")
            g = np.ones_like(o.data)
        if create_graph:
            g = g if isinstance(g, Tensor) else Tensor(g)
        else:
            g = g.data if isinstance(g, Tensor) else np.asarray(g, dtype=o.data.dtype)
        gos.append(g)
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: one of the inputs (shape {tuple(t.shape)}) does not require grad")
    res = run_backward(outputs, gos, retain_graph, create_graph, inputs=inputs)
    out = []
    for t, g in zip(inputs, res):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad: one of the inputs (shape {tuple(t.shape)}) was not used to "
                                   "compute the outputs; pass allow_unused=True to get None for it")
            out.append(None)
        else:
            out.append(g if isinstance(g, Tensor) else Tensor(np.asarray(g, dtype=t.dtype)))
    return tuple(out)


from . import backward as _backward_module  # noqa: E402
from . import function as _function  # noqa: E402

_function.Tensor = Tensor
_function.connect_fastop(Tensor)
_backward_module.Tensor = Tensor
