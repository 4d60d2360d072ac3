"""The graph node that ``backward`` visits, and the version counters that guard saved values.

A ``Node`` is the engine's record of one op call: which Function ran, the ``ctx`` its forward filled
(see ``function.FunctionCtx``), where each input's gradient goes, and the shapes and dtypes of its
inputs and outputs. The op author never sees a Node; the engine never stores its bookkeeping on ctx.
"""
import itertools

__all__ = ["Node", "VersionBox", "next_seq"]

# creation order of recorded nodes: a consumer always has a larger number than its inputs' producers
next_seq = itertools.count().__next__

# The version clock: ticks at every in-place change of any tensor (a one-element list, read without a
# call). An op whose saved values were recorded at the current reading needs no version check.
clock = [0]


class VersionBox(list):
    """A tensor's version counter ``[n]``, shared with its detached copies and its views.

    In-place changes do ``t._version[0] += 1``; the assignment also ticks the global clock and stamps
    the box with the new reading (``epoch``), so an op can tell whether a saved value changed after it
    was recorded without keeping a version number per saved array. Made by ``Tensor._version`` as
    ``VersionBox((0,))`` with ``epoch = 0`` (list's own constructor: one is made for every tensor an
    op saves, so no Python ``__init__`` runs).
    """

    __slots__ = ("epoch",)

    def __setitem__(self, i, v):
        list.__setitem__(self, i, v)
        clock[0] += 1
        self.epoch = clock[0]


class Node:
    """One recorded op call (a tensor's ``grad_fn``).

    Attributes:
        fn: the Function subclass; ``name`` is its label (``"mul"``) in errors and pictures.
        ctx: the ``FunctionCtx`` that the op's forward filled and its backward reads.
        next: one entry per positional input: ``None`` (no gradient flows there), a leaf Tensor
            (gradient accumulates into its ``.grad``), the Node that produced the input as its
            output 0, or ``(node, output_index)`` for another output (no pair is kept for the usual
            single output: a graph holds thousands of edges, each an object the garbage collector
            walks). ``next_functions`` gives every edge as a pair.
        input_meta: ``(shape, dtype)`` per input that gets a gradient (else ``None``).
        output_meta: ``(shape, dtype)`` per output.
        scope: dotted scope name the op was recorded in (see ``autodiff.scope``).
        seq: creation number (consumers are newer than their inputs' producers).
        uses: how many recorded edges point at this node. ``backward`` schedules with ``seq`` and ``uses``.
        tensor_hooks: ``{output_index: [hook, ...]}`` from ``Tensor.register_hook`` (or None).
        retained: ``{output_index: weakref to Tensor}`` from ``Tensor.retain_grad`` (or None).
        inputs, kwargs: the op's arguments, kept only inside ``autodiff.tracing()`` (else None).
    """

    __slots__ = ("fn", "ctx", "next", "input_meta", "output_meta", "scope", "seq", "uses",
                 "__dict__", "__weakref__")

    # rarely set: class defaults, an instance stores its own value (in its __dict__) only when set
    tensor_hooks = retained = inputs = kwargs = None

    def __init__(self, fn, ctx, next, input_meta, output_meta, scope):
        self.fn = fn
        self.ctx = ctx
        self.next = next
        self.input_meta = input_meta
        self.output_meta = output_meta
        self.scope = scope
        self.seq = next_seq()
        self.uses = 0

    @property
    def name(self):
        return self.fn.name

    @property
    def next_functions(self):
        """Like PyTorch: a tuple of ``(node_or_leaf_or_None, output_index)`` per input."""
        return tuple((None, 0) if e is None else e if type(e) is tuple else (e, 0) for e in self.next)

    @property
    def freed(self):
        """True once a backward without ``retain_graph`` released the saved values."""
        return self.ctx.freed

    def __repr__(self):
        return f"<{self.name}>"
