/* The engine's recorder and backward loop, compiled: `Function.apply` and `backward._loop`.
 *
 * This file knows no op. It does what autodiff/function.py's `record` and autodiff/backward.py's
 * `_loop` do, statement for statement, for every Function (built-in or user-written): unwrap the
 * arguments, call the class's own Python `forward(ctx, ...)`, record one graph.Node; in backward, pop
 * the newest ready node, call the class's own Python `backward(ctx, ...)`, route each gradient. The
 * rare branches (hooks, create_graph, errors, view bookkeeping) call the same Python helpers the pure
 * Python path calls, so they are written once.
 *
 * Objects are the Python classes' own: Tensor, FunctionCtx and Node instances whose `__slots__` are
 * read and written through the classes' slot descriptors (their PyMemberDef), exactly as attribute
 * access does. Without a C compiler, or with AUTODIFF_PURE_PYTHON=1, the package runs the Python
 * versions, which the test suite runs as well.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif

static int ready = 0, loop_ready = 0;
static PyTypeObject *TensorT, *CtxT, *NodeT, *NdarrayT, *VBoxT;
static PyObject *SeqIter;
static PyObject *GradVar, *ScopeVar, *TraceVar, *Clock, *NextSeq, *AsArray, *ShapeErrorFn, *ShareView,
    *NoGrads, *Empty;
static PyObject *HooksAndRetained, *CompleteGrads, *PadResult, *Send, *SumToShape, *OnceDiff, *HeapPop;
/* needs_input_grad tuples for up to NEEDS_MAX inputs, by bit pattern (they are immutable) */
#define NEEDS_MAX 4
#define SMALL 12
static PyObject *NeedsTable[NEEDS_MAX + 1][1 << NEEDS_MAX];
static PyObject *PosTable[2][256]; /* shared ctx._in_pos tuples, see note_saved */
static PyObject *S_forward, *S_backward, *S_name, *S_returns_view, *S_once, *S_exact, *S_shape, *S_dtype,
    *S_inputs, *S_kwargs, *S_tensor_hooks, *S_retained, *S_saved_tensors, *S_astype,
    *S_note_saved, *One, *Zero;

/* slots, from the classes' own slot descriptors */
static PyMemberDef *T_data, *T_grad, *T_req, *T_node, *T_idx, *T_vbox, *T_hooks, *T_name;
static PyMemberDef *C_needs, *C_saved, *C_in_pos, *C_in_versions, *C_saved_outputs, *C_out_versions, *C_epoch,
    *C_node, *V_epoch;
static PyMemberDef *N_fn, *N_ctx, *N_next, *N_imeta, *N_ometa, *N_scope, *N_seq, *N_uses;

/* a slot's value (borrowed; NULL when never set) and assignment, as the member descriptor does them */
static inline PyObject *
get(PyObject *o, PyMemberDef *m)
{
    return *(PyObject **)((char *)o + m->offset);
}

static inline void
set(PyObject *o, PyMemberDef *m, PyObject *v)
{
    PyObject **p = (PyObject **)((char *)o + m->offset);
    PyObject *old = *p;
    Py_XINCREF(v);
    *p = v;
    Py_XDECREF(old);
}

/* set and steal the reference */
static inline void
put(PyObject *o, PyMemberDef *m, PyObject *v)
{
    PyObject **p = (PyObject **)((char *)o + m->offset);
    PyObject *old = *p;
    *p = v;
    Py_XDECREF(old);
}

static PyMemberDef *
member(PyTypeObject *type, const char *name)
{
    PyObject *d = PyDict_GetItemString(type->tp_dict, name);
    if (d == NULL || Py_TYPE(d) != &PyMemberDescr_Type ||
        ((PyMemberDescrObject *)d)->d_member->type != Py_T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "_engine: %s.%s is not an object slot of that class", type->tp_name,
                     name);
        return NULL;
    }
    return ((PyMemberDescrObject *)d)->d_member;
}

static PyObject *
from(const char *module, const char *name)
{
    PyObject *m = PyImport_ImportModule(module);
    if (m == NULL)
        return NULL;
    PyObject *v = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return v; /* kept for the life of the interpreter */
}

#define NEED(x)          \
    if ((x) == NULL)     \
        return -1;

static int
setup(void)
{
    NEED(TensorT = (PyTypeObject *)from("autodiff.tensor", "Tensor"));
    NEED(CtxT = (PyTypeObject *)from("autodiff.function", "FunctionCtx"));
    NEED(ShapeErrorFn = from("autodiff.function", "_shape_error"));
    NEED(ShareView = from("autodiff.function", "_share_version_if_view"));
    NEED(NoGrads = from("autodiff.function", "_NO_GRADS"));
    NEED(NodeT = (PyTypeObject *)from("autodiff.graph", "Node"));
    NEED(VBoxT = (PyTypeObject *)from("autodiff.graph", "VersionBox"));
    NEED(Clock = from("autodiff.graph", "clock"));
    NEED(NextSeq = from("autodiff.graph", "next_seq"));
    /* next_seq is itertools.count().__next__: step the counter itself, without the call */
    SeqIter = PyObject_GetAttrString(NextSeq, "__self__");
    if (SeqIter == NULL)
        PyErr_Clear();
    else if (!PyIter_Check(SeqIter))
        Py_CLEAR(SeqIter);
    NEED(GradVar = from("autodiff.grad_mode", "_grad_enabled"));
    NEED(ScopeVar = from("autodiff.grad_mode", "_scope"));
    NEED(TraceVar = from("autodiff.grad_mode", "_tracing"));
    NEED(NdarrayT = (PyTypeObject *)from("numpy", "ndarray"));
    NEED(AsArray = from("numpy", "asarray"));
    if (!PyType_Check(TensorT) || !PyType_Check(CtxT) || !PyType_Check(NodeT) || !PyType_Check(VBoxT) || !PyType_Check(NdarrayT) ||
        !PyList_Check(Clock) || !PyList_Check(NoGrads) || !PyContextVar_CheckExact(GradVar) ||
        !PyContextVar_CheckExact(ScopeVar) || !PyContextVar_CheckExact(TraceVar)) {
        PyErr_SetString(PyExc_TypeError, "_engine: unexpected autodiff internals");
        return -1;
    }
    NEED(T_data = member(TensorT, "data"));
    NEED(T_grad = member(TensorT, "grad"));
    NEED(T_req = member(TensorT, "_requires_grad"));
    NEED(T_node = member(TensorT, "_node"));
    NEED(T_idx = member(TensorT, "_out_idx"));
    NEED(T_vbox = member(TensorT, "_vbox"));
    NEED(T_hooks = member(TensorT, "_hooks"));
    NEED(T_name = member(TensorT, "name"));
    NEED(C_needs = member(CtxT, "needs_input_grad"));
    NEED(C_saved = member(CtxT, "_saved"));
    NEED(C_in_pos = member(CtxT, "_in_pos"));
    NEED(C_in_versions = member(CtxT, "_in_versions"));
    NEED(C_saved_outputs = member(CtxT, "_saved_outputs"));
    NEED(C_out_versions = member(CtxT, "_out_versions"));
    NEED(C_epoch = member(CtxT, "_epoch"));
    NEED(C_node = member(CtxT, "_node"));
    NEED(N_fn = member(NodeT, "fn"));
    NEED(N_ctx = member(NodeT, "ctx"));
    NEED(N_next = member(NodeT, "next"));
    NEED(N_imeta = member(NodeT, "input_meta"));
    NEED(N_ometa = member(NodeT, "output_meta"));
    NEED(N_scope = member(NodeT, "scope"));
    NEED(N_seq = member(NodeT, "seq"));
    NEED(N_uses = member(NodeT, "uses"));
    NEED(V_epoch = member(VBoxT, "epoch"));
    NEED(Empty = PyTuple_New(0));
    NEED(One = PyLong_FromLong(1));
    NEED(Zero = PyLong_FromLong(0));
    for (int n = 0; n <= NEEDS_MAX; n++)
        for (int bits = 0; bits < (1 << n); bits++) {
            NEED(NeedsTable[n][bits] = PyTuple_New(n));
            for (int k = 0; k < n; k++)
                PyTuple_SET_ITEM(NeedsTable[n][bits], k, Py_NewRef(bits >> k & 1 ? Py_True : Py_False));
            PyObject_GC_UnTrack(NeedsTable[n][bits]);
        }
#define NAME(var, text) NEED(var = PyUnicode_InternFromString(text))
    NAME(S_forward, "forward");
    NAME(S_backward, "backward");
    NAME(S_name, "name");
    NAME(S_returns_view, "returns_view");
    NAME(S_once, "once_differentiable");
    NAME(S_exact, "exact_grad_shapes");
    NAME(S_shape, "shape");
    NAME(S_dtype, "dtype");
    NAME(S_inputs, "inputs");
    NAME(S_kwargs, "kwargs");
    NAME(S_tensor_hooks, "tensor_hooks");
    NAME(S_retained, "retained");
    NAME(S_saved_tensors, "saved_tensors");
    NAME(S_astype, "astype");
    NAME(S_note_saved, "_note_saved");
    ready = 1;
    return 0;
}

static int
loop_setup(void)
{
    NEED(HooksAndRetained = from("autodiff.backward", "_hooks_and_retained"));
    NEED(CompleteGrads = from("autodiff.backward", "_complete_grads"));
    NEED(PadResult = from("autodiff.backward", "_pad_result"));
    NEED(Send = from("autodiff.backward", "_send"));
    NEED(SumToShape = from("autodiff.backward", "_sum_to_shape"));
    NEED(OnceDiff = from("autodiff.backward", "_once_differentiable"));
    NEED(HeapPop = from("heapq", "heappop"));
    loop_ready = 1;
    return 0;
}

static int
var_true(PyObject *var)
{
    PyObject *v;
    if (PyContextVar_Get(var, NULL, &v) < 0)
        return -1;
    int r = v == Py_True ? 1 : v == Py_False || v == Py_None ? 0 : PyObject_IsTrue(v);
    Py_XDECREF(v);
    return r;
}

static int
attr_true(PyObject *o, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(o, name);
    if (v == NULL)
        return -1;
    int r = v == Py_True ? 1 : v == Py_False || v == Py_None ? 0 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

/* What the engine reads from a Function class at every call (forward, backward and three flags),
 * kept per class while the class is unchanged: CPython gives a type a new version tag whenever an
 * attribute of it or of a base class is set, so patching ``Mul.forward`` is seen at the next call. */
typedef struct {
    PyTypeObject *type; /* not owned: a new class at the same address has another tag */
    unsigned int tag;
    PyObject *forward, *backward;
    int view, exact, once;
} ClassInfo;

#define CLASS_CACHE 256
static ClassInfo class_cache[CLASS_CACHE];

static ClassInfo *
class_info(PyObject *cls)
{
    PyTypeObject *t = (PyTypeObject *)cls;
    ClassInfo *c = &class_cache[((uintptr_t)cls >> 4) % CLASS_CACHE];
    int valid = PyType_Check(cls) && (t->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG);
    if (valid && c->type == t && c->tag == t->tp_version_tag)
        return c;
    PyObject *fwd = PyObject_GetAttr(cls, S_forward);
    PyObject *bwd = fwd ? PyObject_GetAttr(cls, S_backward) : NULL;
    int view = bwd ? attr_true(cls, S_returns_view) : -1;
    int exact = view >= 0 ? attr_true(cls, S_exact) : -1;
    int once = exact >= 0 ? attr_true(cls, S_once) : -1;
    if (once < 0) {
        Py_XDECREF(fwd);
        Py_XDECREF(bwd);
        return NULL;
    }
    Py_XSETREF(c->forward, fwd);
    Py_XSETREF(c->backward, bwd);
    c->view = view;
    c->exact = exact;
    c->once = once;
    /* the lookups above gave the class a valid tag if it can have one; else nothing is cached */
    valid = PyType_Check(cls) && (t->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG);
    c->type = valid ? t : NULL;
    c->tag = valid ? t->tp_version_tag : 0;
    return c;
}

/* Tensor._make(data, node, idx, requires_grad): the slots Tensor._init sets, with the same values */
static PyObject *
make_tensor(PyObject *data, PyObject *node, Py_ssize_t idx, int requires_grad)
{
    PyObject *t = TensorT->tp_alloc(TensorT, 0);
    if (t == NULL)
        return NULL;
    PyObject *i = PyLong_FromSsize_t(idx);
    if (i == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    set(t, T_data, data);
    set(t, T_grad, Py_None);
    set(t, T_node, node);
    put(t, T_idx, i);
    set(t, T_req, requires_grad ? Py_True : Py_False);
    set(t, T_vbox, Py_None);
    set(t, T_hooks, Py_None);
    set(t, T_name, Py_None);
    return t;
}

/* Take a tuple of atoms (ints, dtypes, other untracked objects) out of the garbage collector's
 * lists, as the collector itself does on its first pass over it: it cannot be part of a cycle. The
 * graph keeps thousands of shape tuples alive, and each collection would walk them all. */
static void
untrack_atoms(PyObject *t)
{
    if (!PyTuple_CheckExact(t) || !PyObject_GC_IsTracked(t))
        return;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(t); i++) {
        PyObject *x = PyTuple_GET_ITEM(t, i);
        if (PyObject_IS_GC(x) && PyObject_GC_IsTracked(x))
            return;
    }
    PyObject_GC_UnTrack(t);
}

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

/* A tuple of the n items (references stolen), shared with an earlier node when it has the same
 * items: a chain of ops on one shape gives every node the same (record, None) input tuple and the
 * same (record,) output tuple, so most nodes allocate neither. Tuples of up to 3 items; the cache
 * keeps the last tuple per hash slot (and so its items) alive. NULL on error (items released). */
#define META_CACHE 64
static PyObject *MetaCache[4][META_CACHE];

static PyObject *
shared_tuple(PyObject **items, Py_ssize_t n)
{
    PyObject **slot = NULL;
    if (n >= 1 && n <= 3) {
        uintptr_t h = 0;
        for (Py_ssize_t i = 0; i < n; i++)
            h = h * 31 + ((uintptr_t)items[i] >> 4);
        slot = &MetaCache[n][h % META_CACHE];
        PyObject *t = *slot;
        int same = t != NULL;
        for (Py_ssize_t i = 0; same && i < n; i++)
            same = PyTuple_GET_ITEM(t, i) == items[i];
        if (same) {
            for (Py_ssize_t i = 0; i < n; i++)
                Py_DECREF(items[i]);
            return Py_NewRef(t);
        }
    }
    PyObject *t = PyTuple_New(n);
    if (t == NULL) {
        for (Py_ssize_t i = 0; i < n; i++)
            Py_DECREF(items[i]);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(t, i, items[i]);
    untrack_atoms(t);
    if (slot != NULL)
        Py_XSETREF(*slot, Py_NewRef(t));
    return t;
}

/* (a.shape, a.dtype) */
static PyObject *
meta_of(PyObject *a)
{
    PyObject *shape = PyObject_GetAttr(a, S_shape);
    if (shape == NULL)
        return NULL;
    untrack_atoms(shape);
    PyObject *dtype = PyObject_GetAttr(a, S_dtype);
    if (dtype == NULL) {
        Py_DECREF(shape);
        return NULL;
    }
    PyObject *m = PyTuple_Pack(2, shape, dtype);
    Py_DECREF(shape);
    Py_DECREF(dtype);
    if (m != NULL)
        untrack_atoms(m);
    return m;
}

/* m is (shape, dtype) describing array a: m[1] is a.dtype and m[0] == a.shape; -1 on error */
static int
describes(PyObject *m, PyObject *a)
{
    if (!PyTuple_CheckExact(m) || PyTuple_GET_SIZE(m) != 2)
        return 0;
    PyObject *dtype = PyObject_GetAttr(a, S_dtype);
    if (dtype == NULL)
        return -1;
    int same = PyTuple_GET_ITEM(m, 1) == dtype;
    Py_DECREF(dtype);
    if (!same)
        return 0;
    PyObject *shape = PyObject_GetAttr(a, S_shape);
    if (shape == NULL)
        return -1;
    int r = PyObject_RichCompareBool(PyTuple_GET_ITEM(m, 0), shape, Py_EQ);
    Py_DECREF(shape);
    return r;
}

static PyObject *
kwargs_dict(PyObject *kwnames, PyObject *const *kwvalues)
{
    PyObject *d = PyDict_New();
    if (d == NULL || kwnames == NULL)
        return d;
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(kwnames); j++)
        if (PyDict_SetItem(d, PyTuple_GET_ITEM(kwnames, j), kwvalues[j]) < 0) {
            Py_DECREF(d);
            return NULL;
        }
    return d;
}

/* function._share_version_if_view(result, args[0], cls, args[1:], kwargs) */
static int
share_view(PyObject *result, PyObject *cls, PyObject *args, PyObject *kwnames, PyObject *const *kwvalues)
{
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (n == 0)
        return 0;
    PyObject *rest = PyTuple_GetSlice(args, 1, n);
    if (rest == NULL)
        return -1;
    PyObject *kw = kwargs_dict(kwnames, kwvalues);
    if (kw == NULL) {
        Py_DECREF(rest);
        return -1;
    }
    PyObject *r = PyObject_CallFunctionObjArgs(ShareView, result, PyTuple_GET_ITEM(args, 0), cls, rest, kw, NULL);
    Py_DECREF(rest);
    Py_DECREF(kw);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Tensor._version: the tensor's version counter (a graph.VersionBox), made on first use. It holds
 * only numbers, so it is kept out of the cycle collector. New reference. */
static PyObject *
version_box(PyObject *t)
{
    PyObject *box = get(t, T_vbox);
    if (box != NULL && box != Py_None)
        return Py_NewRef(box);
    if ((box = VBoxT->tp_alloc(VBoxT, 0)) == NULL)
        return NULL;
    if (PyList_Append(box, Zero) < 0) { /* VersionBox.__init__: [0], epoch 0 */
        Py_DECREF(box);
        return NULL;
    }
    set(box, V_epoch, Zero);
    PyObject_GC_UnTrack(box);
    set(t, T_vbox, box);
    return box;
}

/* a new tuple of n borrowed objects */
static PyObject *
pack(PyObject *const *items, Py_ssize_t n)
{
    PyObject *t = PyTuple_New(n);
    if (t != NULL)
        for (Py_ssize_t k = 0; k < n; k++)
            PyTuple_SET_ITEM(t, k, Py_NewRef(items[k]));
    return t;
}

/* ctx._note_saved(args, raw, results) for the usual tuple of saved arrays: the n arguments, the nout
 * outputs as forward returned them and the nout result Tensors */
static int
note_saved(PyObject *ctx, PyObject *saved, PyObject *const *args, Py_ssize_t n, PyObject *const *raw,
           PyObject *const *results, Py_ssize_t nout)
{
    if (!PyTuple_CheckExact(saved)) {
        PyObject *a = pack(args, n), *w = a ? pack(raw, nout) : NULL, *t = w ? pack(results, nout) : NULL;
        PyObject *r = t ? PyObject_CallMethodObjArgs(ctx, S_note_saved, a, w, t, NULL) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(w);
        Py_XDECREF(t);
        Py_XDECREF(r);
        return r == NULL ? -1 : 0;
    }
    untrack_atoms(saved); /* usually arrays and numbers */
    PyObject *epoch = PyList_GetItem(Clock, 0);
    if (epoch == NULL)
        return -1;
    set(ctx, C_epoch, epoch);
    PyObject *found = NULL, *boxes = NULL, *pos = NULL, *versions = NULL;
    Py_ssize_t ns = PyTuple_GET_SIZE(saved);
    /* which saved values are an input Tensor's array: its position and version counter. The
     * positions are a tuple of small ints and None; the usual ones (up to 2 saved values, inputs
     * 0-14) are made once and shared */
    Py_ssize_t at_small[SMALL], *at = at_small; /* per saved value: the input position, or -1 */
    if (ns > SMALL && (at = PyMem_Malloc(sizeof(Py_ssize_t) * ns)) == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    int code = 0, shareable = ns <= 2;
    for (Py_ssize_t i = 0; i < ns; i++) {
        PyObject *s = PyTuple_GET_ITEM(saved, i);
        at[i] = -1;
        for (Py_ssize_t j = 0; j < n; j++) {
            PyObject *a = args[j];
            if (!PyObject_TypeCheck(a, TensorT) || get(a, T_data) != s)
                continue;
            if (versions == NULL) {
                if ((versions = PyTuple_New(ns)) == NULL)
                    goto fail_at;
                for (Py_ssize_t m = 0; m < ns; m++)
                    PyTuple_SET_ITEM(versions, m, Py_NewRef(Py_None));
            }
            PyObject *box = version_box(a);
            if (box == NULL)
                goto fail_at;
            Py_SETREF(PyTuple_GET_ITEM(versions, i), box);
            at[i] = j;
            if (j < 15)
                code |= (int)(j + 1) << (4 * i);
            else
                shareable = 0;
            break;
        }
    }
    if (versions != NULL) {
        untrack_atoms(versions);
        PyObject **shared = shareable ? &PosTable[ns - 1][code] : NULL;
        if (shared != NULL && *shared != NULL)
            pos = Py_NewRef(*shared);
        else {
            if ((pos = PyTuple_New(ns)) == NULL)
                goto fail_at;
            for (Py_ssize_t i = 0; i < ns; i++) {
                PyObject *ji = at[i] < 0 ? Py_NewRef(Py_None) : PyLong_FromSsize_t(at[i]);
                if (ji == NULL)
                    goto fail_at;
                PyTuple_SET_ITEM(pos, i, ji);
            }
            untrack_atoms(pos);
            if (shared != NULL)
                *shared = Py_NewRef(pos);
        }
    }
    if (at != at_small)
        PyMem_Free(at);
    put(ctx, C_in_pos, pos ? pos : Py_NewRef(Py_None));
    put(ctx, C_in_versions, versions ? versions : Py_NewRef(Py_None));
    pos = versions = NULL;
    for (Py_ssize_t k = 0; k < nout; k++) {
        PyObject *o = raw[k];
        for (Py_ssize_t i = 0; i < ns; i++) {
            if (PyTuple_GET_ITEM(saved, i) != o)
                continue;
            if (found == NULL) {
                found = PyDict_New();
                boxes = PyDict_New();
                if (found == NULL || boxes == NULL)
                    goto fail;
            }
            PyObject *ki = PyLong_FromSsize_t(k), *ii = PyLong_FromSsize_t(i);
            PyObject *box = version_box(results[k]);
            int bad = ki == NULL || ii == NULL || box == NULL || PyDict_SetItem(found, ii, ki) < 0 ||
                      PyDict_SetItem(boxes, ki, box) < 0;
            Py_XDECREF(ki);
            Py_XDECREF(ii);
            Py_XDECREF(box);
            if (bad)
                goto fail;
        }
    }
    put(ctx, C_saved_outputs, found ? found : Py_NewRef(Py_None));
    put(ctx, C_out_versions, boxes ? boxes : Py_NewRef(Py_None));
    return 0;
fail_at:
    if (at != at_small)
        PyMem_Free(at);
fail:
    Py_XDECREF(found);
    Py_XDECREF(boxes);
    Py_XDECREF(pos);
    Py_XDECREF(versions);
    return -1;
}

/* the ValueError that forward raised, as function._shape_error makes it (raise ... from None) */
static void
raise_shape_error(PyObject *cls, PyObject *args)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    PyObject *name = PyObject_GetAttr(cls, S_name);
    PyObject *exc = name ? PyObject_CallFunctionObjArgs(ShapeErrorFn, name, value, args, NULL) : NULL;
    Py_XDECREF(name);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    if (exc == NULL)
        return;
    PyException_SetCause(exc, NULL); /* from None */
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}


static PyObject *
engine_apply(PyObject *module, PyObject *const *argv, Py_ssize_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nall = PyVectorcall_NARGS(nargsf);
    if (nall < 1) {
        PyErr_SetString(PyExc_TypeError, "apply: the Function class is missing");
        return NULL;
    }
    if (!ready && setup() < 0)
        return NULL;
    PyObject *cls = argv[0];
    PyObject *const *args = argv + 1;
    Py_ssize_t n = nall - 1;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *const *kwvalues = argv + nall;

    PyObject *small[SMALL];
    char needs_small[SMALL];
    PyObject **stack = small;
    char *needf = needs_small;
    PyObject *result = NULL, *ctx = NULL, *fwd = NULL, *out = NULL, *needs = NULL, *argtuple = NULL, *edges = NULL,
             *meta = NULL, *out_meta = NULL, *node = NULL;
    PyObject *outs_small[SMALL], *results_small[SMALL];
    PyObject **outv = outs_small, **resv = results_small; /* the outputs as arrays, the result Tensors */
    PyObject *mitems_small[SMALL], **mitems = mitems_small; /* the inputs' (shape, dtype) records */
    Py_ssize_t nmeta = 0;                                   /* entries [0, nmeta) of mitems are set */
    Py_ssize_t nout = 0, filled = 0;                     /* entries [0, filled) of both are set */
    if (1 + n + nkw > SMALL || n > SMALL) {
        stack = PyMem_Malloc(sizeof(PyObject *) * (1 + n + nkw));
        needf = PyMem_Malloc(n + 1);
        if (stack == NULL || needf == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }

    /* 1. unwrap: arrays for forward; which inputs need a gradient */
    int wants_grad = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *a = args[k];
        needf[k] = 0;
        if (PyObject_TypeCheck(a, TensorT)) {
            PyObject *d = get(a, T_data), *rg = get(a, T_req);
            if (d == NULL || rg == NULL) {
                PyErr_SetString(PyExc_AttributeError, "apply: a Tensor argument is not initialised");
                goto done;
            }
            stack[1 + k] = d;
            if (rg == Py_True) {
                needf[k] = 1;
                wants_grad = 1;
            }
        }
        else
            stack[1 + k] = a;
    }
    for (Py_ssize_t j = 0; j < nkw; j++)
        stack[1 + n + j] = kwvalues[j];
    if (wants_grad) {
        int on = var_true(GradVar);
        if (on < 0)
            goto done;
        wants_grad = on;
    }
    if (wants_grad && n <= NEEDS_MAX) {
        int bits = 0;
        for (Py_ssize_t k = 0; k < n; k++)
            bits |= needf[k] << k;
        needs = Py_NewRef(NeedsTable[n][bits]);
    }
    else if (wants_grad) {
        if ((needs = PyTuple_New(n)) == NULL)
            goto done;
        for (Py_ssize_t k = 0; k < n; k++)
            PyTuple_SET_ITEM(needs, k, Py_NewRef(needf[k] ? Py_True : Py_False));
    }
    else if (n < PyList_GET_SIZE(NoGrads))
        needs = Py_NewRef(PyList_GET_ITEM(NoGrads, n));
    else {
        if ((needs = PyTuple_New(n)) == NULL)
            goto done;
        for (Py_ssize_t k = 0; k < n; k++)
            PyTuple_SET_ITEM(needs, k, Py_NewRef(Py_False));
    }
    int trace = var_true(TraceVar);
    if (trace < 0)
        goto done;

    /* 2. forward, on arrays */
    if ((ctx = CtxT->tp_alloc(CtxT, 0)) == NULL)
        goto done;
    set(ctx, C_needs, needs);
    set(ctx, C_saved, Empty);
    set(ctx, C_node, Py_None);
    stack[0] = ctx;
    ClassInfo *info = class_info(cls);
    if (info == NULL)
        goto done;
    fwd = Py_NewRef(info->forward);
    int view = info->view; /* read now: forward may run code that replaces the cache entry */
    out = PyObject_Vectorcall(fwd, stack, 1 + n, nkw ? kwnames : NULL);
    if (out == NULL) {
        if (PyErr_ExceptionMatches(PyExc_ValueError) && (argtuple = pack(args, n)) != NULL)
            raise_shape_error(cls, argtuple);
        goto done;
    }
    int multi = PyTuple_CheckExact(out);
    nout = multi ? PyTuple_GET_SIZE(out) : 1;
    /* the outputs as forward returned them (saved arrays are matched by identity), as arrays, and
     * the result Tensors: C arrays, no tuple for the usual single output */
    PyObject *const *raw = multi ? &PyTuple_GET_ITEM(out, 0) : (PyObject *const *)&out;
    if (nout > SMALL) {
        outv = PyMem_Calloc(nout, sizeof(PyObject *));
        resv = PyMem_Calloc(nout, sizeof(PyObject *));
        if (outv == NULL || resv == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < nout; i++) {
        PyObject *o = raw[i];
        o = Py_TYPE(o) == NdarrayT ? Py_NewRef(o) : PyObject_CallOneArg(AsArray, o);
        if (o == NULL)
            goto done;
        outv[i] = o;
        resv[i] = NULL;
        filled = i + 1;
    }
    if (!(wants_grad || trace)) {
        for (Py_ssize_t i = 0; i < nout; i++)
            if ((resv[i] = make_tensor(outv[i], Py_None, 0, 0)) == NULL)
                goto done;
        goto finish;
    }

    /* 3. record: one Node, its edges to the inputs' producers (or leaves), the outputs pointing at it */
    if ((edges = PyTuple_New(n)) == NULL)
        goto done;
    if (n > SMALL && (mitems = PyMem_Malloc(sizeof(PyObject *) * n)) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!needf[k] || !wants_grad) {
            PyTuple_SET_ITEM(edges, k, Py_NewRef(Py_None));
            mitems[nmeta++] = Py_NewRef(Py_None);
            continue;
        }
        PyObject *a = args[k], *d = get(a, T_data), *producer = get(a, T_node);
        if (producer == NULL || producer == Py_None) {
            PyObject *m = meta_of(d); /* a leaf: its gradient accumulates into .grad */
            if (m == NULL)
                goto done;
            PyTuple_SET_ITEM(edges, k, Py_NewRef(a));
            mitems[nmeta++] = m;
            continue;
        }
        PyObject *uses = get(producer, N_uses), *idx = get(a, T_idx);
        PyObject *more = uses ? PyNumber_Add(uses, One) : NULL;
        if (more == NULL || idx == NULL) {
            Py_XDECREF(more);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_AttributeError, "apply: an input's node is not initialised");
            goto done;
        }
        put(producer, N_uses, more);
        Py_ssize_t i = PyLong_AsSsize_t(idx);
        if (i == -1 && PyErr_Occurred())
            goto done;
        PyObject *e = i == 0 ? Py_NewRef(producer) : PyTuple_Pack(2, producer, idx); /* see graph.Node.next */
        if (e == NULL)
            goto done;
        PyTuple_SET_ITEM(edges, k, e);
        /* the producer's record of this output describes the input: share the tuple */
        PyObject *om = get(producer, N_ometa), *m = NULL;
        if (om != NULL && PyTuple_Check(om) && i >= 0 && i < PyTuple_GET_SIZE(om)) {
            int same = describes(PyTuple_GET_ITEM(om, i), d);
            if (same < 0)
                goto done;
            if (same)
                m = Py_NewRef(PyTuple_GET_ITEM(om, i));
        }
        if (m == NULL && (m = meta_of(d)) == NULL)
            goto done;
        mitems[nmeta++] = m;
    }
    nmeta = 0; /* the items go to the tuple */
    if ((meta = shared_tuple(mitems, n)) == NULL)
        goto done;
    if (multi) {
        if ((out_meta = PyTuple_New(nout)) == NULL)
            goto done;
        for (Py_ssize_t i = 0; i < nout; i++) {
            PyObject *m = meta_of(outv[i]);
            if (m == NULL)
                goto done;
            PyTuple_SET_ITEM(out_meta, i, m);
        }
    }
    else {
        PyObject *o = outv[0], *m = NULL;
        for (Py_ssize_t k = 0; k < n && m == NULL; k++) { /* elementwise: described like its input */
            PyObject *mk = PyTuple_GET_ITEM(meta, k);
            if (mk == Py_None)
                continue;
            int same = describes(mk, o);
            if (same < 0)
                goto done;
            if (same)
                m = Py_NewRef(mk);
        }
        if (m == NULL && (m = meta_of(o)) == NULL)
            goto done;
        if ((out_meta = shared_tuple(&m, 1)) == NULL)
            goto done;
    }
    untrack_atoms(out_meta);
    PyObject *scope, *seq;
    if (PyContextVar_Get(ScopeVar, NULL, &scope) < 0)
        goto done;
    seq = SeqIter ? Py_TYPE(SeqIter)->tp_iternext(SeqIter) : PyObject_CallNoArgs(NextSeq);
    if (seq == NULL) {
        Py_XDECREF(scope);
        goto done;
    }
    if ((node = NodeT->tp_alloc(NodeT, 0)) == NULL) {
        Py_XDECREF(scope);
        Py_DECREF(seq);
        goto done;
    }
    set(node, N_fn, cls);
    set(node, N_ctx, ctx);
    set(node, N_next, edges);
    set(node, N_imeta, meta);
    set(node, N_ometa, out_meta);
    put(node, N_scope, scope ? scope : Py_NewRef(Py_None));
    put(node, N_seq, seq);
    put(node, N_uses, PyLong_FromLong(0));
    if (trace) {
        PyObject *kw = kwargs_dict(kwnames, kwvalues);
        if (kw == NULL || (argtuple == NULL && (argtuple = pack(args, n)) == NULL) ||
            PyObject_SetAttr(node, S_inputs, argtuple) < 0 || PyObject_SetAttr(node, S_kwargs, kw) < 0) {
            Py_XDECREF(kw);
            goto done;
        }
        Py_DECREF(kw);
    }
    for (Py_ssize_t i = 0; i < nout; i++)
        if ((resv[i] = make_tensor(outv[i], node, i, wants_grad)) == NULL)
            goto done;
    PyObject *saved = get(ctx, C_saved);
    if (saved != NULL && saved != Py_None && (!PyTuple_CheckExact(saved) || PyTuple_GET_SIZE(saved) > 0)) {
        int truth = PyTuple_CheckExact(saved) ? 1 : PyObject_IsTrue(saved);
        if (truth < 0 || (truth && note_saved(ctx, saved, args, n, raw, resv, nout) < 0))
            goto done;
    }
    if (!trace && !keep_visible && hidden_ok(ctx))
        visibility(node, 0);

finish:
    if (multi) {
        if ((result = PyTuple_New(nout)) == NULL)
            goto done;
        for (Py_ssize_t i = 0; i < nout; i++) {
            PyTuple_SET_ITEM(result, i, resv[i]);
            resv[i] = NULL;
        }
    }
    else {
        result = resv[0];
        resv[0] = NULL;
    }
    if (view) {
        int bad = argtuple == NULL && (argtuple = pack(args, n)) == NULL;
        if (bad || share_view(result, cls, argtuple, kwnames, kwvalues) < 0)
            Py_CLEAR(result);
    }

done:
    Py_XDECREF(ctx);
    Py_XDECREF(fwd);
    Py_XDECREF(out);
    Py_XDECREF(needs);
    if (outv != NULL && resv != NULL)
        for (Py_ssize_t i = 0; i < filled; i++) {
            Py_XDECREF(outv[i]);
            Py_XDECREF(resv[i]);
        }
    if (outv != outs_small)
        PyMem_Free(outv);
    if (resv != results_small)
        PyMem_Free(resv);
    for (Py_ssize_t k = 0; k < nmeta; k++)
        Py_DECREF(mitems[k]);
    if (mitems != mitems_small)
        PyMem_Free(mitems);
    Py_XDECREF(argtuple);
    Py_XDECREF(edges);
    Py_XDECREF(meta);
    Py_XDECREF(out_meta);
    Py_XDECREF(node);
    if (stack != small)
        PyMem_Free(stack);
    if (needf != needs_small)
        PyMem_Free(needf);
    return result;
}

/* ---- the backward loop ---------------------------------------------------------------------- */

typedef struct {
    PyObject **items; /* node, grads, node, grads, ... (owned) */
    Py_ssize_t len, cap;
} Stack;

static int
push(Stack *s, PyObject *node, PyObject *grads)
{
    if (s->len + 2 > s->cap) {
        Py_ssize_t cap = s->cap ? 2 * s->cap : 64;
        PyObject **items = PyMem_Realloc(s->items, sizeof(PyObject *) * cap);
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->len++] = Py_NewRef(node);
    s->items[s->len++] = Py_NewRef(grads);
    return 0;
}

static int
accumulate_leaf(PyObject *leaf_grads, PyObject *leaf_order, PyObject *leaf, PyObject *g)
{
    PyObject *key = PyLong_FromVoidPtr(leaf); /* id(leaf) */
    if (key == NULL)
        return -1;
    PyObject *old = PyDict_GetItemWithError(leaf_grads, key);
    int r;
    if (old == NULL) {
        r = PyErr_Occurred() ? -1 : PyDict_SetItem(leaf_grads, key, g);
        if (r == 0)
            r = PyList_Append(leaf_order, leaf);
    }
    else {
        PyObject *sum = PyNumber_Add(old, g);
        r = sum == NULL ? -1 : PyDict_SetItem(leaf_grads, key, sum);
        Py_XDECREF(sum);
    }
    Py_DECREF(key);
    return r;
}

static int
call_void(PyObject *fn, PyObject *const *args, Py_ssize_t n)
{
    PyObject *r = PyObject_Vectorcall(fn, args, n, NULL);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* One node: hooks, its Function's backward, each gradient routed to a producer or a leaf. */
static int
run_node(PyObject *node, PyObject *grads, Stack *stack, PyObject *heap, PyObject *buffers, PyObject *leaf_grads,
         PyObject *leaf_order, int retain_graph, int create_graph, PyObject *capture, PyObject *captured)
{
    PyObject *ctx = get(node, N_ctx), *fn = get(node, N_fn);
    PyObject *cg = create_graph ? Py_True : Py_False;
    PyObject *result = NULL, *bwd = NULL;
    PyObject *small[SMALL], **args = small;
    int rc = -1;
    if (ctx == NULL || fn == NULL || !PyList_CheckExact(grads)) {
        PyErr_SetString(PyExc_TypeError, "backward: a graph node is not initialised");
        return -1;
    }
    if (get(ctx, C_saved) == NULL || get(ctx, C_saved) == Py_None) {
        PyObject *r = PyObject_GetAttr(ctx, S_saved_tensors); /* raises the retain_graph error */
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    int hooked = capture != Py_None;
    PyObject **dp = _PyObject_GetDictPtr(node);
    if (!hooked && dp != NULL && *dp != NULL) { /* only a node with its own attributes can have hooks */
        PyObject *th = PyObject_GetAttr(node, S_tensor_hooks);
        if (th == NULL)
            return -1;
        PyObject *rt = PyObject_GetAttr(node, S_retained);
        if (rt == NULL) {
            Py_DECREF(th);
            return -1;
        }
        hooked = th != Py_None || rt != Py_None;
        Py_DECREF(th);
        Py_DECREF(rt);
    }
    if (hooked) {
        PyObject *a[5] = {node, grads, cg, capture, captured};
        if (call_void(HooksAndRetained, a, 5) < 0)
            return -1;
    }
    int tensor_mode = 0;
    if (create_graph) {
        ClassInfo *info = class_info(fn);
        if (info == NULL)
            return -1;
        tensor_mode = !info->once;
    }
    Py_ssize_t ng = PyList_GET_SIZE(grads);
    if (ng > 1 || create_graph) {
        PyObject *a[4] = {node, grads, cg, tensor_mode ? Py_True : Py_False};
        if (call_void(CompleteGrads, a, 4) < 0)
            return -1;
        ng = PyList_GET_SIZE(grads);
    }
    ClassInfo *info = class_info(fn);
    if (info == NULL)
        return -1;
    bwd = Py_NewRef(info->backward);
    int exact = info->exact; /* read now: backward may run code that replaces the cache entry */
    if (ng + 1 > SMALL && (args = PyMem_Malloc(sizeof(PyObject *) * (ng + 1))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    args[0] = ctx;
    for (Py_ssize_t i = 0; i < ng; i++) /* borrowed from the list, which the caller keeps alive */
        args[1 + i] = PyList_GET_ITEM(grads, i);
    if (tensor_mode) {
        set(ctx, C_node, node); /* saved_tensors hands back Tensors connected to this node */
        result = PyObject_Vectorcall(bwd, args, 1 + ng, NULL);
        set(ctx, C_node, Py_None);
    }
    else
        result = PyObject_Vectorcall(bwd, args, 1 + ng, NULL);
    if (result == NULL)
        goto done;
    if (!PyTuple_CheckExact(result)) {
        PyObject *t = PyTuple_Pack(1, result);
        Py_SETREF(result, t);
        if (result == NULL)
            goto done;
    }
    PyObject *edges = get(node, N_next), *meta = get(node, N_imeta);
    if (edges == NULL || !PyTuple_Check(edges) || meta == NULL || !PyTuple_Check(meta)) {
        PyErr_SetString(PyExc_TypeError, "backward: a graph node has no edges");
        goto done;
    }
    Py_ssize_t ne = PyTuple_GET_SIZE(edges);
    if (PyTuple_GET_SIZE(result) != ne) {
        PyObject *r = PyObject_CallFunctionObjArgs(PadResult, node, result, NULL);
        Py_SETREF(result, r);
        if (result == NULL)
            goto done;
        if (!PyTuple_Check(result) || PyTuple_GET_SIZE(result) != ne) {
            PyErr_SetString(PyExc_TypeError, "backward: gradients do not match the inputs");
            goto done;
        }
    }
    /* a gradient passed on unchanged to an input described like the output needs no check */
    PyObject *passed = NULL, *om = get(node, N_ometa);
    if (ng == 1 && om != NULL && PyTuple_Check(om) && PyTuple_GET_SIZE(om) == 1)
        passed = PyList_GET_ITEM(grads, 0);
    for (Py_ssize_t k = 0; k < ne; k++) {
        PyObject *e = PyTuple_GET_ITEM(edges, k);
        if (e == Py_None)
            continue;
        PyObject *g = PyTuple_GET_ITEM(result, k);
        if (g == Py_None)
            continue;
        PyObject *m = PyTuple_GET_ITEM(meta, k);
        if (!PyTuple_Check(m) || PyTuple_GET_SIZE(m) != 2) {
            PyErr_SetString(PyExc_TypeError, "backward: a graph node has no input metadata");
            goto done;
        }
        PyObject *shape = PyTuple_GET_ITEM(m, 0), *dtype = PyTuple_GET_ITEM(m, 1);
        Py_INCREF(g);
        int same = g == passed && m == PyTuple_GET_ITEM(om, 0);
        if (!exact && !same) {
            PyObject *gs = PyObject_GetAttr(g, S_shape);
            int differ = gs == NULL ? -1 : PyObject_RichCompareBool(gs, shape, Py_NE);
            Py_XDECREF(gs);
            if (differ) { /* a broadcast gradient is summed back to the input's shape; else an error */
                PyObject *r = differ < 0 ? NULL : PyObject_CallFunctionObjArgs(SumToShape, node, g, shape, NULL);
                Py_SETREF(g, r);
                if (g == NULL)
                    goto done;
            }
        }
        PyObject *gd = same ? Py_NewRef(dtype) : PyObject_GetAttr(g, S_dtype);
        if (gd == NULL) {
            Py_DECREF(g);
            goto done;
        }
        int differ = gd == dtype ? 0 : PyObject_RichCompareBool(gd, dtype, Py_NE);
        Py_DECREF(gd);
        if (differ) {
            PyObject *cast = differ < 0 ? NULL : PyObject_CallMethodOneArg(g, S_astype, dtype);
            Py_SETREF(g, cast);
            if (g == NULL)
                goto done;
        }
        if (create_graph && !tensor_mode) {
            PyObject *w = PyObject_CallFunctionObjArgs(OnceDiff, node, g, NULL);
            Py_SETREF(g, w);
            if (g == NULL)
                goto done;
        }
        int bad;
        int is_node = Py_TYPE(e) == NodeT;
        if (is_node || PyTuple_CheckExact(e)) {
            PyObject *child = is_node ? e : PyTuple_GET_ITEM(e, 0), *idx = is_node ? Zero : PyTuple_GET_ITEM(e, 1);
            PyObject *uses = get(child, N_uses);
            int once = uses != NULL && PyLong_CheckExact(uses) && PyLong_AsLong(uses) == 1;
            int waiting = once ? PyDict_Contains(buffers, child) : 0;
            if (waiting < 0) {
                Py_DECREF(g);
                goto done;
            }
            if (once && !waiting) { /* its only consumer: ready now */
                PyObject *om = get(child, N_ometa);
                Py_ssize_t no = om != NULL && PyTuple_Check(om) ? PyTuple_GET_SIZE(om) : 1;
                Py_ssize_t i = PyLong_AsSsize_t(idx);
                PyObject *cgs = PyList_New(no);
                bad = cgs == NULL || i < 0 || i >= no;
                if (!bad) {
                    for (Py_ssize_t j = 0; j < no; j++)
                        PyList_SET_ITEM(cgs, j, Py_NewRef(j == i ? g : Py_None));
                    bad = push(stack, child, cgs) < 0;
                }
                else if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_IndexError, "backward: output index out of range");
                Py_XDECREF(cgs);
            }
            else {
                PyObject *a[5] = {child, idx, g, buffers, heap};
                bad = call_void(Send, a, 5) < 0;
            }
        }
        else
            bad = accumulate_leaf(leaf_grads, leaf_order, e, g) < 0;
        Py_DECREF(g);
        if (bad)
            goto done;
    }
    if (!retain_graph) { /* ctx.release() */
        set(ctx, C_saved, Py_None);
    }
    rc = 0;
done:
    Py_XDECREF(bwd);
    Py_XDECREF(result);
    if (args != small)
        PyMem_Free(args);
    return rc;
}

static PyObject *
engine_loop(PyObject *module, PyObject *const *a, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "loop(heap, buffers, leaf_grads, leaf_order, retain_graph, create_graph, capture, captured)");
        return NULL;
    }
    if ((!ready && setup() < 0) || (!loop_ready && loop_setup() < 0))
        return NULL;
    PyObject *heap = a[0], *buffers = a[1], *leaf_grads = a[2], *leaf_order = a[3];
    PyObject *capture = a[6], *captured = a[7];
    if (!PyList_Check(heap) || !PyDict_Check(buffers) || !PyDict_Check(leaf_grads) || !PyList_Check(leaf_order)) {
        PyErr_SetString(PyExc_TypeError, "loop: heap and leaf_order must be lists, buffers and leaf_grads dicts");
        return NULL;
    }
    int retain_graph = PyObject_IsTrue(a[4]), create_graph = PyObject_IsTrue(a[5]);
    if (retain_graph < 0 || create_graph < 0)
        return NULL;
    Stack stack = {NULL, 0, 0};
    int rc = 0;
    keep_visible += create_graph;
    while (rc == 0) {
        PyObject *node, *grads;
        if (stack.len) {
            grads = stack.items[--stack.len];
            node = stack.items[--stack.len];
        }
        else if (PyList_GET_SIZE(heap)) {
            PyObject *item = PyObject_CallOneArg(HeapPop, heap);
            if (item == NULL) {
                rc = -1;
                break;
            }
            node = PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2 ? Py_NewRef(PyTuple_GET_ITEM(item, 1)) : NULL;
            Py_DECREF(item);
            if (node == NULL) {
                PyErr_SetString(PyExc_TypeError, "backward: bad heap entry");
                rc = -1;
                break;
            }
            grads = PyDict_GetItemWithError(buffers, node);
            Py_XINCREF(grads);
            if (grads == NULL || PyDict_DelItem(buffers, node) < 0) {
                if (!PyErr_Occurred())
                    PyErr_SetObject(PyExc_KeyError, node);
                Py_DECREF(node);
                Py_XDECREF(grads);
                rc = -1;
                break;
            }
        }
        else
            break;
        if (create_graph)
            visibility(node, 1); /* its backward's graph links to it: a cycle through .grad is possible */
        rc = run_node(node, grads, &stack, heap, buffers, leaf_grads, leaf_order, retain_graph, create_graph,
                      capture, captured);
        Py_DECREF(node);
        Py_DECREF(grads);
    }
    keep_visible -= create_graph;
    for (Py_ssize_t i = 0; i < stack.len; i++)
        Py_DECREF(stack.items[i]);
    PyMem_Free(stack.items);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"apply", (PyCFunction)(void (*)(void))engine_apply, METH_FASTCALL | METH_KEYWORDS,
     "apply(cls, *args, **kwargs): run Function ``cls`` on the arguments and record it (function.record)."},
    {"loop", (PyCFunction)(void (*)(void))engine_loop, METH_FASTCALL,
     "loop(heap, buffers, leaf_grads, leaf_order, retain_graph, create_graph, capture, captured): the "
     "backward loop (backward._loop)."},
    {"track", (PyCFunction)engine_track, METH_O,
     "track(node): make a recorded node, its ctx and its edges visible to the cycle collector again "
     "(graph.track)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_engine",
                                    "The recorder and backward loop of autodiff, compiled (no per-op code).", -1,
                                    methods};

/* ---- Function.apply: a classmethod that keeps its bound method per class ----------------------
 * ``Mul.apply(x, y)`` through a plain classmethod makes a bound method object at every call. This one
 * makes it once per class and hands the same object back (it holds the class, so a class is not
 * freed while its entry is kept; a new class at the slot replaces the entry). */
#define BOUND_CACHE 64

typedef struct {
    PyObject_HEAD
    PyObject *func;
    PyObject *cls[BOUND_CACHE], *bound[BOUND_CACHE];
} CachedClassMethod;

static PyObject *
ccm_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *func;
    if (!PyArg_ParseTuple(args, "O:cached_classmethod", &func))
        return NULL;
    if (!PyCallable_Check(func)) {
        PyErr_SetString(PyExc_TypeError, "cached_classmethod: the function must be callable");
        return NULL;
    }
    CachedClassMethod *self = (CachedClassMethod *)type->tp_alloc(type, 0);
    if (self != NULL)
        self->func = Py_NewRef(func);
    return (PyObject *)self;
}

static int
ccm_traverse(CachedClassMethod *self, visitproc visit, void *arg)
{
    Py_VISIT(self->func);
    for (int i = 0; i < BOUND_CACHE; i++) {
        Py_VISIT(self->cls[i]);
        Py_VISIT(self->bound[i]);
    }
    return 0;
}

static int
ccm_clear(CachedClassMethod *self)
{
    Py_CLEAR(self->func);
    for (int i = 0; i < BOUND_CACHE; i++) {
        Py_CLEAR(self->cls[i]);
        Py_CLEAR(self->bound[i]);
    }
    return 0;
}

static void
ccm_dealloc(CachedClassMethod *self)
{
    PyObject_GC_UnTrack(self);
    ccm_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
ccm_get(PyObject *op, PyObject *obj, PyObject *type)
{
    CachedClassMethod *self = (CachedClassMethod *)op;
    if (type == NULL)
        type = (PyObject *)Py_TYPE(obj);
    int i = (int)(((uintptr_t)type >> 4) % BOUND_CACHE);
    if (self->cls[i] == type)
        return Py_NewRef(self->bound[i]);
    PyObject *m = PyMethod_New(self->func, type);
    if (m == NULL)
        return NULL;
    Py_XSETREF(self->cls[i], Py_NewRef(type));
    Py_XSETREF(self->bound[i], Py_NewRef(m));
    return m;
}

static PyMemberDef ccm_members[] = {
    {"__func__", T_OBJECT, offsetof(CachedClassMethod, func), READONLY, "the function bound to the class"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject CachedClassMethodType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "autodiff._engine.cached_classmethod",
    .tp_basicsize = sizeof(CachedClassMethod),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "cached_classmethod(func): classmethod(func), with one bound method per class, made once.",
    .tp_new = ccm_new,
    .tp_traverse = (traverseproc)ccm_traverse,
    .tp_clear = (inquiry)ccm_clear,
    .tp_dealloc = (destructor)ccm_dealloc,
    .tp_descr_get = ccm_get,
    .tp_members = ccm_members,
};

PyMODINIT_FUNC
PyInit__engine(void)
{
    if (PyType_Ready(&CachedClassMethodType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "cached_classmethod", (PyObject *)&CachedClassMethodType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
