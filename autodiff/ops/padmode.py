"""Non-constant padding: 'reflect', 'replicate' and 'circular' (PyTorch's names), differentiable twice.

Forward is ``np.pad`` with numpy's mode names (reflect -> ``"reflect"``, replicate -> ``"edge"``,
circular -> ``"wrap"``). Every output element is a copy of one input element, so the gradient of an input
element is the sum of the output gradients of the positions that copied it. Per axis,
``np.pad(np.arange(n), (before, after), mode)`` names the source of each output position; the backward
("fold") keeps the inner slice and adds the border slices back with ``np.add.at``, axis by axis.

Fold is the adjoint of padding and padding the adjoint of fold, so the backward is itself a small
Function (:class:`PadModeFold`) whose backward is the forward padding: gradients of gradients work.
"""
import numpy as np

from ..function import Function
from .array_or_tensor import _is_tensor

__all__ = ["PadMode", "PadModeFold", "pad_mode", "pad", "NUMPY_MODES"]

#: PyTorch mode name -> numpy mode name.
NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def check_pad_mode(name, shape, pad_width, mode):
    """Raise a ValueError naming ``name`` if ``mode`` padding by ``pad_width`` is not defined for ``shape``.

    ``pad_width`` is ``((before, after), ...)``, one pair per axis of ``shape``. As PyTorch: reflect needs
    every pad < the axis size, circular every pad <= the size, replicate a non-empty axis where it pads.
    """
    if mode not in NUMPY_MODES:
        raise ValueError(f"{name}: padding mode must be one of {tuple(NUMPY_MODES)}, got {mode!r}")
    if len(pad_width) != len(shape):
        raise ValueError(f"{name}: pad width {tuple(pad_width)} needs one (before, after) pair per axis of "
                         f"the input {tuple(shape)}")
    for ax, ((lo, hi), n) in enumerate(zip(pad_width, shape)):
        if lo < 0 or hi < 0:
            raise ValueError(f"{name}: {mode} padding must be non-negative, got {(lo, hi)} on axis {ax} "
                             f"(input {tuple(shape)})")
        if not (lo or hi):
            continue
        if mode == "reflect" and max(lo, hi) >= n:
            raise ValueError(f"{name}: reflect padding {(lo, hi)} on axis {ax} must be smaller than that "
                             f"axis' size {n} (input {tuple(shape)})")
        if mode == "circular" and max(lo, hi) > n:
            raise ValueError(f"{name}: circular padding {(lo, hi)} on axis {ax} must not exceed that axis' "
                             f"size {n} (input {tuple(shape)})")
        if n == 0:
            raise ValueError(f"{name}: {mode} padding {(lo, hi)} on axis {ax} of an empty axis "
                             f"(input {tuple(shape)})")


def _pad_array(a, pad_width, mode):
    return np.pad(a, pad_width, mode=NUMPY_MODES[mode])


def _fold_array(g, pad_width, mode, shape):
    """Sum the gradient ``g`` of a padded array back onto ``shape`` (adjoint of ``_pad_array``)."""
    for ax, ((lo, hi), n) in enumerate(zip(pad_width, shape)):
        if not (lo or hi):
            continue
        src = np.pad(np.arange(n), (lo, hi), mode=NUMPY_MODES[mode])
        lead = (slice(None),) * ax
        out = g[lead + (slice(lo, lo + n),)].copy()
        border = np.concatenate([src[:lo], src[lo + n:]])
        g_border = np.concatenate([g[lead + (slice(0, lo),)], g[lead + (slice(lo + n, None),)]], axis=ax)
        np.add.at(out, lead + (border,), g_border)
        g = out
    return g


class PadMode(Function):
    """``np.pad`` in mode reflect / replicate / circular; ``pad_width`` is ``((before, after), ...)`` per axis.

    Shape:
        ``(n_0, ..., n_k) -> (n_0 + b_0 + a_0, ..., n_k + b_k + a_k)``.
    """
    name = "pad_mode"

    @staticmethod
    def forward(ctx, a, pad_width, mode):
        ctx.pad_width, ctx.mode, ctx.shape = pad_width, mode, a.shape
        return _pad_array(a, pad_width, mode)

    @staticmethod
    def backward(ctx, g):
        if _is_tensor(g):
            return PadModeFold.apply(g, ctx.pad_width, ctx.mode, ctx.shape), None, None
        return _fold_array(g, ctx.pad_width, ctx.mode, ctx.shape), None, None


class PadModeFold(Function):
    """The adjoint of :class:`PadMode`: sums a padded array's gradient back onto the unpadded ``shape``.

    Its own backward is the padding again (both maps are linear and each other's transpose).
    """
    name = "pad_mode_fold"

    @staticmethod
    def forward(ctx, g, pad_width, mode, shape):
        ctx.pad_width, ctx.mode = pad_width, mode
        return _fold_array(g, pad_width, mode, shape)

    @staticmethod
    def backward(ctx, gg):
        if _is_tensor(gg):
            return PadMode.apply(gg, ctx.pad_width, ctx.mode), None, None, None
        return _pad_array(gg, ctx.pad_width, ctx.mode), None, None, None


def pad_mode(input, pad_width, mode, name="pad"):
    """Pad ``input`` with ``mode`` (``"reflect"``, ``"replicate"`` or ``"circular"``), differentiably.

    Args:
        input: Tensor (arrays are wrapped).
        pad_width: ``((before, after), ...)`` with one pair per axis (numpy's layout, first axis first).
        mode: PyTorch's mode name.
        name: op or layer named in error messages.

    Returns:
        The padded Tensor.

    Raises:
        ValueError: unknown mode, negative pads, reflect pad >= axis size, circular pad > axis size.

    Shape:
        ``(n_0, ..., n_k) -> (n_0 + b_0 + a_0, ..., n_k + b_k + a_k)``.
    """
    from ..tensor import Tensor
    if not isinstance(input, Tensor):
        input = Tensor(np.asarray(input))
    pw = tuple((int(lo), int(hi)) for lo, hi in pad_width)
    check_pad_mode(name, input.shape, pw, mode)
    return PadMode.apply(input, pw, mode)


def pad(input, pad, mode="constant", value=None):
    """Pad the last axes of ``input``, as ``torch.nn.functional.pad``.

    Args:
        input: Tensor.
        pad: flat sequence ``(left_last, right_last, left_second_last, right_second_last, ...)`` (PyTorch's
            order: the last axis first).
        mode: ``"constant"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        value: fill value of ``"constant"`` padding (0 when None); not allowed with the other modes.

    Returns:
        The padded Tensor (differentiable, twice for the non-constant modes).

    Shape:
        the last ``len(pad) // 2`` axes grow by their two pads; unlike PyTorch any number of leading axes is
        accepted for the non-constant modes. A negative pad crops that side, as in PyTorch (the crop
        comes first, the other modes then pad what is left).
    """
    from ..tensor import Tensor
    if not isinstance(input, Tensor):
        input = Tensor(np.asarray(input))
    pad = tuple(int(p) for p in pad)
    nd = input.ndim
    if len(pad) % 2 or len(pad) // 2 > nd:
        raise ValueError(f"pad: pad {pad} must have an even length of at most 2 * ndim = {2 * nd} "
                         f"(input {tuple(input.shape)})")
    k = len(pad) // 2
    pw = ((0, 0),) * (nd - k) + tuple((pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k)))
    if min(pad, default=0) < 0:  # negative pads crop (PyTorch): crop first, then pad what is left
        crop = []
        for axis, ((lo, hi), n) in enumerate(zip(pw, input.shape)):
            start, stop = max(-lo, 0), n - max(-hi, 0)
            if stop - start + max(lo, 0) + max(hi, 0) <= 0 or stop < start:
                raise ValueError(f"pad: padding {pad} leaves no element on axis {axis} "
                                 f"(input {tuple(input.shape)})")
            crop.append(slice(start, stop))
        input = input[tuple(crop)]
        pw = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pw)
    if mode == "constant":
        return input.pad(pw, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise ValueError(f"pad: padding mode {mode!r} does not take a fill value, got value={value!r}")
    if mode not in NUMPY_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    return pad_mode(input, pw, mode, name="pad")
