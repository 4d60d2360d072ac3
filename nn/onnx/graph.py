"""The ONNX graph being built: unique value names, nodes, initializers and opset-aware helpers.

Everything is made with ``onnx.helper`` and ``onnx.numpy_helper``; nothing writes protobuf by hand.
Converters and user ``symbolic`` methods build nodes through :meth:`GraphBuilder.op`, which takes
attributes as keywords, either plain (``axis=1``, type taken from the value) or with torch's type
suffixes (``alpha_f=0.1``, ``axes_i=[0]``, ``mode_s="constant"``, ``value_t=array``).
"""
import numpy as np

__all__ = ["GraphBuilder", "ONNX_DTYPES"]

#: numpy dtype -> onnx TensorProto element type (filled on first use, onnx is an optional import)
ONNX_DTYPES = {}


def onnx_dtype(dtype):
    """The ``onnx.TensorProto`` element type of a numpy dtype."""
    from onnx import helper
    dtype = np.dtype(dtype)
    if dtype not in ONNX_DTYPES:
        ONNX_DTYPES[dtype] = helper.np_dtype_to_tensor_dtype(dtype)
    return ONNX_DTYPES[dtype]


def _attribute_value(key, value):
    """Strip a torch-style type suffix (``_i _f _s _t``) from ``key`` and convert ``value`` to match."""
    from onnx import numpy_helper
    if len(key) > 2 and key[-2] == "_" and key[-1] in "ifst":
        kind, key = key[-1], key[:-2]
        if kind == "i":
            value = [int(v) for v in value] if isinstance(value, (list, tuple)) else int(value)
        elif kind == "f":
            value = [float(v) for v in value] if isinstance(value, (list, tuple)) else float(value)
        elif kind == "s":
            value = [str(v) for v in value] if isinstance(value, (list, tuple)) else str(value)
        else:
            value = numpy_helper.from_array(np.asarray(value))
    elif isinstance(value, np.ndarray):
        value = numpy_helper.from_array(value)
    elif isinstance(value, (np.integer, bool)):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    elif isinstance(value, (list, tuple)) and value and isinstance(value[0], (np.integer, bool)):
        value = [int(v) for v in value]
    return key, value


def _contiguous(arr):
    """``arr`` as a C-contiguous ndarray of the same shape (0-d arrays stay 0-d)."""
    arr = np.asarray(arr)
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


class GraphBuilder:
    """Collects the nodes, initializers, inputs and outputs of one ONNX graph.

    Args:
        opset: the default-domain opset version the graph is written for.

    Attributes:
        opset: that version (converters choose between op forms with it).
        nodes: ``onnx.NodeProto`` list in topological order.
        initializers: ``name -> ndarray`` (weights under their state_dict keys, then constants).
        scope: the module path of the op being converted; node names are prefixed with it.
    """

    def __init__(self, opset):
        self.opset = int(opset)
        self.nodes = []
        self.initializers = {}
        self.inputs = []
        self.outputs = []
        self.scope = ""
        self._names = set()
        self._consts = {}
        self._counts = {}
        self.domains = set()  # custom operator domains used (symbolic methods may use their own)

    # --- names ---------------------------------------------------------------------------------------
    def unique(self, hint):
        """A value name not used yet, ``hint`` itself when it is free."""
        hint = str(hint) or "v"
        name, k = hint, 0
        while name in self._names:
            k += 1
            name = f"{hint}.{k}"
        self._names.add(name)
        return name

    def reserve(self, name):
        """Claim ``name`` exactly (graph inputs, outputs and named initializers); error if taken."""
        if name in self._names:
            raise ValueError(f"onnx export: the name {name!r} is used twice (input, output or weight names "
                             f"must be unique)")
        self._names.add(name)
        return name

    # --- values --------------------------------------------------------------------------------------
    def initializer(self, name, array):
        """Add ``array`` as an initializer called exactly ``name`` (a state_dict key)."""
        self.reserve(name)
        self.initializers[name] = _contiguous(array)
        return name

    def const(self, value, dtype=None, hint="const"):
        """A constant initializer holding ``value`` (identical small constants are shared)."""
        arr = np.asarray(value, dtype=dtype)
        if arr.dtype == np.float64 and dtype is None and not isinstance(value, np.ndarray):
            arr = arr.astype(np.float32)
        key = None
        if arr.size <= 64:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.unique(hint)
        self.initializers[name] = _contiguous(arr)
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values):
        """A 1-d int64 constant (shapes, axes, pads, indices)."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), hint="ints")

    def scalar(self, value, dtype):
        """A 0-d constant of ``dtype`` (the dtype of the tensor it is combined with)."""
        return self.const(np.asarray(value, dtype=dtype), hint="scalar")

    # --- nodes ---------------------------------------------------------------------------------------
    def op(self, op_type, *inputs, outputs=1, domain="", **attrs):
        """Add a node; returns its output name (or a tuple of names when ``outputs > 1``).

        ``inputs`` are value names; ``None`` or ``""`` marks an omitted optional input. Attributes are
        keywords (see the module docstring for the torch-style type suffixes).
        """
        from onnx import helper
        names = ["" if i is None else i for i in inputs]
        while names and names[-1] == "":
            names.pop()
        for n in names:
            if not isinstance(n, str):
                raise TypeError(f"onnx export: input of {op_type} must be a value name, got {n!r}")
        count = self._counts.get(op_type, 0)
        self._counts[op_type] = count + 1
        base = f"{self.scope}/{op_type}_{count}" if self.scope else f"{op_type}_{count}"
        outs = [self.unique(f"{base}" if outputs == 1 else f"{base}:{k}") for k in range(outputs)]
        converted = dict(_attribute_value(k, v) for k, v in attrs.items() if v is not None)
        if domain:
            self.domains.add(domain)
        self.nodes.append(helper.make_node(op_type, names, outs, name=base, domain=domain or None,
                                           **converted))
        return outs[0] if outputs == 1 else tuple(outs)

    def rename_output(self, value, name):
        """Make the graph output called ``name`` carry ``value`` (an Identity node)."""
        from onnx import helper
        self.reserve(name)
        self.nodes.append(helper.make_node("Identity", [value], [name], name=f"output/{name}"))
        return name

    # --- helpers with opset-dependent forms -----------------------------------------------------------
    def reduce(self, op_type, x, axes, keepdims):
        """``op_type`` (ReduceSum, ReduceMean, ReduceMax, ...) over ``axes`` (None: all axes)."""
        keep = int(bool(keepdims))
        if axes is None:
            return self.op(op_type, x, keepdims=keep)
        axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, x, self.ints(axes), keepdims=keep)
        return self.op(op_type, x, axes=axes, keepdims=keep)

    def unsqueeze(self, x, axes):
        return self.op("Unsqueeze", x, self.ints(axes))

    def squeeze(self, x, axes):
        return self.op("Squeeze", x, self.ints(axes))

    def split(self, x, parts, axis, sizes=None):
        """``parts`` pieces of ``x`` along ``axis``: equal pieces, or of the given ``sizes``."""
        if parts == 1:
            return (self.op("Identity", x),)
        if sizes is not None:
            return self.op("Split", x, self.ints(sizes), outputs=parts, axis=axis)
        if self.opset >= 18:
            return self.op("Split", x, outputs=parts, axis=axis, num_outputs=parts)
        return self.op("Split", x, outputs=parts, axis=axis)

    def cast(self, x, dtype):
        return self.op("Cast", x, to=onnx_dtype(dtype))

    # --- subgraphs (loop bodies) --------------------------------------------------------------------
    def subgraph(self):
        """A builder for a subgraph (a Scan body): its own nodes, inputs and outputs; names, constants
        and initializers shared with this graph (a body may read the outer graph's values)."""
        child = GraphBuilder.__new__(GraphBuilder)
        child.__dict__.update(self.__dict__)
        child.nodes, child.inputs, child.outputs = [], [], []
        return child

    def graph(self, name):
        """This (sub)graph's nodes, inputs and outputs as an ``onnx.GraphProto`` (no initializers)."""
        from onnx import helper
        return helper.make_graph(self.nodes, name, self.inputs, self.outputs)

    # --- the model -----------------------------------------------------------------------------------
    def add_input(self, name, dtype, dims):
        from onnx import helper
        self.inputs.append(helper.make_tensor_value_info(name, onnx_dtype(dtype), dims))

    def add_output(self, name, dtype, dims):
        from onnx import helper
        self.outputs.append(helper.make_tensor_value_info(name, onnx_dtype(dtype), dims))

    def make_model(self, graph_name, producer="autodiff-nn", doc=""):
        """The ``onnx.ModelProto`` (initializers in the order they were added)."""
        from onnx import helper, numpy_helper
        inits = [numpy_helper.from_array(a, name) for name, a in self.initializers.items()]
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs, initializer=inits,
                                  doc_string=doc)
        opsets = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(graph, opset_imports=opsets + [helper.make_opsetid(d, 1) for d in
                                                                 sorted(self.domains)],
                                  producer_name=producer)
        model.ir_version = helper.find_min_ir_version_for(opsets)
        return model
