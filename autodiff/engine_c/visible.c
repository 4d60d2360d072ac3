/* ---- what the cycle collector walks ---------------------------------------------------------
 * A recorded graph holds a Node, a FunctionCtx and a few tuples per op. Like PyTorch's C++ graph,
 * they are kept out of Python's cycle collector when they cannot be part of a reference cycle: with
 * them in, every collection of a growing graph walks all of them (a third of the time of a chain of
 * small ops). A node refers to its ctx, to older nodes and to leaf tensors; its ctx keeps arrays,
 * numbers and version counters, never the tensors it was called with. A cycle through it needs a
 * reference to something newer, and that appears only when
 *   - the op keeps (in ctx attributes or saved values) an object other than a Tensor, an array, a
 *     number or a tuple of such: the node stays visible (hidden_ok);
 *   - a hook or retain_grad is attached to a node, or a gradient with a graph is stored in a leaf's
 *     .grad: those places call function.track(node), which makes the node visible again (show);
 *   - a create_graph backward runs: it shows every node it runs and records visibly (keep_visible).
 * Left out, as in PyTorch: a hook on a leaf, or a ctx attribute set after the op ran, that refers to
 * a tensor computed from that leaf or op (such a cycle is freed only when broken by hand).
 * The Python recorder leaves everything visible. */
static int keep_visible = 0;

static int
atomic(PyObject *o, int depth)
{
    if (!PyObject_IS_GC(o) || !PyObject_GC_IsTracked(o) || PyObject_TypeCheck(o, TensorT))
        return 1;
    if (depth > 4)
        return 0;
    if (PyTuple_CheckExact(o)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(o); i++)
            if (!atomic(PyTuple_GET_ITEM(o, i), depth + 1))
                return 0;
        return 1;
    }
    if (PySlice_Check(o)) {
        PySliceObject *s = (PySliceObject *)o;
        return atomic(s->start, depth + 1) && atomic(s->stop, depth + 1) && atomic(s->step, depth + 1);
    }
    return 0;
}

/* Whether nothing the op kept can lead back to its node (see above). */
static int
hidden_ok(PyObject *ctx)
{
    PyObject *saved = get(ctx, C_saved);
    if (saved != NULL && !atomic(saved, 0))
        return 0;
    PyObject **dp = _PyObject_GetDictPtr(ctx);
    if (dp != NULL && *dp != NULL) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(*dp, &pos, &key, &value))
            if (!atomic(value, 0))
                return 0;
    }
    return 1;
}

static void
set_visible(PyObject *o, int visible)
{
    int tracked = PyObject_GC_IsTracked(o);
    if (visible && !tracked)
        PyObject_GC_Track(o);
    else if (!visible && tracked)
        PyObject_GC_UnTrack(o);
}

/* Hide or show the objects of one node: the node, its ctx, its edge tuples. */
static void
visibility(PyObject *node, int visible)
{
    set_visible(node, visible);
    PyObject *ctx = get(node, N_ctx), *edges = get(node, N_next);
    if (ctx != NULL && Py_TYPE(ctx) == CtxT)
        set_visible(ctx, visible);
    if (edges != NULL && PyTuple_CheckExact(edges)) {
        set_visible(edges, visible);
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(edges); k++)
            if (PyTuple_CheckExact(PyTuple_GET_ITEM(edges, k)))
                set_visible(PyTuple_GET_ITEM(edges, k), visible);
    }
}

static PyObject *
engine_track(PyObject *module, PyObject *node)
{
    if (!ready && setup() < 0)
        return NULL;
    if (Py_TYPE(node) == NodeT)
        visibility(node, 1);
    Py_RETURN_NONE;
}
