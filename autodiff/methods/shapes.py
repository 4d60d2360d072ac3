"""Tensor's shape ops and indexing, with PyTorch's meanings: each one calls an op's ``apply`` (or is a
short composition of such calls: ``flip`` is a reversed slice, ``repeat`` an expand and a reshape)."""
import numpy as np

from .. import grad_mode
from .. import tensor as tensors  # the Tensor class, read at call time (tensor.py imports this module)
from ..ops import index
from ..ops import shape as shape_ops
from ..ops.dims import ShapeError, wrap_dim, wrap_dims
from .pieces import split  # noqa: F401  (split: function_forms imports it from here)


def _axis(axis, dim):
    return axis if dim is None else dim


def index_key(key, shape=None):
    """An indexing key with Tensors, lists and other array-likes (a numpy-convertible array of another
    library) turned into numpy arrays; given the indexed tensor's ``shape``, also rewritten so the
    indexed dims land where PyTorch puts them (``index.torch_key``)."""
    Tensor = tensors.Tensor
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, list):
        return np.asarray([k.data if isinstance(k, Tensor) else k for k in key])
    if not isinstance(key, tuple):
        return _foreign_array(key)
    parts = []
    arrays = False
    for k in key:
        if isinstance(k, Tensor):
            k = k.data
        elif isinstance(k, list):
            k = np.asarray(k)
        else:
            k = _foreign_array(k)
        if isinstance(k, np.ndarray):
            arrays = True
        parts.append(k)
    key = tuple(parts)
    if arrays and shape is not None:  # only a key with arrays can need torch's placement
        key = index.torch_key(key, shape)
    return key


def _foreign_array(k):
    """An array of another library (anything with ``__array__`` that numpy does not index by itself)."""
    if hasattr(k, "__array__") and not isinstance(k, (np.ndarray, np.generic)):
        return np.asarray(k)
    return k


def _sizes(args):
    """``f(2, 3)`` and ``f((2, 3))`` alike."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


def _is_dtype(x):
    return isinstance(x, (str, type, np.dtype)) and not isinstance(x, (int, np.integer))


class ShapeMethods:
    """reshape/view, transpose/permute/movedim, expand, squeeze/unsqueeze, flatten/unflatten, flip/roll/
    rot90, repeat/tile/repeat_interleave, new_* constructors and ``t[key]``. The pieces (split, chunk,
    unfold ...), the diagonals (diagonal, tril ...) and the products (mm, bmm, kron ...) come from the
    mixins ``PieceMethods``, ``DiagonalMethods`` and ``ProductMethods``."""

    __slots__ = ()

    # --- same elements, another shape ------------------------------------------------------------
    def reshape(self, *sizes, shape=None):
        size = tuple(int(s) for s in _sizes(sizes if shape is None else (shape,)))
        if size == self.data.shape:
            return self
        return shape_ops.Reshape.apply(self, size)

    def view(self, *sizes):
        """``view(shape)`` as reshape; ``view(dtype)`` reinterprets the bytes (no gradient)."""
        if len(sizes) == 1 and _is_dtype(sizes[0]):
            return tensors.Tensor._make(self.data.view(np.dtype(sizes[0])))
        return self.reshape(*sizes)

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    def contiguous(self, memory_format=None):
        """The tensor itself: numpy copies strided data where an op needs it."""
        return self

    def is_contiguous(self, memory_format=None):
        return bool(self.data.flags.c_contiguous)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dimensions start_dim..end_dim (all by default); a 0-d tensor becomes 1-d."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = wrap_dim(start_dim, self.ndim, "flatten"), wrap_dim(end_dim, self.ndim, "flatten")
        if s > e:
            raise ShapeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
        return self.reshape(self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:])

    def unflatten(self, dim, sizes):
        """Split dimension ``dim`` into ``sizes`` (one of them may be -1)."""
        d = wrap_dim(dim, self.ndim, "unflatten")
        sizes = tuple(int(s) for s in sizes)
        known = int(np.prod([s for s in sizes if s != -1]))
        if -1 in sizes:
            sizes = tuple(self.shape[d] // max(known, 1) if s == -1 else s for s in sizes)
        if int(np.prod(sizes)) != self.shape[d]:
            raise ShapeError(f"unflatten: sizes {sizes} don't multiply up to the size of dim {dim} "
                             f"({self.shape[d]}) of a tensor of shape {tuple(self.shape)}")
        return self.reshape(self.shape[:d] + sizes + self.shape[d + 1:])

    def ravel(self):
        return self.reshape(-1)

    def squeeze(self, axis=None, dim=None):
        """Drop size-1 dims: all, or those among ``dim`` (an int or a tuple)."""
        axis = _axis(axis, dim)
        if axis is None:
            size = tuple(s for s in self.shape if s != 1)
        else:
            axes = wrap_dims(axis, self.ndim, "squeeze")
            size = tuple(s for i, s in enumerate(self.shape) if not (i in axes and s == 1))
        return self.reshape(size)

    def unsqueeze(self, axis=None, dim=None):
        axis = wrap_dim(_axis(axis, dim), self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    # --- permutations of the dims ----------------------------------------------------------------
    def transpose(self, *dims, dim0=None, dim1=None):
        """PyTorch's ``transpose(dim0, dim1)``: swap two dims.

        For numpy-style code, no argument reverses the dims, and a full permutation (a tuple, or three
        or more ints) permutes them as ``permute`` does. Exactly two ints always mean a swap.
        """
        if dim0 is not None or dim1 is not None:
            dims = (dim0, dim1)
        if len(dims) == 2 and all(isinstance(d, (int, np.integer)) for d in dims):
            return self.swapdims(*dims)
        if not dims:
            return shape_ops.Transpose.apply(self, None)
        return self.permute(*dims)

    def permute(self, *dims, **kwargs):
        """Reorder the dims: output dim i is input dim ``dims[i]`` (``dims=`` as a keyword too)."""
        dims = _sizes(dims if "dims" not in kwargs else (kwargs.pop("dims"),))
        if kwargs:
            raise TypeError(f"permute: unexpected keyword arguments {sorted(kwargs)}")
        if len(dims) != self.ndim:
            raise ShapeError(f"permute: number of dims don't match: the tensor has shape {tuple(self.shape)} "
                             f"({self.ndim} dims) but {len(dims)} dims were given: {dims}")
        return shape_ops.Transpose.apply(self, wrap_dims(dims, self.ndim, "permute"))

    def swapdims(self, dim0, dim1):
        """Swap two dims (PyTorch's ``transpose(dim0, dim1)``)."""
        a, b = wrap_dim(dim0, self.ndim, "transpose"), wrap_dim(dim1, self.ndim, "transpose")
        if a == b or self.ndim < 2:
            return self
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return shape_ops.Transpose.apply(self, tuple(axes))

    def swapaxes(self, axis0, axis1):
        """Swap two dims (numpy's and torch's name for ``swapdims``)."""
        return self.swapdims(axis0, axis1)

    def t(self):
        """Transpose of a matrix; 0-d and 1-d tensors come back as they are."""
        if self.ndim > 2:
            raise ShapeError(f"t: expects a tensor with <= 2 dimensions, but self is {self.ndim}D "
                             f"(shape {tuple(self.shape)})")
        return self.swapdims(0, 1) if self.ndim == 2 else self

    @property
    def T(self):
        return shape_ops.Transpose.apply(self, None)

    @property
    def mT(self):
        """The last two dims swapped (a batch of matrices transposed)."""
        if self.ndim < 2:
            raise ShapeError(f"mT: tensor of shape {tuple(self.shape)} must have at least 2 dimensions")
        return self.swapdims(-2, -1)

    mH = mT

    def movedim(self, source, destination):
        """Move dims ``source`` (int or sequence) to positions ``destination``; the rest keep their order."""
        src = wrap_dims(source, self.ndim, "movedim")
        dst = wrap_dims(destination, self.ndim, "movedim")
        if len(src) != len(dst):
            raise ShapeError(f"movedim: Invalid source or destination dims: source ({source} dims) should "
                             f"contain the same number of dims as destination ({destination} dims)")
        if self.ndim == 0:
            return self
        order = [d for d in range(self.ndim) if d not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return shape_ops.Transpose.apply(self, tuple(order))

    moveaxis = movedim

    # --- broadcasting ----------------------------------------------------------------------------
    def broadcast_to(self, size):
        size = tuple(size)
        if size == self.data.shape:
            return self
        return shape_ops.BroadcastTo.apply(self, size)

    def expand(self, *sizes):
        """PyTorch's expand: -1 keeps a dimension; new leading dimensions may be added."""
        sizes = _sizes(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ShapeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                             f"to the number of dimensions in the tensor ({self.ndim}), shape {tuple(self.shape)}")
        if any(s == -1 for s in sizes[:lead]):
            raise ShapeError(f"expand: -1 is not allowed in a leading, non-existing dimension (sizes {sizes})")
        target = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        if any(n != 1 and n != s for n, s in zip(self.shape, target[lead:])):
            raise ShapeError(f"expand: the expanded size {target} must match the existing size {tuple(self.shape)} "
                             "at every non-singleton dimension")
        return self.broadcast_to(target)

    def expand_as(self, other):
        return self.broadcast_to(other.shape)

    def pad(self, pad_width, value=0.0):
        return shape_ops.Pad.apply(self, pad_width, value)

    # --- reversing, rolling, repeating -----------------------------------------------------------
    def flip(self, *dims, **kwargs):
        """Reverse the order of elements along ``dims`` (``dims=`` as a keyword too)."""
        if "dims" in kwargs:
            dims = (kwargs.pop("dims"),)
        if kwargs:
            raise TypeError(f"flip: unexpected keyword arguments {sorted(kwargs)}")
        dims = wrap_dims(_sizes(dims), self.ndim, "flip")
        if not dims or self.ndim == 0:
            return self[...]
        return self[tuple(slice(None, None, -1) if d in dims else slice(None) for d in range(self.ndim))]

    def fliplr(self):
        if self.ndim < 2:
            raise ShapeError(f"fliplr: input must be >= 2-d, got shape {tuple(self.shape)}")
        return self.flip(1)

    def flipud(self):
        if self.ndim < 1:
            raise ShapeError("flipud: input must be >= 1-d")
        return self.flip(0)

    def roll(self, shifts, dims=None):
        """Shift elements cyclically along ``dims`` (the flattened tensor when dims is None)."""
        if dims is None:
            if isinstance(shifts, (tuple, list)) and len(shifts) != 1:
                raise ShapeError(f"roll: shifts {shifts} must have one value when dims is not given")
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
        dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        if len(shifts) != len(dims):
            raise ShapeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        out = self
        for s, d in zip(shifts, dims):
            d = wrap_dim(d, self.ndim, "roll")
            n = self.shape[d]
            s = int(s) % n if n else 0
            if s:
                lead = (slice(None),) * d
                out = shape_ops.Concatenate.apply(d, out[lead + (slice(n - s, None),)], out[lead + (slice(0, n - s),)])
        return out

    def rot90(self, k=1, dims=(0, 1)):
        """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first towards the second."""
        if len(dims) != 2:
            raise ShapeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
        d0, d1 = wrap_dim(dims[0], self.ndim, "rot90"), wrap_dim(dims[1], self.ndim, "rot90")
        if d0 == d1 or self.ndim < 2:
            raise ShapeError(f"rot90: expected distinct rotation dims and a >= 2-d tensor, got dims {dims} "
                             f"for shape {tuple(self.shape)}")
        k %= 4
        if k == 1:
            return self.flip(d1).swapdims(d0, d1)
        if k == 2:
            return self.flip(d0, d1)
        if k == 3:
            return self.flip(d0).swapdims(d0, d1)
        return self[...]

    def repeat(self, *sizes):
        """Tile the tensor ``sizes[i]`` times along dim i (extra leading sizes add dims)."""
        sizes = tuple(int(s) for s in _sizes(sizes))
        if len(sizes) < self.ndim:
            raise ShapeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the number "
                             f"of dimensions of the tensor ({self.ndim}, shape {tuple(self.shape)})")
        src = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
        spread = tuple(x for s in src for x in (1, s))
        full = tuple(x for r, s in zip(sizes, src) for x in (r, s))
        return self.reshape(spread).broadcast_to(full).reshape(tuple(r * s for r, s in zip(sizes, src)))

    def tile(self, *dims, **kwargs):
        """``repeat`` with fewer sizes than dims allowed (missing leading sizes are 1)."""
        dims = _sizes(dims if "dims" not in kwargs else (kwargs.pop("dims"),))
        return self.repeat((1,) * (self.ndim - len(dims)) + tuple(dims))

    def repeat_interleave(self, repeats, dim=None, output_size=None):
        """Repeat each element ``repeats`` times (an int or one count per element) along ``dim``."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else wrap_dim(dim, self.ndim, "repeat_interleave")
        reps = repeats.data if isinstance(repeats, tensors.Tensor) else np.asarray(repeats)
        n = x.shape[d] if x.ndim else 1
        if reps.ndim > 1 or (reps.ndim == 1 and reps.size not in (1, n)):
            raise ShapeError(f"repeat_interleave: repeats must have the same size as input along dim {dim}: "
                             f"{reps.size} repeats for size {n}")
        if (reps < 0).any():
            raise ShapeError("repeat_interleave: repeats can not be negative")
        idx = np.repeat(np.arange(n), np.broadcast_to(reps.reshape(-1), (n,)))
        return x.index_select(d, idx)

    # --- the same, in place: the tensor takes the new shape (and the new graph node) ---------------
    def _restride(self, what, result):
        if self._requires_grad and self._node is None and grad_mode.is_grad_enabled():
            raise RuntimeError(f"{what}: a leaf Variable that requires grad is being used in an in-place "
                               f"operation (shape {tuple(self.shape)}); use the out-of-place {what[:-1]}")
        self.data, self._node, self._out_idx = result.data, result._node, result._out_idx
        if getattr(result, "_base", None) is not None and result._base is not self:
            self._base, self._view_steps = result._base, result._view_steps
        return self

    def t_(self):
        return self._restride("t_", self.t())

    def transpose_(self, dim0, dim1):
        return self._restride("transpose_", self.swapdims(dim0, dim1))

    def swapdims_(self, dim0, dim1):
        return self._restride("swapdims_", self.swapdims(dim0, dim1))

    def swapaxes_(self, axis0, axis1):
        return self._restride("swapaxes_", self.swapdims(axis0, axis1))

    def squeeze_(self, dim=None):
        return self._restride("squeeze_", self.squeeze(dim=dim))

    def unsqueeze_(self, dim):
        return self._restride("unsqueeze_", self.unsqueeze(dim))

    # --- new tensors like this one ---------------------------------------------------------------
    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return self.new_full(_sizes(size), 0, dtype=dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return self.new_full(_sizes(size), 1, dtype=dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        return self.new_full(_sizes(size), 0, dtype=dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        data = np.full(tuple(size), fill_value, dtype=self.data.dtype if dtype is None else np.dtype(dtype))
        return tensors.Tensor(data, requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        """A new leaf with ``data`` (copied), in this tensor's dtype unless ``dtype`` says otherwise."""
        data = np.array(data.data if isinstance(data, tensors.Tensor) else data,
                        dtype=self.data.dtype if dtype is None else np.dtype(dtype))
        return tensors.Tensor(data, requires_grad=requires_grad)

    def __getitem__(self, key):
        return index.GetItem.apply(self, index_key(key, self.data.shape))
