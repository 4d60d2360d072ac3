"""The state of one export: traces, names of values, dynamic dimensions, and the op-by-op conversion."""
import inspect

import numpy as np

from autodiff import Tensor

from . import trace as tracing
from .convert import MODULE_CONVERTERS, ExportError, OpContext, converter_for
from .graph import GraphBuilder
from .runs import CheckingRuns, _array, _same

__all__ = ["Exporter"]


class Exporter(CheckingRuns):
    """Traces ``model`` on ``args`` and builds its ONNX model (see :func:`nn.onnx.export`)."""

    def __init__(self, model, args, kwargs, opset, fold):
        self.model, self.args, self.kwargs, self.fold = model, args, kwargs, fold
        self.g = GraphBuilder(opset)
        self.trace, _ = tracing.run(model, args, kwargs, watch=tuple(MODULE_CONVERTERS))
        self.param_names = {}
        if hasattr(model, "named_parameters"):
            for name, p in model.named_parameters():
                self.param_names[id(p)] = name
            for name, b in model.named_buffers():
                if b is not None:
                    self.param_names.setdefault(id(b), name)
        self.params = {id(t): t for t in self.trace.leaves.values() if id(t) in self.param_names}
        self.data_param = {id(t.data): t for t in self.params.values()}
        self.modules = dict(model.named_modules()) if hasattr(model, "named_modules") else {}
        self.input_pos = {id(t): k for k, t in enumerate(self.trace.inputs)}
        self.leaf_names, self.out_names, self.varying_args, self.varying_kwargs = {}, {}, {}, {}
        self.node_dims = [[list(s) for s in shapes] for shapes in self.trace.output_shapes]
        self.arg_dims = [list(t.shape) for t in self.trace.inputs]
        self.const_dims, self.sym_source, self._dim_values = {}, {}, {}
        self.data_owner = {}
        # id(array) -> (value name, dims, axis): arrays a converter computed in the graph (the indices an
        # ArgMax gives for max(dim)), for Tensors the engine makes around them outside the graph
        self.computed_arrays = {}
        for t in self.trace.inputs:
            self.data_owner.setdefault(id(t.data), t)
        self.seen, self.folded, self.other_traces = {}, set(), []
        for read in self.trace.args:
            for a in read:
                if isinstance(a, Tensor) and a.grad_fn is not None:
                    self.seen.setdefault(self.trace.key(a)[1:], a)
                    self.data_owner.setdefault(id(a.data), a)
        for t in self.trace.outputs:
            if t.grad_fn is not None:
                self.seen.setdefault(self.trace.key(t)[1:], t)
        self.covered = {}  # node index -> [module, inputs, outputs, converted?] of a whole-module form
        for call in self.trace.calls:
            self._cover(*call)

    def _cover(self, module, inputs, outputs):
        """Mark the ops inside one call of a module that has a whole-module ONNX form."""
        tr = self.trace
        stop = {id(t) for t in inputs}
        inside, stack = set(), [t for t in outputs if t.grad_fn is not None and id(t) not in stop]
        while stack:
            t = stack.pop()
            i = tr.index.get(id(t.grad_fn))
            if i is None or i in inside:
                continue
            inside.add(i)
            stack.extend(a for a in tr.args[i]
                         if isinstance(a, Tensor) and a.grad_fn is not None and id(a) not in stop)
        if not inside or inside & set(self.covered):
            return
        exits = {tr.key(t)[1:] for t in outputs if t.grad_fn is not None}
        for i, read in enumerate(tr.args):  # only the call's outputs may be used outside it
            if i not in inside and any(isinstance(a, Tensor) and a.grad_fn is not None and
                                       tr.key(a)[1] in inside and tr.key(a)[1:] not in exits for a in read):
                return
        if any(t.grad_fn is not None and tr.key(t)[1] in inside and tr.key(t)[1:] not in exits for t in tr.outputs):
            return
        record = [module, inputs, outputs, False]
        for i in inside:
            self.covered[i] = record

    # --- naming and scopes --------------------------------------------------------------------------
    def describe_scope(self, scope):
        if not scope:
            return "<top level>"
        path = scope.split(".", 1)[1] if "." in scope else ""
        mod = self.modules.get(path)
        if mod is None and path:  # containers that are not called (ModuleList) leave their name out
            ends = [m for name, m in self.modules.items() if name.endswith("." + path)]
            mod = ends[0] if len(ends) == 1 else None
        return f"{scope} ({type(mod).__name__})" if mod is not None else scope

    def _is_const_leaf(self, t):
        return t.grad_fn is None and id(t) not in self.params and id(t) not in self.input_pos

    def value_name(self, t, c, j):
        """The ONNX name of Tensor ``t`` as input ``j`` of the op ``c`` (weights and constants on first use)."""
        if t.grad_fn is not None:
            return self.out_names[self.trace.key(t)[1:]]
        name = self.leaf_names.get(id(t))
        if name is not None:
            return name
        computed = self._computed(t)
        if computed is not None:
            return computed
        owner = self.data_owner.get(id(t.data))
        if owner is not None and owner is not t:  # a new Tensor around a graph tensor's array (Tensor(x.data))
            return self.value_name(owner, c, j)
        if id(t) in self.params:
            name = self.g.initializer(self.param_names[id(t)], t.data)
        else:
            if c is not None and j is not None and self.dynamic_const(c, j):
                return self.const_name(c, j, t.data)
            name = self.const_name(c, j, t.data)
        self.leaf_names[id(t)] = name
        return name

    def args_in_every_run(self, i):
        """Op ``i``'s arguments in the first trace and in each checking run."""
        return [self.trace.args[i]] + [tr.args[i] for _, tr in self.other_traces]

    def _computed(self, t):
        """The graph value of a leaf whose array a converter computed (or a squeezed view of it)."""
        for arr in (t.data, t.data.base):
            entry = self.computed_arrays.get(id(arr)) if isinstance(arr, np.ndarray) else None
            if entry is None:
                continue
            name, dims, axis = entry
            if t.data.shape == tuple(d.value if isinstance(d, tracing.Dim) else d for d in dims):
                return name
            if t.data.ndim == len(dims) - 1:
                return self.g.squeeze(name, [axis])
        return None

    def computed_dims(self, t):
        for arr in (t.data, t.data.base):
            entry = self.computed_arrays.get(id(arr)) if isinstance(arr, np.ndarray) else None
            if entry is not None:
                dims = list(entry[1])
                return dims if t.data.ndim == len(dims) else dims[:entry[2]] + dims[entry[2] + 1:]
        return None

    def dynamic_const(self, c, j):
        dims = self.const_dims.get((c.index, j))
        return dims is not None and any(isinstance(d, tracing.Dim) for d in dims)

    def const_name(self, c, j, arr):
        """A constant argument baked in; one whose shape follows a dynamic axis is built at run time."""
        if c is not None and j is not None:
            if (c.index, j) in self.varying_args:
                c.value(j)  # raises: the constant changed with the inputs
            if self.dynamic_const(c, j):
                dims = self.const_dims[(c.index, j)]
                flat = np.asarray(arr).reshape(-1)
                if flat.ndim == np.ndim(arr) and flat.size > 1 and np.array_equal(flat, np.arange(flat.size)):
                    # positions 0..n-1 (e.g. np.arange(T) for positional embeddings): Range at run time
                    start, step = (self.g.scalar(v, flat.dtype) for v in (0, 1))
                    end = self.g.cast(self.g.squeeze(c.shape_tensor(dims), [0]), flat.dtype)
                    return self.g.op("Range", start, end, step)
                if flat.size == 0 or not np.all(flat == flat[0]):
                    c.fail(f"argument {j} is a constant of shape {np.shape(arr)} made inside forward whose size "
                           f"follows a dynamic axis and whose values are not all equal; build it from the inputs")
                value = np.asarray([flat[0]])
                return self.g.op("ConstantOfShape", c.shape_tensor(dims), value=value)
        return self.g.const(arr, hint="const")

    def input_dims(self, c, j):
        a = c.args[j]
        if isinstance(a, np.ndarray) and id(a) in self.data_owner:
            a = self.data_owner[id(a)]
        if isinstance(a, Tensor):
            if a.grad_fn is not None:
                _, i, k = self.trace.key(a)
                return self.node_dims[i][k]
            if id(a) in self.input_pos:
                return self.arg_dims[self.input_pos[id(a)]]
            if id(a) in self.params:
                return list(a.shape)
        return self.const_dims.get((c.index, j), list(np.shape(_array(a))))

    def tensor_dims(self, t):
        """Dims of a Tensor of the trace (a node's output, a graph input, or a constant's shape)."""
        if t.grad_fn is not None:
            _, i, k = self.trace.key(t)
            return self.node_dims[i][k]
        if id(t) in self.input_pos:
            return self.arg_dims[self.input_pos[id(t)]]
        return list(t.shape)

    def dim_value(self, d, c):
        """A 1-element int64 value holding dynamic dimension ``d`` at run time."""
        if not d.known:
            c.fail(f"a dimension of size {d.value} follows the dynamic axes in a way that is not a product of "
                   f"them, so it cannot be computed in the graph")
        key = (d.coef, d.symbols)
        if key in self._dim_values:
            return self._dim_values[key]
        g, saved_scope = self.g, self.g.scope
        g.scope = "shape"
        value = None
        for s in d.symbols:
            name, axis = self.sym_source[s]
            piece = g.op("Shape", name, start=axis, end=axis + 1)
            value = piece if value is None else g.op("Mul", value, piece)
        if d.coef != 1:
            value = g.op("Mul", value, g.ints([d.coef]))
        g.scope = saved_scope
        self._dim_values[key] = value
        return value

    # --- the graph ----------------------------------------------------------------------------------
    def build(self, input_names, output_names, dynamic_axes):
        """Convert the trace; returns the ``onnx.ModelProto`` (not yet checked)."""
        g, tr = self.g, self.trace
        names = list(input_names or [])
        defaults = _default_input_names(self.model, self.args, self.kwargs)
        names += defaults[len(names):len(tr.inputs)]
        if len(names) > len(tr.inputs):
            raise ValueError(f"onnx export: {len(names)} input_names given for {len(tr.inputs)} inputs")
        outs = list(output_names or [])
        default_outs = ["output"] if len(tr.outputs) == 1 else [f"output_{k}" for k in range(len(tr.outputs))]
        outs += default_outs[len(outs):len(tr.outputs)]
        if len(outs) > len(tr.outputs):
            raise ValueError(f"onnx export: {len(outs)} output_names given for {len(tr.outputs)} outputs")
        dyn_in, dyn_out = self._parse_dynamic_axes(dynamic_axes, names, outs)
        self._check_values()
        self._dynamic(dyn_in)
        self.sym_source = {s: (names[p], a) for s, (p, a) in self.sym_source.items()}
        for name in names:
            g.reserve(name)
        for pos, (name, t) in enumerate(zip(names, tr.inputs)):
            self.leaf_names[id(t)] = name
            g.add_input(name, t.data.dtype, [d.param() if isinstance(d, tracing.Dim) else d for d in self.arg_dims[pos]])
        for i, node in enumerate(tr.nodes):
            if i in self.covered:
                self._convert_module(i, node)
                continue
            results = self._folded(i, node) if self.fold else None
            if results is None:
                convert = converter_for(node.fn)
                c = OpContext(self, i, node)
                if convert is None:
                    cls = node.fn
                    c.fail(f"the Function {cls.__module__}.{cls.__qualname__} has no ONNX form; give it a static "
                           f"method symbolic(g, *inputs, **kwargs) that builds it with g.op(...)")
                g.scope = node.scope
                results = convert(c)
                g.scope = ""
                results = results if isinstance(results, tuple) else (results,)
                if len(results) != c.n_outputs:
                    c.fail(f"its converter gave {len(results)} outputs for {c.n_outputs}")
            for k, r in enumerate(results):
                self.out_names[(i, k)] = r
        for k, (name, t) in enumerate(zip(outs, tr.outputs)):
            value = self.value_name(t, None, None)
            g.rename_output(value, name)
            if t.grad_fn is not None:
                _, i, kk = tr.key(t)
                dims = self.node_dims[i][kk]
            elif id(t) in self.input_pos:
                dims = self.arg_dims[self.input_pos[id(t)]]
            else:
                dims = self.computed_dims(t) or self._constant_output(k, t, name)
            dims = [d.param() if isinstance(d, tracing.Dim) else d for d in dims]
            for axis, sym in dyn_out.get(name, {}).items():
                dims[axis] = sym
            g.add_output(name, t.data.dtype, dims)
        return g.make_model(type(self.model).__name__)

    def _convert_module(self, i, node):
        """At the first op of a covered call whose inputs all exist, add the module's ONNX form."""
        record = self.covered[i]
        module, inputs, outputs, done = record
        if done:
            return
        tr = self.trace
        if not all(t.grad_fn is None or tr.key(t)[1:] in self.out_names for t in inputs):
            return
        c = OpContext(self, i, node)
        self.g.scope = node.scope
        convert = next(MODULE_CONVERTERS[k] for k in type(module).__mro__ if k in MODULE_CONVERTERS)
        names = convert(c, module, [self.value_name(t, None, None) for t in inputs], inputs)
        self.g.scope = ""
        names = names if isinstance(names, (tuple, list)) else (names,)
        if len(names) != len(outputs):
            c.fail(f"the ONNX form of {type(module).__name__} gave {len(names)} outputs for {len(outputs)}")
        for t, name in zip(outputs, names):
            if t.grad_fn is not None:
                self.out_names[tr.key(t)[1:]] = name
        record[3] = True

    def _constant_output(self, k, t, name):
        """Dims of output ``k``, a constant made in forward; refused if it changed in a checking run."""
        if id(t) not in self.params:
            for reason, other in self.other_traces:
                if not _same(t, other.outputs[k]):
                    raise ExportError(f"onnx export: output {name!r} is a tensor made outside the graph (e.g. "
                                      f"with numpy) that changed when the model ran with {reason}; it would be "
                                      f"a wrong constant in the exported model")
        return list(t.shape)

    def _folded(self, i, node):
        """Constant outputs for an op whose inputs are all constants made in forward, else None."""
        for j, a in enumerate(self.trace.args[i]):
            if isinstance(a, Tensor):
                if a.grad_fn is None and not self._is_const_leaf(a):
                    return None
                if a.grad_fn is not None and self.trace.key(a)[1] not in self.folded:
                    return None
            elif isinstance(a, np.ndarray) and id(a) in self.data_owner:
                return None
            if (i, j) in self.varying_args or (i, j) in self.const_dims:
                return None
        if any(key[0] == i for key in self.varying_kwargs):
            return None
        if any(isinstance(d, tracing.Dim) for dims in self.node_dims[i] for d in dims):
            return None
        names = []
        for k in range(len(self.node_dims[i])):
            t = self.seen.get((i, k))
            names.append("" if t is None else self.g.const(t.data, hint="folded"))
        self.folded.add(i)
        return tuple(names)

    def _parse_dynamic_axes(self, dynamic_axes, names, outs):
        dyn_in, dyn_out = [], {}
        for key, spec in (dynamic_axes or {}).items():
            if isinstance(spec, dict):
                axes = {int(a): str(s) for a, s in spec.items()}
            else:
                axes = {int(a): f"{key}_dynamic_axes_{n + 1}" for n, a in enumerate(spec)}
            if key in names:
                pos = names.index(key)
                rank = self.trace.inputs[pos].ndim
                for axis, sym in axes.items():
                    if not -rank <= axis < rank:
                        raise ValueError(f"onnx export: dynamic axis {axis} of input {key!r} is out of range for "
                                         f"its {rank} dimensions")
                    dyn_in.append((pos, axis % rank, sym))
            elif key in outs:
                dyn_out[key] = axes
            else:
                raise ValueError(f"onnx export: dynamic_axes names {key!r}, which is neither an input "
                                 f"({', '.join(names)}) nor an output ({', '.join(outs)})")
        return dyn_in, dyn_out


def _default_input_names(model, args, kwargs):
    """forward's parameter names (``hx_0``, ``hx_1`` for the pieces of a tuple argument)."""
    fn = getattr(model, "forward", model)
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = []
    for i, a in enumerate(args):
        base = params[i] if i < len(params) else f"input_{i}"
        pieces = tracing.flatten(a, "arguments")
        names += [base] if isinstance(a, Tensor) else [f"{base}_{k}" for k in range(len(pieces))]
    for key, v in kwargs.items():
        pieces = tracing.flatten(v, "arguments")
        names += [key] if isinstance(v, Tensor) else [f"{key}_{k}" for k in range(len(pieces))]
    return names
