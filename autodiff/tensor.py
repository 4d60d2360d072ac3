"""Tensor: a numpy array, its gradient and its link into the graph.

The operators and methods come from the mixins in ``autodiff/methods/``; each is a thin call into an
op's ``Function.apply`` (``x * y`` is ``Mul.apply(x, y)``), the one recorder in ``function.py``.
"""
import weakref

import numpy as np

from . import backward
from .function import track
from .graph import VersionBox
from .ops.promotion import get_default_dtype
from .methods.arithmetic import ArithmeticMethods
from .methods.diagonals import DiagonalMethods
from .methods.indexing import IndexingMethods
from .methods.inplace import InplaceMethods
from .methods.math import MathMethods
from .methods.pieces import PieceMethods
from .methods.products import ProductMethods
from .methods.reductions import ReductionMethods
from .methods.shapes import ShapeMethods

__all__ = ["Tensor", "to_array"]


def to_array(data, dtype=None):
    """numpy array for ``data``: ndarrays keep their dtype, Python floats get the default float dtype.

    Raises TypeError for data that is not numeric (strings, objects), as ``torch.tensor`` does.
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        arr = data if dtype is None else data.astype(dtype, copy=False)
    elif isinstance(data, np.generic):
        arr = np.asarray(data, dtype=dtype)
    else:
        if isinstance(data, (list, tuple)):
            data = _unwrap_nested(data)
        try:
            arr = np.asarray(data)
        except ValueError as e:  # ragged nesting
            raise TypeError(f"tensor: cannot build a tensor from this data: {e}") from None
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"tensor: data must be numbers or booleans, got {_describe(data)} "
                            f"(numpy dtype {arr.dtype})")
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        elif arr.dtype == np.float64:  # Python floats: the default float dtype (float32 unless set)
            arr = arr.astype(get_default_dtype())
        elif arr.dtype.kind in "iu" and arr.dtype != np.int64:
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"tensor: data must be numbers or booleans, got an array of dtype {arr.dtype}")
    return arr


def _describe(data):
    text = repr(data)
    return text if len(text) <= 40 else text[:37] + "..."


def _unwrap_nested(x):
    if isinstance(x, (list, tuple)):
        return [_unwrap_nested(v) for v in x]
    if isinstance(x, Tensor):
        return x.data
    return x


class Tensor(ArithmeticMethods, MathMethods, ReductionMethods, ShapeMethods, PieceMethods, DiagonalMethods,
             ProductMethods, IndexingMethods, InplaceMethods):
    """An n-d array that records the operations made on it, for reverse-mode differentiation.

    Args:
        data: array-like. A float ndarray keeps its dtype; Python floats become float32, Python ints
            int64, as PyTorch does; integer and bool arrays stay as they are.
        requires_grad: record operations on this tensor so ``backward`` fills its ``.grad``.
        dtype: optional numpy dtype to convert to.
        name: optional label shown in pictures of the graph.
    """

    # _node/_out_idx: the op output this tensor is (None for a leaf). _vbox: the version counter
    # (graph.VersionBox, shared with detached copies and with views), created on first use: see
    # _version. _base: for a view, the tensor whose memory it shares, and _view_steps the ops from it
    # to the view (both set on views only: read with getattr).
    __slots__ = ("data", "grad", "_requires_grad", "_node", "_out_idx", "_vbox", "_hooks", "name", "_base",
                 "_view_steps", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None  # make ndarray <op> Tensor return NotImplemented, so Tensor's reflected op runs

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self._init(to_array(data, dtype), None, 0, False, None)
        self.name = name
        if requires_grad:
            self.requires_grad = True

    def _init(self, data, node, idx, requires_grad, version):
        """The one place a Tensor's slots are set (``__init__`` and ``_make`` both come here)."""
        self.data = data
        self.grad = None
        self._node = node
        self._out_idx = idx
        self._requires_grad = requires_grad
        self._vbox = version
        self._hooks = None
        self.name = None

    @classmethod
    def _make(cls, data, node=None, idx=0, requires_grad=False, version=None):
        """A tensor around an op's output array (no conversion), pointing at its node if any."""
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        t = object.__new__(cls)
        t._init(data, node, idx, requires_grad, version)
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
            inputs: accumulate only into the ``.grad`` of these tensors.
        """
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs; this tensor "
                    f"has shape {tuple(self.shape)}. Pass gradient= (a tensor of that shape).")
            gradient = np.ones_like(self.data)
        elif not (create_graph and isinstance(gradient, Tensor)):
            gradient = to_array(gradient).astype(self.data.dtype, copy=False)  # shape checked by run_backward
        if create_graph and not isinstance(gradient, Tensor):
            gradient = Tensor(gradient)
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is None:
            backward.run_backward([self], [gradient], retain_graph, create_graph)
            return
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = backward.run_backward([self], [gradient], retain_graph, create_graph, inputs=inputs)
        for t, g in zip(inputs, grads):
            if g is not None:
                backward.set_grad(t, g, create_graph)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        node = self._node
        if node is None:
            return
        if node.retained is None:
            node.retained = {}
            track(node)
        node.retained[self._out_idx] = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle with ``remove()``.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require grad")
        node = self._node
        if node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if node.tensor_hooks is None:
                node.tensor_hooks = {}
                track(node)  # a hook may refer to this tensor: tensor -> node -> hook -> tensor
            hooks = node.tensor_hooks.setdefault(self._out_idx, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def detach(self):
        """A new leaf sharing this tensor's data (and version counter), outside the graph."""
        t = Tensor._make(self.data, version=self._version)
        t.name = self.name
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
            box = self._vbox = VersionBox((0,))
            box.epoch = 0
        return box

    # --- numpy interop and Python protocols -------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def numpy(self):
        """The underlying numpy array (shared, not copied)."""
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

    nelement = numel

    def ndimension(self):
        return self.data.ndim

    def stride(self, dim=None):
        """Steps between neighbouring elements along each dim, in elements (PyTorch's ``stride``)."""
        steps = tuple(s // self.data.itemsize for s in self.data.strides)
        return steps if dim is None else steps[dim]

    @property
    def nbytes(self):
        return self.data.nbytes

    def cpu(self):
        """This tensor: every tensor lives in host memory here."""
        return self

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

    __hash__ = ArithmeticMethods.__hash__  # defining __eq__ would otherwise drop it

    def __deepcopy__(self, memo):
        t = Tensor(self.data.copy(), requires_grad=self._requires_grad and self._node is None)
        t.name = self.name
        if self.grad is not None:
            t.grad = Tensor(self.grad.data.copy())
        memo[id(self)] = t
        return t


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
