"""Padding layers: zero, constant, reflection, replication and circular, in 1, 2 and 3 dimensions."""
from .. import functional as F
from ..module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _expand_padding(name, padding, dims):
    """An int pads every side; otherwise a sequence of ``2 * dims`` ints (last axis first)."""
    if isinstance(padding, bool):
        raise TypeError(f"{name}: padding must be an int or a tuple of {2 * dims} ints, got {padding!r}")
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    try:
        pad = tuple(int(p) for p in padding)
    except TypeError:
        raise TypeError(f"{name}: padding must be an int or a tuple of {2 * dims} ints, "
                        f"got {padding!r}") from None
    if len(pad) != 2 * dims:
        raise ValueError(f"{name}: padding must have {2 * dims} entries, got {len(pad)}: {pad}")
    return pad


class _PadNd(Module):
    """Shared body: pad the last ``_dims`` axes with ``_mode`` via ``nn.functional.pad``."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _expand_padding(type(self).__name__, padding, self._dims)

    def _check_input(self, input):
        d = self._dims
        if input.ndim not in (d + 1, d + 2):
            raise ValueError(f"{type(self).__name__}: expected a {d + 1}D or {d + 2}D input, "
                             f"got shape {tuple(input.shape)}")

    def forward(self, input):
        self._check_input(input)
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        self._check_input(input)
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last axis with ``value``.

    Args:
        padding: int (both sides) or ``(left, right)``.
        value: fill value.

    Shape:
        ``(N, C, W)`` or ``(C, W)`` -> ``W + left + right``.
    """
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two axes with ``value``.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom)``.
        value: fill value.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)``.
    """
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three axes with ``value``.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom, front, back)``.
        value: fill value.

    Shape:
        ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
    """
    _dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last axis with zeros.

    Args:
        padding: int (both sides) or ``(left, right)``.
    """
    _dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two axes with zeros.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom)``.
    """
    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three axes with zeros.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom, front, back)``.
    """
    _dims = 3


class ReflectionPad1d(_PadNd):
    """Pad the last axis by reflecting at the border (edge not repeated); each pad must be < the axis size.

    Args:
        padding: int (both sides) or ``(left, right)``.
    """
    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Reflection padding of the last two axes.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom)``.
    """
    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Reflection padding of the last three axes.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom, front, back)``.
    """
    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last axis by repeating the edge value.

    Args:
        padding: int (both sides) or ``(left, right)``.
    """
    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Replication padding of the last two axes.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom)``.
    """
    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Replication padding of the last three axes.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom, front, back)``.
    """
    _dims, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pad the last axis by wrapping around (periodic boundary).

    Args:
        padding: int (both sides) or ``(left, right)``.
    """
    _dims, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Circular padding of the last two axes.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom)``.
    """
    _dims, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Circular padding of the last three axes.

    Args:
        padding: int (all sides) or ``(left, right, top, bottom, front, back)``.
    """
    _dims, _mode = 3, "circular"
