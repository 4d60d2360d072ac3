/* The engine's shared state: the autodiff classes and their slots, interned names, set-up. Part of the
 * one translation unit autodiff/_engine.c. */

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
