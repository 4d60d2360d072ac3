"""Function (one class per op), its ``ctx``, and the one recorder that turns an op call into a graph node.

An op is written as a ``Function`` subclass with two static methods side by side::

    class Mul(Function):
        '''d(a*b)/da = b, d(a*b)/db = a'''
        @staticmethod
        def forward(ctx, a, b):        # Tensor arguments arrive as numpy arrays
            ctx.save_for_backward(a, b)
            return a * b
        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a   # one gradient per positional argument

    y = Mul.apply(x, w)

Every op goes through ``Function.apply``: ``x * w`` is ``Mul.apply(x, w)``, and so are ``nn`` layers
and user-written Functions. ``apply`` unwraps Tensors, runs the class's own ``forward`` and, when grad
mode is on and an input requires grad, records one ``graph.Node`` that links the outputs to the
inputs. During ``backward`` the op's ``backward`` gets numpy arrays; under ``create_graph=True`` it
gets Tensors instead (saved arrays that were an input's or an output's data come back as that Tensor,
connected to the graph), so the same code records the backward pass itself and gradients of
gradients work.
"""
import os

import numpy as np

from . import grad_mode
from .errors import ShapeError
from . import tensor as tensors  # the Tensor class, read at call time (tensor.py imports the ops)
from .graph import Node, clock

__all__ = ["Function", "FunctionCtx", "view_indices", "record", "ENGINE", "track"]

# The recorder and the backward loop compiled (autodiff/_engine.c, built at install when a C compiler
# is there): the same two functions as ``record`` below and ``backward._loop``, with no per-op code.
# AUTODIFF_PURE_PYTHON=1 runs the Python ones.
_engine = None
if not os.environ.get("AUTODIFF_PURE_PYTHON"):
    try:
        from . import _engine
    except ImportError:
        pass
ENGINE = "compiled" if _engine is not None else "python"


def _all_visible(node):
    """The Python recorder leaves every node visible to the cycle collector: nothing to do."""


# track(node): make a recorded node (with its ctx and edges) visible to Python's cycle collector
# again. The compiled recorder keeps nodes that cannot be part of a reference cycle out of the
# collector (see autodiff/engine_c/visible.c); the places that can link a graph back to
# something newer (a hook or retain_grad on a node, a gradient with a graph in .grad) call this.
track = _all_visible if _engine is None else _engine.track

_grad_enabled = grad_mode._grad_enabled
_scope = grad_mode._scope
_tracing = grad_mode._tracing
_ndarray = np.ndarray


class FunctionCtx:
    """What an op's ``forward`` and ``backward`` share: the op author's side of a recorded call.

    The API: ``save_for_backward(*arrays)``, ``saved_tensors``, ``needs_input_grad`` (one bool per
    positional input) and any free attribute (``ctx.axis = 1``). The engine's own fields (graph
    links, shapes, scheduling) live on the ``graph.Node`` that holds this ctx, never here; the
    underscore slots below are the bookkeeping behind ``saved_tensors``: per saved value, the input
    (``_in_pos``, ``_in_versions``: position and version counter, aligned with the saved values) or
    the output (``_saved_outputs``: saved index -> output index; ``_out_versions``) it is the array
    of. The ctx keeps no Tensor: a graph holds arrays and counters, never the tensors it was built
    from (as PyTorch's saved variables), so the tensors of a long chain are freed as it goes.
    """

    __slots__ = ("needs_input_grad", "_saved", "_in_pos", "_in_versions", "_saved_outputs", "_out_versions",
                 "_epoch", "_node", "__dict__")

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._node = None  # set by backward while a create_graph pass runs this op's backward

    def save_for_backward(self, *arrays):
        """Keep arrays for ``backward`` (inputs, outputs or temporaries)."""
        self._saved = arrays

    @property
    def saved_tensors(self):
        """The saved arrays, checked against in-place modification since they were saved.

        Under ``create_graph=True`` they come back as Tensors: an input's own Tensor, an output
        connected to this op's node, or a constant Tensor.
        """
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                "trying to backward through the graph a second time (or to read saved values after "
                "they were freed). Saved arrays are released after backward; pass retain_graph=True "
                "to the first backward() if you need to backward twice.")
        if saved and clock[0] != self._epoch:  # something was modified in place since this op ran
            self._check_versions()
        if self._node is not None:
            return tuple(self._as_tensor(i, src) for i, src in enumerate(self.saved_sources()))
        return saved

    @property
    def freed(self):
        return self._saved is None

    def release(self):
        """Drop the saved arrays (after a backward without ``retain_graph``)."""
        self._saved = None

    def saved_sources(self):
        """Per saved array: ``("out", k)``, ``("in", k)`` (input ``k``'s data) or ``("const", None)``."""
        if not self._saved:
            return ()
        src = []
        for i in range(len(self._saved)):
            k = None if self._saved_outputs is None else self._saved_outputs.get(i)
            if k is not None:
                src.append(("out", k))
            elif self._in_pos is not None and self._in_pos[i] is not None:
                src.append(("in", self._in_pos[i]))
            else:
                src.append(("const", None))
        return src

    def _note_saved(self, args, outs, results):
        """At record time: which saved arrays are outputs (the node keeps no outputs), and the clock."""
        self._epoch = clock[0]
        Tensor = tensors.Tensor
        pos = versions = None
        for i, s in enumerate(self._saved):
            for j, a in enumerate(args):
                if isinstance(a, Tensor) and a.data is s:
                    if pos is None:
                        pos, versions = [None] * len(self._saved), [None] * len(self._saved)
                    pos[i], versions[i] = j, a._version
                    break
        self._in_pos = None if pos is None else tuple(pos)
        self._in_versions = None if versions is None else tuple(versions)
        found = boxes = None
        k = 0
        for o in outs:
            i = 0
            for s in self._saved:
                if s is o:
                    if found is None:
                        found, boxes = {}, {}
                    found[i] = k
                    boxes[k] = results[k]._version
                i += 1
            k += 1
        self._saved_outputs = found
        self._out_versions = boxes

    def _check_versions(self):
        """Raise if a saved input or output was modified in place after this op was recorded."""
        for i, (kind, k) in enumerate(self.saved_sources()):
            if kind == "in":
                box = self._in_versions[i]
            elif kind == "out":
                box = self._out_versions[k]
            else:
                continue
            if box is not None and box.epoch > self._epoch:
                raise RuntimeError(
                    f"one of the values needed for gradient computation (saved value {i}) has been "
                    f"modified by an in-place operation: it is at version {box[0]}, newer than when it "
                    "was saved. Compute a copy before modifying it in place.")

    def _as_tensor(self, i, src):
        kind, k = src
        arr = self._saved[i]
        Tensor = tensors.Tensor
        if kind == "in":  # the input as the graph has it: the leaf itself, or its producer's output
            edge = self._node.next[k]
            if edge is None:
                return Tensor._make(arr, None, 0, False, self._in_versions[i])
            if type(edge) is tuple:
                return Tensor._make(arr, edge[0], edge[1], True, self._in_versions[i])
            if type(edge) is Node:
                return Tensor._make(arr, edge, 0, True, self._in_versions[i])
            return edge
        if kind == "out":
            return Tensor._make(arr, self._node, k, True, self._out_versions[k])
        return Tensor(arr) if isinstance(arr, _ndarray) else arr


def record(cls, *args, **kwargs):
    """Run Function ``cls`` on Tensors (and plain values) and record it in the graph when needed.

    This is the one recorder (``Function.apply``): every op of the engine, and every user-written
    Function, is recorded here, in three steps: unwrap the inputs, run ``forward``, link the outputs
    to the inputs through one Node. ``autodiff/_engine.c`` is this same function compiled, used when
    it is built (see ``ENGINE``).
    """
    Tensor = tensors.Tensor
    # 1. unwrap: arrays for forward; which inputs need a gradient
    arrays = []
    needs = []
    wants_grad = False
    for a in args:
        if isinstance(a, Tensor):
            arrays.append(a.data)
            if a._requires_grad:
                wants_grad = True
                needs.append(True)
            else:
                needs.append(False)
        else:
            arrays.append(a)
            needs.append(False)
    if wants_grad and not _grad_enabled.get():
        wants_grad = False
    needs = tuple(needs) if wants_grad else _no_grads(len(args))
    trace = _tracing.get()

    # 2. forward, on arrays
    ctx = FunctionCtx(needs)
    try:
        out = cls.forward(ctx, *arrays, **kwargs) if kwargs else cls.forward(ctx, *arrays)
    except ValueError as e:
        raise _shape_error(cls.name, e, args) from None
    multi = type(out) is tuple
    if multi:
        raw = out  # as forward returned them: saved arrays are matched by identity
        outs = tuple(o if type(o) is _ndarray else np.asarray(o) for o in out)
    else:
        raw = (out,)
        outs = (out if type(out) is _ndarray else np.asarray(out),)
    make = Tensor._make
    if not (wants_grad or trace):
        result = tuple(make(o) for o in outs) if multi else make(outs[0])
        if cls.returns_view:
            _share_version_if_view(result, args[0], cls, args[1:], kwargs)
        return result

    # 3. record: one Node, its edges to the inputs' producers (or leaves), the outputs pointing at it
    edges = []
    meta = []
    k = 0
    for a in args:
        if needs[k]:
            d = a.data
            producer = a._node
            if producer is None:
                edges.append(a)  # a leaf: its gradient accumulates into .grad
                meta.append((d.shape, d.dtype))
            else:
                producer.uses += 1
                idx = a._out_idx
                edges.append(producer if idx == 0 else (producer, idx))
                # the producer's record of this output describes the input: share the tuple
                # (fewer objects alive per op, less work for Python's garbage collector)
                m = producer.output_meta[idx]
                meta.append(m if m[1] is d.dtype and m[0] == d.shape else (d.shape, d.dtype))
        else:
            edges.append(None)
            meta.append(None)
        k += 1
    if multi:
        out_meta = tuple((o.shape, o.dtype) for o in outs)
    else:
        o = outs[0]
        out_meta = ((o.shape, o.dtype),)
        for m in meta:  # an elementwise op's output is described like its input: share it
            if m is not None and m[1] is o.dtype and m[0] == o.shape:
                out_meta = (m,)
                break
    node = Node(cls, ctx, tuple(edges), tuple(meta), out_meta, _scope.get())
    if trace:
        node.inputs, node.kwargs = args, kwargs
    if multi:
        result = results = tuple(make(o, node, i, wants_grad) for i, o in enumerate(outs))
    else:
        result = make(outs[0], node, 0, wants_grad)
        results = (result,)
    if ctx._saved:
        ctx._note_saved(args, raw, results)
    if cls.returns_view:
        _share_version_if_view(result, args[0], cls, args[1:], kwargs)
    return result


class Function:
    """Base class of every differentiable op. Subclass it and define static ``forward``/``backward``.

    Class attributes:
        name: label of the op in errors and pictures (default: the class name in lower case).
        once_differentiable: True for ops whose backward works on arrays only (e.g. Numba kernels);
            a ``create_graph=True`` backward through them raises a clear error.
        exact_grad_shapes: True for built-in ops whose backward always returns each gradient with
            exactly its input's shape (tested with gradcheck over broadcasting shapes): the engine
            then skips its own shape check. Otherwise the engine compares each gradient with its
            input's shape: a gradient of a shape the input broadcasts to is summed back to the
            input's shape (as PyTorch's engine does; Add, Sub and Mul rely on it), any other shape
            is an error naming the op.
        returns_view: True for ops whose output may be a view of their first argument's array
            (reshape, transpose, broadcast_to, basic indexing). When it is one, the output Tensor
            shares the version counter of that argument, as a PyTorch view does: an in-place change
            through either is seen by ops that saved the other.
    """

    name = None
    once_differentiable = False
    exact_grad_shapes = False
    returns_view = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name") is None:
            cls.name = cls.__name__.lower()

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise TypeError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx, *grads):
        raise TypeError("a Function subclass must define backward(ctx, *grads)")

    # the compiled recorder's classmethod keeps one bound method per class (no object per call)
    apply = classmethod(record) if _engine is None else _engine.cached_classmethod(_engine.apply)


_NO_GRADS = [(False,) * n for n in range(8)]


def _no_grads(n):
    return _NO_GRADS[n] if n < 8 else (False,) * n


def _share_version_if_view(result, source, fn, rest, kwargs):
    """Give ``result`` the version counter of ``source`` when its array is a view of ``source``'s.

    numpy points a view's ``base`` at the array that owns the memory (or at the foreign buffer
    object), never at an intermediate view, so comparing with ``source``'s array and its base is
    exact. A copy (advanced indexing, reshaping a non-contiguous array) keeps its own counter. A view
    also remembers the tensor that owns the memory (``_base``, as in PyTorch; a view of a view points
    at the first tensor) and the ops that lead from it to the view (``_view_steps``: ``(fn, args,
    kwargs)`` each), so a recorded in-place change of the view can be carried into the base's graph
    (``Tensor._propagate_to_base``).
    """
    if not isinstance(source, tensors.Tensor) or type(result) is tuple:
        return
    base = result.data.base
    if base is not None and (base is source.data or base is source.data.base):
        result._vbox = source._version
        owner = getattr(source, "_base", None)
        step = ((fn, rest, kwargs),)
        if owner is None:
            result._base, result._view_steps = source, step
        else:
            result._base, result._view_steps = owner, source._view_steps + step


def view_indices(shape, steps):
    """For each element of a view, the flat index of the base element it shows (replays ``steps``)."""
    idx = np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape)
    for fn, rest, kwargs in steps:
        idx = np.asarray(fn.forward(FunctionCtx(()), idx, *rest, **kwargs))
    return idx


def _shape_error(name, exc, args):
    """A ValueError from an op's forward as a ShapeError (a RuntimeError too, as PyTorch raises) that
    names the op, and the input shapes when the message is about shapes."""
    if isinstance(exc, ShapeError):
        return exc
    msg = str(exc)
    if not msg.startswith(f"{name}:"):
        if "broadcast" in msg or "mismatch" in msg or "shape" in msg or "aligned" in msg:
            shapes = ", ".join(str(tuple(np.shape(a.data if hasattr(a, "data") else a))) for a in args)
            msg = f"{name}: incompatible shapes {shapes}: {msg}"
        else:
            msg = f"{name}: {msg}"
    return ShapeError(msg)
