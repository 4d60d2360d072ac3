"""Turn traced op calls into ONNX nodes: one converter per Function class, or the op's own ``symbolic``.

A converter is ``convert(c)`` where ``c`` is an :class:`OpContext` describing one recorded call
(its inputs as ONNX value names, constants, shapes, the scope it ran in); it adds nodes with
``c.g.op(...)`` and returns the ONNX name of each output. :func:`converts` registers one for a
Function class. A user-written Function may instead define ``symbolic(g, *inputs, **kwargs)``
(Tensor inputs arrive as value names, other arguments as they were passed) and return its outputs'
names, as a custom ``torch.autograd.Function`` can.
"""
import numpy as np

from autodiff import Tensor

from .trace import Dim

__all__ = ["ExportError", "OpContext", "converts", "converts_module", "converts_named", "converter_for",
           "CONVERTERS", "MODULE_CONVERTERS"]

#: Function class -> converter
CONVERTERS = {}
#: Module class -> converter of a whole call ``convert(c, module, input_names) -> output name(s)``
MODULE_CONVERTERS = {}


class ExportError(RuntimeError):
    """An op, module or argument that the ONNX exporter cannot express (the message names it)."""


def converts(*fns):
    """Register the decorated ``convert(c)`` for the Function classes ``fns``."""
    def register(convert):
        for fn in fns:
            CONVERTERS[fn] = convert
        return convert
    return register


def converts_module(*classes):
    """Register the decorated ``convert(c, module, names, tensors)`` as the ONNX form of a module call.

    It replaces the ops recorded inside the call (for modules whose ops have no faithful ONNX form,
    e.g. masks computed with numpy); ``c`` is the context of the call's first op, ``names`` the ONNX
    values of the call's input Tensors ``tensors``.
    """
    def register(convert):
        for klass in classes:
            MODULE_CONVERTERS[klass] = convert
        return convert
    return register


def converts_named(module, *names):
    """Register the decorated converter for the Function classes ``module.<name>`` that exist."""
    return converts(*[getattr(module, n) for n in names if getattr(module, n, None) is not None])


def converter_for(fn):
    """The converter of Function class ``fn``: its own ``symbolic``, else the registered one, else None."""
    for klass in fn.__mro__:
        if "symbolic" in klass.__dict__:
            return _symbolic
        if klass in CONVERTERS:
            return CONVERTERS[klass]
    return None


def _symbolic(c):
    g = c.g
    inputs = [c.x(j) if c.is_value(j) else a for j, a in enumerate(c.args)]
    out = c.fn.symbolic(g, *inputs, **c.kwargs)
    names = out if isinstance(out, (tuple, list)) else (out,)
    if len(names) != c.n_outputs or not all(isinstance(n, str) for n in names):
        c.fail(f"its symbolic() returned {out!r}; expected {c.n_outputs} value name(s) made with g.op(...)")
    return tuple(names)


_PARAMS = {}


def _forward_params(fn):
    """The names of ``fn.forward``'s parameters after ``ctx``."""
    if fn not in _PARAMS:
        import inspect
        try:
            params = list(inspect.signature(fn.forward).parameters)[1:]
        except (TypeError, ValueError):
            params = []
        _PARAMS[fn] = params
    return _PARAMS[fn]


class OpContext:
    """One recorded op call as the converters see it.

    Attributes:
        g: the :class:`~nn.onnx.graph.GraphBuilder`.
        fn: the Function class; ``name`` its label; ``scope`` the module path it ran in.
        args: the positional arguments as passed to ``apply``; ``kwargs`` the keyword arguments.
        saved: the op's ctx after its forward (attributes the forward set, e.g. normalised axes).
    """

    def __init__(self, exporter, index, node):
        self.ex = exporter
        self.g = exporter.g
        self.index = index
        self.node = node
        self.fn = node.fn
        self.name = node.name
        self.scope = node.scope
        self.args = exporter.trace.args[index]
        self.kwargs = node.kwargs or {}
        self.saved = node.ctx
        self.n_outputs = len(node.output_meta)

    # --- errors ------------------------------------------------------------------------------------
    def where(self):
        return f"module {self.ex.describe_scope(self.scope)}, opset {self.g.opset}"

    def fail(self, msg):
        """Raise an :class:`ExportError` naming the op, its module and the opset."""
        raise ExportError(f"onnx export: op '{self.name}' ({self.where()}): {msg}")

    def need_opset(self, version, what):
        if self.g.opset < version:
            self.fail(f"{what} needs opset {version} or newer; pass opset_version={version} or higher")

    # --- inputs ------------------------------------------------------------------------------------
    def position(self, name):
        """Index of forward's parameter ``name`` among the positional arguments (None if passed by keyword
        or not at all)."""
        params = _forward_params(self.fn)
        k = params.index(name) if name in params else None
        return k if k is not None and k < len(self.args) else None

    def arg(self, name, default=None):
        """Forward's argument ``name`` as passed (positionally or by keyword), else ``default``."""
        k = self.position(name)
        if k is not None:
            return self.args[k]
        return self.kwargs.get(name, default)

    def is_tensor(self, j):
        return isinstance(self.args[j], Tensor)

    def is_value(self, j):
        """True if input ``j`` is a Tensor or an array that is the data of a Tensor in the graph."""
        a = self.args[j]
        return isinstance(a, Tensor) or (isinstance(a, np.ndarray) and id(a) in self.ex.data_owner)

    def x(self, j, dtype=None):
        """The ONNX value name of input ``j`` (a constant is baked in), cast to ``dtype`` if given."""
        a = self.args[j]
        if isinstance(a, Tensor):
            name = self.ex.value_name(a, self, j)
            src = a.data.dtype
        elif isinstance(a, np.ndarray) and id(a) in self.ex.data_owner:
            owner = self.ex.data_owner[id(a)]
            name = self.ex.value_name(owner, self, j)
            src = owner.data.dtype
        elif a is None:
            return None
        elif isinstance(a, np.ndarray) and self.ex.dynamic_const(self, j):
            arr = a if dtype is None else a.astype(dtype)
            return self.ex.const_name(self, j, arr)
        else:
            value = self.value(j)
            arr = np.asarray(value)
            if dtype is not None:
                arr = arr.astype(dtype)
            elif arr.dtype == np.float64 and not isinstance(value, np.ndarray):
                arr = arr.astype(np.result_type(*[t.data.dtype for t in self.args if isinstance(t, Tensor)]
                                                or [np.float32]))
            return self.g.const(arr)
        if dtype is not None and np.dtype(dtype) != src:
            return self.g.cast(name, dtype)
        return name

    def value(self, j):
        """The constant input ``j`` as a Python/numpy value; refuses one that depends on the inputs."""
        a = self.args[j]
        if isinstance(a, Tensor):
            if a.grad_fn is not None or id(a) in self.ex.input_pos or id(a) in self.ex.params:
                self.fail(f"argument {j} is a tensor computed in the graph, but this op needs it as a constant")
            a = a.data
        elif isinstance(a, np.ndarray) and id(a) in self.ex.data_owner:
            self.fail(f"argument {j} is the data of a graph tensor, but this op needs it as a constant")
        reason = self.ex.varying_args.get((self.index, j))
        if reason is not None:
            self.fail(f"argument {j} is a value computed outside the graph (e.g. with numpy, a comparison or "
                      f"a Python number): it changed when the model ran with {reason}, so baking it in as a "
                      f"constant would be wrong. Compute it with Tensor ops instead")
        if self.ex.dynamic_const(self, j):
            self.fail(f"argument {j} is a constant whose shape follows a dynamic axis, but this op needs it as a "
                      f"fixed value")
        return a

    def kwarg(self, key, default=None):
        """Keyword argument ``key``, refusing an array that depends on the inputs."""
        reason = self.ex.varying_kwargs.get((self.index, key))
        if reason is not None:
            self.fail(f"keyword argument {key!r} is a value computed outside the graph: it changed when the "
                      f"model ran with {reason}, so it cannot be baked in as a constant")
        return self.kwargs.get(key, default)

    def named(self, arr):
        """The initializer name of the parameter/buffer whose data ``arr`` is (or views whole), else None."""
        if not isinstance(arr, np.ndarray):
            return None
        for cand in (arr, arr.base):
            if cand is not None and id(cand) in self.ex.data_param:
                t = self.ex.data_param[id(cand)]
                if t.data.size == arr.size:
                    return self.ex.value_name(t, self, None)
        return None

    def shape(self, j):
        a = self.args[j]
        return tuple(np.shape(a.data if isinstance(a, Tensor) else a))

    def dtype(self, j):
        a = self.args[j]
        return np.asarray(a.data if isinstance(a, Tensor) else a).dtype

    def rank(self, j):
        return len(self.shape(j))

    def dims(self, j):
        """Dims of input ``j``: ints, and :class:`~nn.onnx.trace.Dim` where they follow a dynamic axis."""
        return self.ex.input_dims(self, j)

    def out_shape(self, k=0):
        return tuple(self.node.output_meta[k][0])

    def out_dtype(self, k=0):
        return np.dtype(self.node.output_meta[k][1])

    def out_dims(self, k=0):
        return self.ex.node_dims[self.index][k]

    # --- shapes ------------------------------------------------------------------------------------
    def shape_tensor(self, dims, keep_from=None):
        """An int64 vector holding ``dims`` at run time (dynamic ones read from the graph inputs).

        ``keep_from``: dims of a tensor to broadcast (for Expand): a dynamic dim equal to that tensor's
        dim at the same position from the right becomes 1 (Expand keeps it).
        """
        g = self.g
        pieces, static = [], []
        offset = len(dims) - len(keep_from) if keep_from is not None else None
        for i, d in enumerate(dims):
            if isinstance(d, Dim) and keep_from is not None and i >= offset and keep_from[i - offset] == d:
                d = 1
            if not isinstance(d, Dim):
                static.append(int(d))
                continue
            if static:
                pieces.append(g.ints(static))
                static = []
            pieces.append(self.ex.dim_value(d, self))
        if not pieces:
            return g.ints(static)
        if static:
            pieces.append(g.ints(static))
        return pieces[0] if len(pieces) == 1 else g.op("Concat", *pieces, axis=0)

    def reshape(self, x, in_dims, out_dims):
        """``Reshape`` of value ``x`` (dims ``in_dims``) to ``out_dims``, dynamic dims kept dynamic.

        A dynamic dim at the same position as an equal input dim is copied (``0``), one other dynamic
        dim is inferred (``-1``), any further ones are computed from the graph inputs' shapes.
        """
        g = self.g
        dynamic = [d for d in out_dims if isinstance(d, Dim)]
        if not dynamic:
            zero = 0 in out_dims
            return g.op("Reshape", x, g.ints(out_dims), allowzero=1 if zero else None)
        if 0 in out_dims:
            self.fail(f"reshaping to {tuple(d.value if isinstance(d, Dim) else d for d in out_dims)} (a 0-size "
                      f"dimension) is not supported together with dynamic axes")
        target, pending = [], []
        for i, d in enumerate(out_dims):
            if not isinstance(d, Dim):
                target.append(int(d))
            elif i < len(in_dims) and in_dims[i] == d:
                target.append(0)  # Reshape copies the input's size at this position
            else:
                target.append(d)
                pending.append(i)
        if pending:
            unknown = [i for i in pending if not out_dims[i].known]
            if len(unknown) > 1:
                self.fail(f"cannot express the target shape {out_dims} with dynamic axes: more than one "
                          f"dimension follows the dynamic axes in a way that is not a product of them")
            target[(unknown or pending)[0]] = -1
        return g.op("Reshape", x, self.shape_tensor(target))
