"""Layer ops: linear, normalisation, embedding, convolution, padding modes and pooling."""
import numpy as np

from autodiff.ops import conv
from autodiff.ops import embedding as Em
from autodiff.ops import linear as Li
from autodiff.ops import norm
from autodiff.ops import padmode
from autodiff.ops import pool as Po

from ..convert import converts_named


@converts_named(Li, "LinearFunction")
def _linear(c):
    """Gemm (x W^T + b) for 2-d input, else MatMul with W^T and Add."""
    g, dtype = c.g, c.out_dtype()
    x, w = c.x(0, dtype), c.x(1, dtype)
    b = c.x(2, dtype) if len(c.args) > 2 and c.args[2] is not None else None
    if c.rank(0) == 2:
        return g.op("Gemm", x, w, b, transB=1)
    y = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0]))
    return y if b is None else g.op("Add", y, b)


@converts_named(Em, "EmbeddingFunction")
def _embedding(c):
    idx = c.x(1)
    if c.dtype(1) not in (np.int32, np.int64):
        idx = c.g.cast(idx, np.int64)
    return c.g.op("Gather", c.x(0), idx, axis=0)


def _param_or_default(c, j, shape, fill, dtype):
    """Input ``j`` (weight or bias) of ``shape``; ``fill`` everywhere when it is None."""
    if c.args[j] is None:
        return c.g.const(np.full(shape, fill, dtype), hint="ones" if fill else "zeros")
    return c.x(j, dtype)


def _running_stat(c, key, channels, dtype):
    """The running mean or variance: the buffer's initializer when it is one, else a constant."""
    arr = c.kwargs[key]
    name = c.named(arr)
    if name is not None:
        return name if np.asarray(arr).dtype == dtype else c.g.cast(name, dtype)
    return c.g.const(np.asarray(c.kwarg(key), dtype=dtype).reshape(channels), hint=key)


@converts_named(norm, "Normalize")
def _normalize(c):
    """LayerNormalization (statistics over trailing axes), BatchNormalization (running statistics),
    or the formula with ReduceMean (batch statistics over other axes)."""
    g, dtype = c.g, c.dtype(0)
    rank = c.rank(0)
    axes = [int(a) for a in c.kwargs.get("axes")]
    pshape = tuple(c.kwargs.get("pshape"))
    eps = float(c.kwargs.get("eps", 1e-5))
    through = c.kwargs.get("through_stats", True)
    x = c.x(0)
    if through and axes == list(range(rank - len(axes), rank)) and pshape == tuple(c.shape(0)[rank - len(axes):]):
        scale = _param_or_default(c, 1, pshape, 1, dtype)
        bias = _param_or_default(c, 2, pshape, 0, dtype) if c.args[2] is not None else None
        return g.op("LayerNormalization", x, scale, bias, axis=-len(axes), epsilon=eps)
    channels = int(np.prod(pshape))
    if not through and rank >= 2 and pshape == (1, channels) + (1,) * (rank - 2):
        scale = _param_or_default(c, 1, (channels,), 1, dtype)
        bias = _param_or_default(c, 2, (channels,), 0, dtype)
        mean = _running_stat(c, "mean", channels, dtype)
        var = _running_stat(c, "var", channels, dtype)
        return g.op("BatchNormalization", x, scale, bias, mean, var, epsilon=eps)
    if not through:
        c.fail(f"normalisation with fixed statistics of shape {pshape} over axes {axes} is not a batch norm "
               f"over channel axis 1")
    mean = g.reduce("ReduceMean", x, axes, True)
    centered = g.op("Sub", x, mean)
    var = g.reduce("ReduceMean", g.op("Mul", centered, centered), axes, True)
    y = g.op("Div", centered, g.op("Sqrt", g.op("Add", var, g.scalar(eps, dtype))))
    if c.args[1] is not None:
        y = g.op("Mul", y, g.op("Reshape", c.x(1, dtype), g.ints(pshape)))
    if c.args[2] is not None:
        y = g.op("Add", y, g.op("Reshape", c.x(2, dtype), g.ints(pshape)))
    return y


# --- convolution -------------------------------------------------------------------------------------
@converts_named(conv, "Conv")
def _conv(c):
    """Conv over (N, C, L) or (N, C, H, W); the op keeps 1-d convolutions as 2-d ones of height 1."""
    g, dtype = c.g, c.out_dtype()
    stride, pads, dilation = c.kwargs["stride"], c.kwargs["pads"], c.kwargs["dilation"]
    groups = int(c.kwargs.get("groups", 1))
    spatial = c.rank(0) - 2
    stride, pads, dilation = list(stride)[-spatial:], list(pads)[-spatial:], list(dilation)[-spatial:]
    kernel = list(c.shape(1)[2:])
    bias = c.x(2, dtype) if c.args[2] is not None else None
    return g.op("Conv", c.x(0, dtype), c.x(1, dtype), bias, kernel_shape=kernel, strides=stride,
                pads=[p[0] for p in pads] + [p[1] for p in pads], dilations=dilation, group=groups)


@converts_named(padmode, "PadMode")
def _pad_mode(c):
    g = c.g
    mode = c.value(2) if len(c.args) > 2 else c.kwargs["mode"]
    width = c.value(1) if len(c.args) > 1 else c.kwargs["pad_width"]
    onnx_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    if mode == "circular":
        c.need_opset(19, "circular padding (Pad mode 'wrap')")
    pads = [int(p[0]) for p in width] + [int(p[1]) for p in width]
    return g.op("Pad", c.x(0), g.ints(pads), mode=onnx_mode)


# --- pooling -----------------------------------------------------------------------------------------
def _pool_layout(c):
    """``(spatial, unbatched)``: 1 or 2 pooled axes, and whether the input lacks the batch axis.

    The pooling ops see every input as ``(N, C, H, W)`` (``shape4``); comparing it with the real shape
    tells which layout the call had.
    """
    shape, shape4 = tuple(c.shape(0)), tuple(c.kwargs["shape4"])
    if shape == shape4:
        return 2, False
    if len(shape) == 3 and shape4 == shape[:2] + (1,) + shape[2:]:
        return 1, False
    if len(shape) == 3 and shape4 == (1,) + shape:
        return 2, True
    return 1, True


def _pooled(c, build):
    """Run ``build(x, spatial)`` on the input (given a batch axis first if it has none)."""
    g = c.g
    spatial, unbatched = _pool_layout(c)
    x = c.x(0)
    if unbatched:
        x = g.unsqueeze(x, [0])
    y = build(x, spatial)
    return g.squeeze(y, [0]) if unbatched else y


def _last(values, spatial):
    return [int(v) for v in list(values)[-spatial:]]


@converts_named(Po, "MaxPool")
def _max_pool(c):
    kw = c.kwargs

    def build(x, spatial):
        pads = _last(kw["padding"], spatial)
        return c.g.op("MaxPool", x, kernel_shape=_last(kw["kernel_size"], spatial),
                      strides=_last(kw["stride"], spatial), pads=pads + pads,
                      dilations=_last(kw["dilation"], spatial), ceil_mode=int(bool(kw.get("ceil_mode"))))
    return _pooled(c, build)


@converts_named(Po, "AvgPool")
def _avg_pool(c):
    kw = c.kwargs
    g = c.g

    def build(x, spatial):
        kernel = _last(kw["kernel_size"], spatial)
        pads = _last(kw["padding"], spatial)
        divisor = kw.get("divisor_override")
        include = bool(kw.get("count_include_pad", True)) or divisor is not None
        y = g.op("AveragePool", x, kernel_shape=kernel, strides=_last(kw["stride"], spatial), pads=pads + pads,
                 ceil_mode=int(bool(kw.get("ceil_mode"))), count_include_pad=int(include))
        if divisor is not None:
            y = g.op("Mul", y, g.scalar(float(np.prod(kernel)) / float(divisor), c.out_dtype()))
        return y
    return _pooled(c, build)


@converts_named(Po, "AdaptiveAvgPool")
def _adaptive_avg_pool(c):
    """GlobalAveragePool for output 1, AveragePool when the sizes divide, else one ReduceMean per cell."""
    g = c.g
    out_size = [int(s) for s in c.kwargs["output_size"]]

    def build(x, spatial):
        size = out_size[-spatial:]
        if all(s == 1 for s in size):
            return g.op("GlobalAveragePool", x)
        dims = c.dims(0)[-spatial:]
        if any(not isinstance(d, int) for d in dims):
            c.fail(f"adaptive average pooling to {tuple(size)} over a dynamic spatial size has no ONNX form "
                   f"(only output size 1 does: GlobalAveragePool)")
        if all(d % s == 0 for d, s in zip(dims, size)):
            kernel = [d // s for d, s in zip(dims, size)]
            return g.op("AveragePool", x, kernel_shape=kernel, strides=kernel)
        return _adaptive_cells(g, x, dims, size)
    return _pooled(c, build)


def _adaptive_cells(g, x, dims, size, reduce="ReduceMean"):
    """Cell i of an axis covers [floor(i n / o), ceil((i + 1) n / o)): one reduction per cell and axis."""
    for a, (n, o) in enumerate(zip(dims, size)):
        axis = 2 + a
        cells = []
        for i in range(o):
            lo, hi = (i * n) // o, -((-(i + 1) * n) // o)
            piece = g.op("Slice", x, g.ints([lo]), g.ints([hi]), g.ints([axis]))
            cells.append(g.reduce(reduce, piece, [axis], True))
        x = g.op("Concat", *cells, axis=axis)
    return x


# --- transposed convolution, unfold/fold -------------------------------------------------------------
try:
    from autodiff.ops import conv_transpose as CT
    from autodiff.ops import fold as Fo
except ImportError:  # pragma: no cover - engine without these ops
    CT = Fo = None


if CT is not None:
    @converts_named(CT, "ConvTranspose")
    def _conv_transpose(c):
        """ConvTranspose over (N, C, H, W) (1-d calls arrive as height-1 planes); output_padding is what
        makes the traced output size."""
        g, dtype = c.g, c.out_dtype()
        kw = c.kwargs
        stride, padding, dilation = list(kw["stride"]), list(kw["padding"]), list(kw["dilation"])
        kernel = list(c.shape(1)[2:])
        size_in, size_out = c.shape(0)[2:], c.out_shape()[2:]
        extra = [o - ((i - 1) * s - 2 * p + d * (k - 1) + 1)
                 for i, o, s, p, d, k in zip(size_in, size_out, stride, padding, dilation, kernel)]
        bias = c.x(2, dtype) if c.args[2] is not None else None
        return g.op("ConvTranspose", c.x(0, dtype), c.x(1, dtype), bias, kernel_shape=kernel, strides=stride,
                    pads=padding + padding, dilations=dilation, group=int(kw.get("groups", 1)),
                    output_padding=extra)


if Fo is not None:
    @converts_named(Fo, "Unfold")
    def _unfold(c):
        """Blocks as a grouped Conv with one-hot kernels (block row (c kh + i) kw + j is output channel
        (c kh + i) kw + j), then (N, C kh kw, L)."""
        g, dtype = c.g, c.out_dtype()
        kernel, dilation, padding, stride, _ = c.kwargs["geometry"]
        channels = c.shape(0)[1]
        k = int(kernel[0] * kernel[1])
        onehot = np.tile(np.eye(k, dtype=dtype).reshape(k, 1, kernel[0], kernel[1]), (channels, 1, 1, 1))
        blocks = g.op("Conv", c.x(0, dtype), g.const(onehot, hint="unfold_kernel"), kernel_shape=list(kernel),
                      strides=list(stride), pads=list(padding) + list(padding), dilations=list(dilation),
                      group=int(channels))
        return g.op("Reshape", blocks, g.ints([0, channels * k, -1]))

    @converts_named(Fo, "Fold")
    def _fold(c):
        g = c.g
        kernel, dilation, padding, stride, _ = c.kwargs["geometry"]
        c.need_opset(18, "fold (Col2Im)")
        image = [int(s) for s in c.kwargs["x_shape"][2:]]
        return g.op("Col2Im", c.x(0), g.ints(image), g.ints(list(kernel)), dilations=list(dilation),
                    pads=list(padding) + list(padding), strides=list(stride))


try:
    from autodiff.ops import conv3d as C3
except ImportError:  # pragma: no cover - engine without 3-d convolutions
    C3 = None

if C3 is not None:
    @converts_named(C3, "ConvNd")
    def _conv_nd(c):
        """Conv over (N, C, D, H, W) with geometry (stride, pads per axis, dilation, groups)."""
        g, dtype = c.g, c.out_dtype()
        stride, pads, dilation, groups = c.value(3)
        bias = c.x(2, dtype) if c.args[2] is not None else None
        return g.op("Conv", c.x(0, dtype), c.x(1, dtype), bias, kernel_shape=list(c.shape(1)[2:]),
                    strides=list(stride), pads=[p[0] for p in pads] + [p[1] for p in pads],
                    dilations=list(dilation), group=int(groups))

    @converts_named(C3, "ConvTransposeNd")
    def _conv_transpose_nd(c):
        """ConvTranspose over (N, C, D, H, W); output_padding is what makes the traced output size."""
        g, dtype = c.g, c.out_dtype()
        stride, pads, dilation, groups = c.value(3)
        kernel = list(c.shape(1)[2:])
        extra = [o - ((i - 1) * s - p[0] - p[1] + d * (k - 1) + 1) for i, o, s, p, d, k in
                 zip(c.shape(0)[2:], c.out_shape()[2:], stride, pads, dilation, kernel)]
        bias = c.x(2, dtype) if c.args[2] is not None else None
        return g.op("ConvTranspose", c.x(0, dtype), c.x(1, dtype), bias, kernel_shape=kernel, strides=list(stride),
                    pads=[p[0] for p in pads] + [p[1] for p in pads], dilations=list(dilation), group=int(groups),
                    output_padding=extra)


try:
    from autodiff.ops import unpool as Un
except ImportError:  # pragma: no cover - engine without max-unpooling
    Un = None

if Un is not None:
    @converts_named(Un, "MaxUnpool")
    def _max_unpool(c):
        """Zeros (rows, plane) with each value scattered to its index (ScatterElements on axis 1)."""
        g, dtype = c.g, c.out_dtype()
        x = c.x(0, dtype)
        plane = int(c.value(2))
        shape = g.op("Concat", g.op("Shape", x, start=0, end=1), g.ints([plane]), axis=0)
        zeros = g.op("ConstantOfShape", shape, value=np.zeros(1, dtype))
        return g.op("ScatterElements", zeros, c.x(1, np.int64), x, axis=1)
