"""Function (one class per op) and Node (the graph node, which is also the op's ``ctx``).

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

``apply`` unwraps Tensors, runs ``forward`` and, when grad mode is on and an input requires grad,
records a ``Node`` that links the outputs to the inputs. During ``backward`` the node's ``backward`` gets
numpy arrays; under ``create_graph=True`` it gets Tensors instead (saved arrays that were an input's or an
output's data come back as that Tensor, connected to the graph), so the same code records the backward
pass itself and gradients of gradients work.
"""
import itertools
import os

import numpy as np

from . import mode

_grad_enabled = mode._grad_enabled
_scope = mode._scope


class Node:
    """A recorded op: the ``ctx`` of its Function, and the graph node ``backward`` visits.

    Attributes:
        fn: the Function subclass.
        name: short op label (e.g. ``"mul"``), used in errors and pictures (``fn.name``).
        edges: one entry per positional input: ``None`` (no gradient flows there), a leaf Tensor
            (gradient accumulates into its ``.grad``) or ``(node, output_index)``. Built on request
            from ``_next``, the compact form the engine keeps and walks: there an input made by
            output 0 of a node is that Node itself (no tuple per edge), other outputs ``(node, k)``.
        input_meta: ``(shape, dtype)`` per input that gets a gradient (else ``None``).
        output_meta: ``(shape, dtype)`` per output.
        needs_input_grad: tuple of bools, one per positional input.
        scope: dotted scope name the op was recorded in (see ``autodiff.scope``).
        _seq: creation number (consumers are newer than their inputs' producers); ``_uses``: how
            many recorded edges point at this node. ``backward`` schedules with both.

    The engine's own attributes live in ``__slots__`` (a slot write costs a fraction of a dict
    write, and a node is made for every op); an op's ``forward`` may still set any other attribute
    on ``ctx`` (those go to the instance ``__dict__``, created on first use).
    """

    __slots__ = ("fn", "_next", "input_meta", "output_meta", "needs_input_grad", "scope", "_saved",
                 "_seq", "_uses",
                 "_epoch", "_out_saved", "_out_pos", "_output_versions",
                 "_inputs_for_graph", "__dict__", "__weakref__")

    # rarely set (hooks, retain_grad, a create_graph pass): class defaults, an instance stores its own
    # value in its __dict__ only when it differs
    _as_tensors = False
    _tensor_hooks = None
    _retained = None

    def __init__(self, fn):
        # what may be read before _finish fills the graph attributes (_next, input_meta, output_meta,
        # scope); _epoch, _inputs_for_graph and the _out_* slots are set only when something was
        # saved (readers check ``_saved`` first)
        self.fn = fn
        self.needs_input_grad = self._saved = ()

    @property
    def name(self):
        return self.fn.name

    @property
    def edges(self):
        return tuple((e, 0) if type(e) is Node else e for e in self._next)

    # --- ctx API -------------------------------------------------------------------------------------
    def save_for_backward(self, *arrays):
        """Keep arrays for ``backward`` (inputs, outputs or temporaries)."""
        self._saved = arrays

    @property
    def saved_tensors(self):
        """The saved arrays, checked against in-place modification since they were saved."""
        saved = self._saved
        if saved is None:  # released by a backward without retain_graph
            raise RuntimeError(
                f"{self.name}: trying to backward through the graph a second time (or to read saved "
                "values after they were freed). Saved arrays are released after backward; pass "
                "retain_graph=True to the first backward() if you need to backward twice.")
        if saved:
            if _clock[0] != self._epoch:  # something was modified in place since this op ran
                self._check_versions()
            if self._as_tensors:
                src = self._saved_src
                return tuple(self._saved_as_tensor(i, src) for i in range(len(saved)))
        return saved

    def _check_versions(self):
        """Raise if a saved input or output was modified in place after this op was recorded."""
        for i, (kind, k) in enumerate(self._saved_src):
            if kind == "in":
                box = self._inputs_for_graph[k]._vbox
            elif kind == "out":
                box = self._output_versions[k]
            else:
                continue
            if box is not None and box.epoch > self._epoch:
                raise RuntimeError(
                    f"{self.name}: one of the values needed for gradient computation (saved value "
                    f"{i}) has been modified by an in-place operation: it is at version {box[0]}, "
                    "newer than when it was saved. Compute a copy before modifying it in place.")

    @property
    def _saved_src(self):
        """Per saved array: ``("out", k)``, ``("in", k)`` (an input Tensor's data) or ``("const", None)``.

        Worked out when asked (version errors, create_graph, pictures) from what ``_note_saved``
        recorded, so the forward pass does not build these tuples for every op.
        """
        if not self._saved or self._inputs_for_graph is None:
            return ()
        args, out_saved = self._inputs_for_graph, self._out_saved
        src = []
        for i, s in enumerate(self._saved):
            if out_saved >> i & 1:
                src.append(("out", 0 if self._out_pos is None else self._out_pos[i]))
                continue
            for k, a in enumerate(args):
                if isinstance(a, Tensor) and a.data is s:
                    src.append(("in", k))
                    break
            else:
                src.append(("const", None))
        return src

    def _saved_as_tensor(self, i, src):
        kind, k = src[i]
        arr = self._saved[i]
        if kind == "in":
            return self._inputs_for_graph[k]
        if kind == "out":
            return Tensor._make(arr, self, k, self._output_versions[k])
        if isinstance(arr, np.ndarray):
            return Tensor(arr)
        return arr

    def release(self):
        """Drop saved arrays (after a backward without ``retain_graph``; inlined in backward._run_plain)."""
        if self._saved:
            self._inputs_for_graph = None
        self._saved = None  # marks the node as freed

    def __repr__(self):
        return f"<{self.name}>"

    @property
    def next_functions(self):
        """Like PyTorch: a tuple of ``(node_or_leaf_or_None, output_index)`` per input."""
        out = []
        for e in self.edges:
            if e is None or isinstance(e, tuple):
                out.append(e if e is not None else (None, 0))
            else:
                out.append((e, 0))
        return tuple(out)


class Function:
    """Base class of every differentiable op. Subclass it and define static ``forward``/``backward``.

    Class attributes:
        name: label of the op in errors and pictures (default: the class name in lower case).
        once_differentiable: True for ops whose backward works on arrays only (e.g. Numba kernels);
            a ``create_graph=True`` backward through them raises a clear error.
        exact_grad_shapes: True for built-in ops whose backward always returns each gradient with
            exactly its input's shape (tested with gradcheck over broadcasting shapes): the engine
            then skips its own shape check of their gradients (a check that guards custom ops).
        returns_view: True for ops whose output may be a view of their first argument's array
            (reshape, transpose, broadcast_to, basic indexing). When it is one, the output Tensor
            shares the version counter of that argument, as a PyTorch view does: an in-place change
            through either is seen by ops that saved the other.
        ufunc, saves_inputs: for binary elementwise ops whose ``forward`` is exactly ``ufunc(a, b)``
            (and, with ``saves_inputs``, ``ctx.save_for_backward(a, b)`` first): their Tensor
            operator is then recorded by the C accelerator when it is built (``autodiff/_fastop.c``;
            ``tests/autodiff/test_fastop.py`` checks it records what the Python operator records).
    """

    name = None
    once_differentiable = False
    exact_grad_shapes = False
    returns_view = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__ or cls.__dict__["name"] is None:
            cls.name = cls.__name__.lower()

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("Function subclasses define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - abstract
        raise NotImplementedError("Function subclasses define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on Tensors (and plain values) and record it in the graph when needed."""
        record = False
        arrays = []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a._requires_grad:
                    record = True
            else:
                arrays.append(a)
        if record and not _grad_enabled.get():
            record = False
        ctx = Node(cls)
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except ValueError as e:
            raise _shape_error(cls.name, e, args) from None
        if not record:
            if type(out) is tuple:
                result = tuple(Tensor._wrap(o) for o in out)
            else:
                result = Tensor._wrap(out)
        else:
            result = _record(ctx, args, out)
        if cls.returns_view:
            _share_version_if_view(result, args[0], cls, args[1:], kwargs)
        return result


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
    if not isinstance(source, Tensor) or type(result) is tuple:
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
        idx = np.asarray(fn.forward(Node(fn), idx, *rest, **kwargs))
    return idx


Tensor = None  # set by autodiff.tensor (avoids an import cycle and a per-call import)


def _shape_error(name, exc, args):
    msg = str(exc)
    if msg.startswith(f"{name}:"):
        return exc
    if "broadcast" in msg or "mismatch" in msg or "shape" in msg or "aligned" in msg:
        shapes = ", ".join(str(tuple(np.shape(a.data if hasattr(a, "data") else a))) for a in args)
        return ValueError(f"{name}: incompatible shapes {shapes}: {msg}")
    return ValueError(f"{name}: {msg}")


def binary_operator(fn):
    """The function ``op(a, b)`` = ``fn.apply(a, b)``, unrolled for two positional arguments.

    Tensor's arithmetic operators are these functions (``Tensor.__mul__ = binary_operator(Mul)``):
    no call layer in between, no argument loops or lists, the Node and the output Tensor built in
    place (the per-op overhead of a chain of small ops), and exactly the same graph as ``fn.apply``
    records.
    """
    name = fn.name
    forward = fn.forward

    def op(a, b):
        if isinstance(a, Tensor):
            ad = a.data
            ra = a._requires_grad
        else:
            ad = a
            ra = False
        if isinstance(b, Tensor):
            bd = b.data
            rb = b._requires_grad
        else:
            bd = b
            rb = False
        ctx = _new(Node)
        ctx.fn = fn
        ctx._saved = ()
        if not (ra or rb) or not _grad_enabled.get():
            ctx.needs_input_grad = _NONE2
            try:
                out = forward(ctx, ad, bd)
            except ValueError as e:
                raise _shape_error(name, e, (a, b)) from None
            if type(out) is tuple:
                return tuple(Tensor._wrap(o) for o in out)
            return Tensor._wrap(out)
        # edges and input metadata as in _record (see there), known before forward runs
        # (an input made by a node is described by that node's output metadata, shared)
        if ra:
            ea = pa = a._node
            if ea is None:
                ea = a
                ma = (ad.shape, ad.dtype)
            else:
                idx = a._out_idx
                ma = ea.output_meta[idx]
                if idx:
                    ea = (ea, idx)
        else:
            ea = ma = pa = None
        if rb:
            eb = pb = b._node
            if eb is None:
                eb = b
                mb = (bd.shape, bd.dtype)
            else:
                idx = b._out_idx
                mb = eb.output_meta[idx]
                if idx:
                    eb = (eb, idx)
        else:
            eb = mb = pb = None
        ctx._seq = _next_seq()
        ctx._uses = 0
        ctx._next = edges = (ea, eb)
        ctx.input_meta = (ma, mb)
        ctx.needs_input_grad = (_BOTH if rb else _FIRST) if ra else _SECOND
        try:
            out = forward(ctx, ad, bd)
        except ValueError as e:
            raise _shape_error(name, e, (a, b)) from None
        if pa is not None:  # counted once the op exists (a failed op leaves its inputs as they were)
            pa._uses += 1
        if pb is not None:
            pb._uses += 1
        if type(out) is tuple:
            return _finish(ctx, edges, ctx.input_meta, ctx.needs_input_grad, (a, b), out)
        if type(out) is not ndarray:
            out = _asarray(out)
        # _finish for a single output, inlined (this is the hot path of every arithmetic operator)
        ctx.scope = _scope.get()
        # output metadata: the first input's producer's tuple when it describes out too (as
        # _single_output_meta does)
        om = ea.output_meta if type(ea) is Node else None
        if om is None or len(om) != 1 or om[0][1] is not out.dtype or om[0][0] != out.shape:
            om = _single_output_meta(out, edges)
        ctx.output_meta = om
        result = _new(Tensor)  # Tensor._make, inlined
        result.data = out
        result.grad = result._vbox = result._hooks = result.name = None
        result._node = ctx
        result._out_idx = 0
        result._requires_grad = True
        saved = ctx._saved
        if saved:
            ctx._epoch = _clock[0]
            ctx._inputs_for_graph = (a, b)
            out_saved = i = 0
            for s in saved:
                if s is out:
                    out_saved |= 1 << i
                i += 1
            ctx._out_saved = out_saved
            if out_saved:
                ctx._output_versions = [result._version]
                ctx._out_pos = None
        return result

    op.__name__ = op.__qualname__ = f"{fn.name}_operator"
    ufunc = fn.__dict__.get("ufunc")
    if _fastop is not None and ufunc is not None:
        # the same op, in C for the common case (see autodiff/_fastop.c); ``.python`` is ``op``
        return _fastop.BinaryOp(fn, ufunc, op, fn.__dict__.get("saves_inputs", False))
    return op


def _load_fastop():
    """The optional C accelerator (``binary_operator``'s recorded path and backward's plain loop), or
    None (no compiler at install time, or ``AUTODIFF_PURE_PYTHON=1`` in the environment): the engine is
    the same without it, only slower."""
    if os.environ.get("AUTODIFF_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _fastop as module
    except ImportError:
        return None
    return module


_fastop = _load_fastop()


def connect_fastop(tensor_class):
    """Give the C accelerator the classes and state it writes to (called once Tensor exists)."""
    if _fastop is not None:
        _fastop.setup(tensor_class, Node, np.ndarray, _grad_enabled, _scope, _clock, _next_seq,
                      np.asarray, _single_output_meta, _BOTH, _FIRST, _SECOND)


_new = object.__new__
# creation order of recorded nodes: a consumer always has a larger number than its inputs' producers
_next_seq = itertools.count().__next__
ndarray = np.ndarray
_asarray = np.asarray
_NONE2 = (False, False)
_BOTH, _FIRST, _SECOND = (True, True), (True, False), (False, True)
_ONE = (True,)


def apply_unary(fn, a):
    """``fn.apply(a)`` for one Tensor argument (Tensor's elementwise methods): no argument loops."""
    ad = a.data
    ctx = Node(fn)
    try:
        out = fn.forward(ctx, ad)
    except ValueError as e:
        raise _shape_error(fn.name, e, (a,)) from None
    if not a._requires_grad or not _grad_enabled.get():
        if type(out) is tuple:
            return tuple(Tensor._wrap(o) for o in out)
        return Tensor._wrap(out)
    node = a._node
    if node is None:
        e = a
        m = (ad.shape, ad.dtype)
    else:  # as in _record
        node._uses += 1
        idx = a._out_idx
        e = (node, idx) if idx else node
        m = node.output_meta[idx]
        if m[1] is not ad.dtype or m[0] != ad.shape:
            m = (ad.shape, ad.dtype)
    return _finish(ctx, (e,), (m,), _ONE, (a,), out)


def _record(ctx, args, out):
    """Link the outputs of ``ctx``'s op to its inputs (some input requires grad, grad mode is on)."""
    edges = []
    meta = []
    needs = []
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            d = a.data
            node = a._node
            if node is None:
                edges.append(a)
                meta.append((d.shape, d.dtype))
            else:
                node._uses += 1
                idx = a._out_idx
                edges.append((node, idx) if idx else node)  # compact edge, see Node.edges
                # the producer's output metadata describes this input: share the tuple (fewer
                # objects alive per op means less work for Python's garbage collector)
                m = node.output_meta[idx]
                if m[1] is not d.dtype or m[0] != d.shape:  # data replaced or cast in place since
                    m = (d.shape, d.dtype)
                meta.append(m)
            needs.append(True)
        else:
            edges.append(None)
            meta.append(None)
            needs.append(False)
    needs = tuple(needs)
    if len(needs) <= 4:  # share the few distinct patterns (one object less alive per op)
        needs = _NEEDS.setdefault(needs, needs)
    return _finish(ctx, tuple(edges), tuple(meta), needs, args, out)


_NEEDS = {}


def _finish(ctx, edges, meta, needs, args, out):
    """Fill the node's graph attributes and wrap the output array(s) as Tensors that point to it.

    Producers of the inputs already counted this node in their ``_uses`` (see backward's scheduling).
    """
    ctx._seq = _next_seq()
    ctx._uses = 0
    ctx._next = edges
    ctx.input_meta = meta
    ctx.needs_input_grad = needs
    ctx.scope = _scope.get()
    if type(out) is tuple:
        ctx.output_meta = tuple([(o.shape, o.dtype) for o in out])
        results = tuple([Tensor._make(o, ctx, i) for i, o in enumerate(out)])
        if ctx._saved:
            _note_saved(ctx, args, out, results)
        return results
    ctx.output_meta = _single_output_meta(out, edges)
    result = Tensor._make(out, ctx, 0)
    if ctx._saved:
        _note_saved(ctx, args, (out,), (result,))
    return result


def _single_output_meta(out, edges):
    """``((shape, dtype),)`` of ``out``: shared with an input's producer when it has the same one.

    Elementwise chains produce many outputs like their inputs; sharing the (immutable) tuple keeps
    three fewer objects alive per op.
    """
    shape = out.shape
    dtype = out.dtype
    for e in edges:
        if type(e) is Node or type(e) is tuple:
            om = (e if type(e) is Node else e[0]).output_meta
            if len(om) == 1:
                m = om[0]
                if m[1] is dtype and m[0] == shape:
                    return om
    return ((shape, dtype),)


def _note_saved(ctx, args, outs, results):
    """Remember what ``backward`` needs to check and rebuild the saved arrays, cheaply.

    In-place changes are detected with the version clock (see ``VersionBox``): the op keeps the
    clock's reading now, and at backward time a saved input or output whose box was modified after
    that reading is an error. Outputs are recognised now (by identity: ``_out_saved`` has bit ``i``
    when saved array ``i`` is an output) because the node does not keep its outputs; whether a saved
    array is an input's data is worked out later from ``_inputs_for_graph`` (see ``_saved_src``).
    """
    ctx._epoch = _clock[0]
    ctx._inputs_for_graph = args
    out_saved = 0
    out_boxes = out_pos = None
    i = 0
    for s in ctx._saved:
        k = 0
        for o in outs:
            if s is o:
                out_saved |= 1 << i
                if out_boxes is None:
                    out_boxes = [None] * len(outs)
                out_boxes[k] = results[k]._version
                if k:
                    if out_pos is None:
                        out_pos = {}
                    out_pos[i] = k
                break
            k += 1
        i += 1
    ctx._out_saved = out_saved
    ctx._output_versions = out_boxes
    ctx._out_pos = out_pos


# The version clock: ticks at every in-place change of any tensor (a single-element list, read
# without a call). A node whose saved values were recorded at the current reading needs no check.
_clock = [0]


class VersionBox(list):
    """A tensor's version counter ``[n]``, shared with its detached copies and its views.

    In-place changes do ``t._version[0] += 1``; the assignment also ticks the global clock and
    stamps the box with the new reading (``epoch``), so a Node can tell whether a saved value
    changed after it was recorded without keeping a version number per saved array.
    """

    __slots__ = ("epoch",)

    def __init__(self):
        super().__init__((0,))
        self.epoch = 0

    def __setitem__(self, i, v):
        list.__setitem__(self, i, v)
        _clock[0] += 1
        self.epoch = _clock[0]
