"""Shape ops (reshape, transpose, broadcast, pad, concatenate, stack), indexing and matmul."""
import numpy as np

from autodiff.ops import index as index_ops
from autodiff.ops import linalg
from autodiff.ops import shape as shape_ops

from ..convert import converts_named

_BIG = np.iinfo(np.int64).max
_SMALL = np.iinfo(np.int64).min


@converts_named(shape_ops, "Reshape")
def _reshape(c):
    return c.reshape(c.x(0), c.dims(0), c.out_dims())


@converts_named(shape_ops, "Transpose")
def _transpose(c):
    rank = c.rank(0)
    axes = c.value(1)
    perm = list(range(rank))[::-1] if axes is None else [int(a) % max(rank, 1) for a in axes]
    if perm == list(range(rank)):
        return c.g.op("Identity", c.x(0))
    return c.g.op("Transpose", c.x(0), perm=perm)


@converts_named(shape_ops, "BroadcastTo")
def _broadcast_to(c):
    return c.g.op("Expand", c.x(0), c.shape_tensor(c.out_dims(), keep_from=c.dims(0)))


@converts_named(shape_ops, "Pad")
def _pad(c):
    g = c.g
    rank = c.rank(0)
    width = np.broadcast_to(np.asarray(c.value(1), dtype=np.int64), (rank, 2)) if rank else np.zeros((0, 2))
    value = c.value(2) if len(c.args) > 2 else c.kwargs.get("value", 0.0)
    pads = [int(p) for p in width[:, 0]] + [int(p) for p in width[:, 1]]
    return g.op("Pad", c.x(0), g.ints(pads), g.scalar(value, c.out_dtype()), mode="constant")


def _joined(c):
    dtype = c.out_dtype()
    return [c.x(j, dtype) for j in range(1, len(c.args))]


@converts_named(shape_ops, "Concatenate")
def _concatenate(c):
    parts = _joined(c)
    if len(parts) == 1:
        return c.g.op("Identity", parts[0])
    return c.g.op("Concat", *parts, axis=int(c.saved.axis))


@converts_named(shape_ops, "Stack")
def _stack(c):
    axis = int(c.saved.axis)
    parts = [c.g.unsqueeze(p, [axis]) for p in _joined(c)]
    if len(parts) == 1:
        return c.g.op("Identity", parts[0])
    return c.g.op("Concat", *parts, axis=axis)


@converts_named(linalg, "MatMul")
def _matmul(c):
    dtype = c.out_dtype()
    return c.g.op("MatMul", c.x(0, dtype), c.x(1, dtype))


# --- indexing ----------------------------------------------------------------------------------------
def _expand_key(c, key, rank):
    """numpy's key as a list with the Ellipsis expanded and one entry per input axis (plus Nones)."""
    parts = list(key) if isinstance(key, tuple) else [key]
    used = sum(1 for k in parts if k is not None and k is not Ellipsis and not _is_mask(k))
    used += sum(np.ndim(k) for k in parts if _is_mask(k))
    if sum(1 for k in parts if k is Ellipsis) > 1:
        c.fail("an index can have only one Ellipsis")
    if Ellipsis in [k if k is Ellipsis else None for k in parts]:
        i = [k is Ellipsis for k in parts].index(True)
        parts[i:i + 1] = [slice(None)] * (rank - used)
    else:
        parts += [slice(None)] * (rank - used)
    return parts


def _is_mask(k):
    return isinstance(k, np.ndarray) and k.dtype == np.bool_


@converts_named(index_ops, "GetItem")
def _getitem(c):
    """Basic indexing as one Slice (+ Squeeze for ints, Unsqueeze for None); one index array as Gather."""
    g = c.g
    rank = c.rank(0)
    key = c.value(1)
    parts = _expand_key(c, key, rank)
    arrays = [k for k in parts if isinstance(k, (np.ndarray, list))]
    lead = len(arrays)
    if lead > 1 and all(isinstance(k, (np.ndarray, list)) for k in parts[:lead]) and \
            all(isinstance(k, slice) and k == slice(None) for k in parts[lead:]):
        # leading index arrays (e.g. a gather written as indexing): GatherND on their broadcast stack
        idx = np.stack(np.broadcast_arrays(*[np.asarray(k, np.int64) for k in parts[:lead]]), axis=-1)
        return g.op("GatherND", c.x(0), g.const(idx, hint="index"))
    if len(arrays) > 1 or (arrays and any(isinstance(k, (int, np.integer)) for k in parts)):
        c.fail(f"indexing with {key!r}: only one index array (and no integer index beside it) has an ONNX form")
    starts, ends, axes, steps, squeeze, gathers, new_axes = [], [], [], [], [], [], []
    axis = out_axis = 0
    for k in parts:
        if k is None:
            new_axes.append(out_axis)
            out_axis += 1
            continue
        if isinstance(k, slice):
            start, stop, step = k.start, k.stop, 1 if k.step is None else int(k.step)
            if (start, stop, step) != (None, None, 1):
                neg = step < 0
                starts.append((_BIG if neg else 0) if start is None else int(start))
                ends.append((_SMALL if neg else _BIG) if stop is None else int(stop))
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        elif isinstance(k, (int, np.integer)):
            k = int(k)
            starts.append(k)
            ends.append(k + 1 if k != -1 else _BIG)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        else:
            idx = np.asarray(k)
            if idx.dtype == np.bool_:
                if idx.ndim != 1:
                    c.fail(f"indexing with a {idx.ndim}-d boolean mask has no ONNX form (its result's shape "
                           f"depends on the values)")
                idx = np.nonzero(idx)[0]
            gathers.append((axis, idx.astype(np.int64), out_axis))
            out_axis += idx.ndim
        axis += 1
    x = c.x(0)
    if axes:
        x = g.op("Slice", x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps))
    for a, idx, _ in gathers:
        kept = a - sum(1 for s in squeeze if s < a)
        x = g.op("Gather", x, g.const(idx, hint="index"), axis=kept)
    if squeeze:
        x = g.squeeze(x, squeeze)
    if new_axes:
        x = g.unsqueeze(x, new_axes)
    if x == c.x(0):
        x = g.op("Identity", x)
    return x


try:
    from autodiff.ops import hooks
except ImportError:  # pragma: no cover - engine without backward hooks
    hooks = None

if hooks is not None:
    @converts_named(hooks, "GradCallback")
    def _grad_callback(c):
        """Identity in the forward pass (the op only matters for gradients)."""
        outs = tuple(c.g.op("Identity", c.x(j)) for j in range(len(c.args)))
        return outs if len(outs) > 1 else outs[0]


def _scatter_flat(c, data, shape, positions, updates):
    """``data`` (of static ``shape``) with the flat ``positions`` set to ``updates`` (ScatterElements)."""
    g = c.g
    flat = g.op("Reshape", data, g.ints([-1]))
    values = g.op("Reshape", updates, g.ints([-1]))
    out = g.op("ScatterElements", flat, g.const(positions.reshape(-1).astype(np.int64), hint="positions"),
               values, axis=0)
    return g.op("Reshape", out, g.ints(shape))


def _static(c, j, what):
    dims = c.dims(j)
    if any(not isinstance(d, int) for d in dims):
        c.fail(f"{what} on a tensor whose shape follows a dynamic axis has no ONNX form here; use "
               f"out-of-place ops (autodiff.where, concatenation)")
    return [int(d) for d in dims]


@converts_named(index_ops, "SetItem")
def _setitem(c):
    """a with a[key] = v: the key's flat positions (from an arange) scattered with v broadcast to them."""
    shape = _static(c, 0, "assigning into a slice")
    positions = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[c.value(2)]
    dtype = c.out_dtype()
    v = c.g.op("Expand", c.x(1, dtype), c.g.ints(positions.shape))
    return _scatter_flat(c, c.x(0, dtype), shape, positions, v)


@converts_named(index_ops, "CopySlices")
def _copyslices(c):
    """The base of a view changed in place: its old values, with the view's new values at ``vidx``."""
    shape = _static(c, 0, "changing a view in place")
    dtype = c.out_dtype()
    return _scatter_flat(c, c.x(0, dtype), shape, np.asarray(c.value(2)), c.x(1, dtype))
