/* Optional C accelerator for the engine's two hottest paths: a recorded binary elementwise op, and
 * the backward loop of the common case (the second half of this file, after BinaryOp's helpers).
 *
 * `y = y * c + d` on small tensors spends most of its time in Python bookkeeping, not in numpy: each
 * op builds a Node and a Tensor and fills about twenty attributes. This module does exactly what
 * function.binary_operator's Python `op(a, b)` does for the common case, in C:
 *
 *   both arguments are Tensors (or subclasses) holding exact ndarrays, at least one requires grad,
 *   grad mode is on, and numpy's ufunc succeeds.
 *
 * In every other case (Python scalars, ndarray subclasses, no_grad, a numpy error, ...) it calls that Python
 * `op` instead, so errors, messages and unusual inputs are handled in one place. The Python classes
 * stay the definition: this code writes the same `__slots__` of the same Node and Tensor objects (their
 * offsets are read from the classes' slot descriptors at set-up), and tests compare the graphs both
 * paths record attribute by attribute. Without a C compiler the package works the same, only slower
 * (see autodiff/function.py, `_fastop`).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif

#define SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))

/* set by setup() */
static PyTypeObject *TensorT = NULL, *NodeT = NULL, *NdarrayT = NULL;
static PyObject *GradVar, *ScopeVar, *Clock, *NextSeq, *AsArray, *SingleMeta;
static PyObject *NeedBoth, *NeedFirst, *NeedSecond;
static PyObject *S_shape, *S_dtype;

static Py_ssize_t T_data, T_grad, T_req, T_node, T_idx, T_vbox, T_hooks, T_name;
static Py_ssize_t N_fn, N_next, N_imeta, N_ometa, N_needs, N_scope, N_saved, N_seq, N_uses, N_epoch,
    N_out_saved, N_ifg;

/* "not handled here: call the Python op" (a marker, never returned to Python) */
static int defer_marker;
#define DEFER ((PyObject *)&defer_marker)

static int
slot_offset(PyTypeObject *type, const char *name, Py_ssize_t *out)
{
    PyObject *d = PyObject_GetAttrString((PyObject *)type, name);
    if (d == NULL)
        return -1;
    if (Py_TYPE(d) != &PyMemberDescr_Type || PyDescr_TYPE(d) != type ||
        ((PyMemberDescrObject *)d)->d_member->type != Py_T_OBJECT_EX) {
        Py_DECREF(d);
        PyErr_Format(PyExc_TypeError, "_fastop: %s.%s is not an object slot of that class",
                     type->tp_name, name);
        return -1;
    }
    *out = ((PyMemberDescrObject *)d)->d_member->offset;
    Py_DECREF(d);
    return 0;
}

static PyObject *
fastop_setup(PyObject *module, PyObject *args)
{
    PyObject *tensor, *node, *ndarray;
    if (!PyArg_ParseTuple(args, "O!O!O!OOO!OOOOOO:setup", &PyType_Type, &tensor, &PyType_Type, &node,
                          &PyType_Type, &ndarray, &GradVar, &ScopeVar, &PyList_Type, &Clock, &NextSeq,
                          &AsArray, &SingleMeta, &NeedBoth, &NeedFirst, &NeedSecond))
        return NULL;
    if (!PyContextVar_CheckExact(GradVar) || !PyContextVar_CheckExact(ScopeVar)) {
        PyErr_SetString(PyExc_TypeError, "_fastop.setup: grad mode and scope must be ContextVars");
        return NULL;
    }
    TensorT = (PyTypeObject *)tensor;
    NodeT = (PyTypeObject *)node;
    NdarrayT = (PyTypeObject *)ndarray;
    if (slot_offset(TensorT, "data", &T_data) || slot_offset(TensorT, "grad", &T_grad) ||
        slot_offset(TensorT, "_requires_grad", &T_req) || slot_offset(TensorT, "_node", &T_node) ||
        slot_offset(TensorT, "_out_idx", &T_idx) || slot_offset(TensorT, "_vbox", &T_vbox) ||
        slot_offset(TensorT, "_hooks", &T_hooks) || slot_offset(TensorT, "name", &T_name) ||
        slot_offset(NodeT, "fn", &N_fn) || slot_offset(NodeT, "_next", &N_next) ||
        slot_offset(NodeT, "input_meta", &N_imeta) || slot_offset(NodeT, "output_meta", &N_ometa) ||
        slot_offset(NodeT, "needs_input_grad", &N_needs) || slot_offset(NodeT, "scope", &N_scope) ||
        slot_offset(NodeT, "_saved", &N_saved) || slot_offset(NodeT, "_seq", &N_seq) ||
        slot_offset(NodeT, "_uses", &N_uses) || slot_offset(NodeT, "_epoch", &N_epoch) ||
        slot_offset(NodeT, "_out_saved", &N_out_saved) ||
        slot_offset(NodeT, "_inputs_for_graph", &N_ifg)) {
        TensorT = NULL;
        return NULL;
    }
    /* keep everything alive for the life of the interpreter */
    Py_INCREF(tensor); Py_INCREF(node); Py_INCREF(ndarray); Py_INCREF(GradVar); Py_INCREF(ScopeVar);
    Py_INCREF(Clock); Py_INCREF(NextSeq); Py_INCREF(AsArray); Py_INCREF(SingleMeta);
    Py_INCREF(NeedBoth); Py_INCREF(NeedFirst); Py_INCREF(NeedSecond);
    Py_RETURN_NONE;
}

/* A Tensor argument's edge, input metadata and producer node, as the Python op computes them. */
static int
edge_of(PyObject *t, PyObject *data, PyObject **edge, PyObject **meta, PyObject **producer)
{
    PyObject *node = SLOT(t, T_node);
    if (node == Py_None) {
        PyObject *shape = PyObject_GetAttr(data, S_shape);
        if (shape == NULL)
            return -1;
        PyObject *dtype = PyObject_GetAttr(data, S_dtype);
        if (dtype == NULL) {
            Py_DECREF(shape);
            return -1;
        }
        *meta = PyTuple_Pack(2, shape, dtype);
        Py_DECREF(shape);
        Py_DECREF(dtype);
        if (*meta == NULL)
            return -1;
        Py_INCREF(t);
        *edge = t;
        *producer = NULL;
        return 0;
    }
    PyObject *idx = SLOT(t, T_idx);
    PyObject *om = SLOT(node, N_ometa);
    Py_ssize_t i = PyLong_AsSsize_t(idx);
    if (i == -1 && PyErr_Occurred())
        return -1;
    if (om == NULL || !PyTuple_Check(om) || i < 0 || i >= PyTuple_GET_SIZE(om)) {
        PyErr_SetString(PyExc_RuntimeError, "_fastop: a tensor's node has no metadata for its output");
        return -1;
    }
    *meta = Py_NewRef(PyTuple_GET_ITEM(om, i));
    if (i) {
        *edge = PyTuple_Pack(2, node, idx);
        if (*edge == NULL) {
            Py_CLEAR(*meta);
            return -1;
        }
    } else {
        *edge = Py_NewRef(node);
    }
    *producer = node;
    return 0;
}

/* A Tensor argument the C path can take: a Tensor (or a subclass such as nn.Parameter, whose instances
 * have Tensor's slots at the same offsets) with every slot it reads set. */
static int
usable(PyObject *t)
{
    if (Py_TYPE(t) != TensorT && !PyType_IsSubtype(Py_TYPE(t), TensorT))
        return 0;
    PyObject *d = SLOT(t, T_data), *r = SLOT(t, T_req), *n = SLOT(t, T_node), *i = SLOT(t, T_idx);
    if (d == NULL || Py_TYPE(d) != NdarrayT || (r != Py_True && r != Py_False) || n == NULL ||
        i == NULL || !PyLong_CheckExact(i))
        return 0;
    return n == Py_None || Py_TYPE(n) == NodeT;
}

static int
inc_uses(PyObject *node)
{
    PyObject *old = SLOT(node, N_uses);
    if (old == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_fastop: a node has no use count");
        return -1;
    }
    long v = PyLong_AsLong(old);
    if (v == -1 && PyErr_Occurred())
        return -1;
    PyObject *nw = PyLong_FromLong(v + 1);
    if (nw == NULL)
        return -1;
    SLOT(node, N_uses) = nw;
    Py_DECREF(old);
    return 0;
}

/* The output metadata: the first input's producer's tuple when it describes `out` (as the Python op). */
static PyObject *
output_meta(PyObject *out, PyObject *ea, PyObject *edges)
{
    if (Py_TYPE(ea) == NodeT) {
        PyObject *om = SLOT(ea, N_ometa);
        if (om != NULL && PyTuple_CheckExact(om) && PyTuple_GET_SIZE(om) == 1) {
            PyObject *m = PyTuple_GET_ITEM(om, 0);
            if (PyTuple_CheckExact(m) && PyTuple_GET_SIZE(m) == 2) {
                PyObject *dtype = PyObject_GetAttr(out, S_dtype);
                if (dtype == NULL)
                    return NULL;
                int same = PyTuple_GET_ITEM(m, 1) == dtype;
                Py_DECREF(dtype);
                if (same) {
                    PyObject *shape = PyObject_GetAttr(out, S_shape);
                    if (shape == NULL)
                        return NULL;
                    int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(m, 0), shape, Py_EQ);
                    Py_DECREF(shape);
                    if (eq < 0)
                        return NULL;
                    if (eq)
                        return Py_NewRef(om);
                }
            }
        }
    }
    PyObject *argv[2] = {out, edges};
    return PyObject_Vectorcall(SingleMeta, argv, 2, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * The backward loop of the common case (backward._run_plain): the same algorithm, step for step, with
 * the rare branches (hooks, several outputs, leaves, errors) handed to backward.py's own helpers.
 */
static PyObject *H_hooks, *H_pad, *H_raise_shape, *H_send, *H_acc_leaf, *H_zeros, *H_heappush, *H_heappop;
static PyObject *S_saved_tensors, *S_tensor_hooks, *S_retained, *S_backward, *S_exact, *S_astype;

static PyObject *
fastop_setup_backward(PyObject *module, PyObject *args)
{
    if (!PyArg_ParseTuple(args, "OOOOOOOO:setup_backward", &H_hooks, &H_pad, &H_raise_shape, &H_send,
                          &H_acc_leaf, &H_zeros, &H_heappush, &H_heappop))
        return NULL;
    Py_INCREF(H_hooks); Py_INCREF(H_pad); Py_INCREF(H_raise_shape); Py_INCREF(H_send);
    Py_INCREF(H_acc_leaf); Py_INCREF(H_zeros); Py_INCREF(H_heappush); Py_INCREF(H_heappop);
    Py_RETURN_NONE;
}

static PyObject *
call2(PyObject *f, PyObject *x, PyObject *y)
{
    PyObject *argv[2] = {x, y};
    return PyObject_Vectorcall(f, argv, 2, NULL);
}

/* heappush(heap, (-e._seq, e)) */
static int
heap_push(PyObject *heap, PyObject *e)
{
    PyObject *seq = SLOT(e, N_seq);
    if (seq == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_fastop: a node has no creation number");
        return -1;
    }
    PyObject *neg = PyNumber_Negative(seq);
    if (neg == NULL)
        return -1;
    PyObject *item = PyTuple_Pack(2, neg, e);
    Py_DECREF(neg);
    if (item == NULL)
        return -1;
    PyObject *r = call2(H_heappush, heap, item);
    Py_DECREF(item);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

static int
uses_is_one(PyObject *node)
{
    PyObject *u = SLOT(node, N_uses);
    return u != NULL && PyLong_CheckExact(u) && PyLong_AsLong(u) == 1;
}

/* One gradient `g` for edge `e` of the node just run (the body of _run_plain's inner loop). */
static int
send(PyObject *e, PyObject *g, PyObject *buffers, PyObject *heap, PyObject *stack, PyObject *push,
     int single_roots, PyObject **next_node, PyObject **next_grads, PyObject *leaf_grads,
     PyObject *leaf_order)
{
    PyObject *child, *idx, *r;
    if (Py_TYPE(e) == NodeT) {
        PyObject *om = SLOT(e, N_ometa);
        if (om != NULL && PyTuple_Check(om) && PyTuple_GET_SIZE(om) == 1) {
            if (uses_is_one(e)) {
                int waiting = 0;
                if (single_roots && (waiting = PyDict_Contains(buffers, e)) < 0)
                    return -1;
                if (!waiting) {
                    if (*next_node == NULL) {
                        *next_node = Py_NewRef(e);
                        *next_grads = Py_NewRef(g);
                        return 0;
                    }
                    PyObject *pair = PyTuple_Pack(2, e, g);
                    if (pair == NULL)
                        return -1;
                    int rc = PyList_Append(stack, pair);
                    Py_DECREF(pair);
                    return rc;
                }
            }
            PyObject *buf = PyDict_GetItemWithError(buffers, e); /* borrowed */
            if (buf == NULL) {
                if (PyErr_Occurred() || PyDict_SetItem(buffers, e, g) < 0)
                    return -1;
                return heap_push(heap, e);
            }
            PyObject *sum = PyNumber_Add(buf, g);
            if (sum == NULL)
                return -1;
            int rc = PyDict_SetItem(buffers, e, sum);
            Py_DECREF(sum);
            return rc;
        }
        child = e;
        idx = NULL;
    } else if (PyTuple_CheckExact(e) && PyTuple_GET_SIZE(e) == 2) {
        child = PyTuple_GET_ITEM(e, 0);
        idx = PyTuple_GET_ITEM(e, 1);
    } else {
        PyObject *argv[4] = {leaf_grads, leaf_order, e, g};
        r = PyObject_Vectorcall(H_acc_leaf, argv, 4, NULL);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        return 0;
    }
    /* a node with several outputs */
    PyObject *zero = NULL;
    if (idx == NULL && (idx = zero = PyLong_FromLong(0)) == NULL)
        return -1;
    PyObject *argv[7] = {child, idx, g, buffers, heap, push, single_roots ? Py_True : Py_False};
    r = PyObject_Vectorcall(H_send, argv, 7, NULL);
    Py_XDECREF(zero);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Run one node: its backward, then its gradients to its inputs. Takes no references. */
static int
run_node(PyObject *node, PyObject *grads, PyObject *buffers, PyObject *heap, PyObject *stack,
         PyObject *push, int single_roots, PyObject **next_node, PyObject **next_grads,
         PyObject *leaf_grads, PyObject *leaf_order, int retain_graph)
{
    PyObject *saved = SLOT(node, N_saved);
    if (saved == NULL || saved == Py_None) {
        PyObject *r = PyObject_GetAttr(node, S_saved_tensors); /* raises the retain_graph error */
        Py_XDECREF(r);
        if (r != NULL)
            PyErr_SetString(PyExc_RuntimeError, "_fastop: a freed node did not raise");
        return -1;
    }
    int has_saved = PyObject_IsTrue(saved);
    if (has_saved < 0)
        return -1;
    PyObject *fn = SLOT(node, N_fn), *om = SLOT(node, N_ometa);
    if (fn == NULL || om == NULL || !PyTuple_Check(om)) {
        PyErr_SetString(PyExc_RuntimeError, "_fastop: a node without fn or output metadata");
        return -1;
    }
    int single = PyTuple_GET_SIZE(om) == 1;
    PyObject *result = NULL, *edges, *meta, *r;
    Py_INCREF(grads);
    PyObject *th = PyObject_GetAttr(node, S_tensor_hooks);
    if (th == NULL)
        goto fail;
    PyObject *rt = PyObject_GetAttr(node, S_retained);
    if (rt == NULL) {
        Py_DECREF(th);
        goto fail;
    }
    int hooked = th != Py_None || rt != Py_None;
    Py_DECREF(th);
    Py_DECREF(rt);
    if (hooked) {
        PyObject *list = single ? PyList_New(1) : Py_NewRef(grads);
        if (list == NULL)
            goto fail;
        if (single)
            PyList_SET_ITEM(list, 0, Py_NewRef(grads));
        PyObject *argv[5] = {node, list, Py_False, Py_None, Py_None};
        r = PyObject_Vectorcall(H_hooks, argv, 5, NULL);
        if (r == NULL) {
            Py_DECREF(list);
            goto fail;
        }
        Py_DECREF(r);
        Py_DECREF(grads);
        if (single) {
            grads = Py_NewRef(PyList_GET_ITEM(list, 0));
            Py_DECREF(list);
        } else {
            grads = list;
        }
    }
    PyObject *backward = PyObject_GetAttr(fn, S_backward);
    if (backward == NULL)
        goto fail;
    if (single) {
        result = call2(backward, node, grads);
    } else {
        if (!PyList_Check(grads)) {
            Py_DECREF(backward);
            PyErr_SetString(PyExc_RuntimeError, "_fastop: gradients of a multi-output node not a list");
            goto fail;
        }
        Py_ssize_t n = PyList_GET_SIZE(grads);
        PyObject *args = PyTuple_New(n + 1);
        if (args == NULL) {
            Py_DECREF(backward);
            goto fail;
        }
        PyTuple_SET_ITEM(args, 0, Py_NewRef(node));
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *g = PyList_GET_ITEM(grads, i);
            if (g == Py_None) {
                if (i >= PyTuple_GET_SIZE(om)) {
                    PyErr_SetString(PyExc_RuntimeError, "_fastop: more gradients than outputs");
                    g = NULL;
                } else {
                    g = call2(H_zeros, PyTuple_GET_ITEM(om, i), Py_False);
                }
                if (g == NULL) {
                    Py_DECREF(args);
                    Py_DECREF(backward);
                    goto fail;
                }
                PyList_SetItem(grads, i, Py_NewRef(g)); /* as the Python loop, which fills grads[i] */
            } else {
                Py_INCREF(g);
            }
            PyTuple_SET_ITEM(args, i + 1, g);
        }
        result = PyObject_Call(backward, args, NULL);
        Py_DECREF(args);
    }
    Py_DECREF(backward);
    if (result == NULL)
        goto fail;
    edges = SLOT(node, N_next);
    meta = SLOT(node, N_imeta);
    if (edges == NULL || !PyTuple_Check(edges) || meta == NULL || !PyTuple_Check(meta)) {
        PyErr_SetString(PyExc_RuntimeError, "_fastop: a node without edges or input metadata");
        goto fail;
    }
    if (!PyTuple_CheckExact(result)) {
        PyObject *t = PyTuple_Pack(1, result);
        Py_DECREF(result);
        if ((result = t) == NULL)
            goto fail;
    }
    Py_ssize_t n_edges = PyTuple_GET_SIZE(edges);
    if (PyTuple_GET_SIZE(result) != n_edges) {
        PyObject *t = call2(H_pad, node, result);
        Py_DECREF(result);
        if ((result = t) == NULL)
            goto fail;
        if (!PyTuple_Check(result) || PyTuple_GET_SIZE(result) != n_edges) {
            PyErr_SetString(PyExc_RuntimeError, "_fastop: padded gradients do not match the inputs");
            goto fail;
        }
    }
    if (PyTuple_GET_SIZE(meta) != n_edges) {
        PyErr_SetString(PyExc_RuntimeError, "_fastop: input metadata does not match the edges");
        goto fail;
    }
    PyObject *exact = PyObject_GetAttr(fn, S_exact);
    if (exact == NULL)
        goto fail;
    int check = PyObject_Not(exact);
    Py_DECREF(exact);
    if (check < 0)
        goto fail;
    for (Py_ssize_t k = 0; k < n_edges; k++) {
        PyObject *e = PyTuple_GET_ITEM(edges, k);
        if (e == Py_None)
            continue;
        PyObject *g = PyTuple_GET_ITEM(result, k);
        if (g == Py_None)
            continue;
        PyObject *m = PyTuple_GET_ITEM(meta, k);
        if (!PyTuple_Check(m) || PyTuple_GET_SIZE(m) != 2) {
            PyErr_SetString(PyExc_RuntimeError, "_fastop: bad input metadata");
            goto fail;
        }
        PyObject *shape = PyTuple_GET_ITEM(m, 0), *dtype = PyTuple_GET_ITEM(m, 1);
        if (check) {
            PyObject *gs = PyObject_GetAttr(g, S_shape);
            if (gs == NULL)
                goto fail;
            int ne = PyObject_RichCompareBool(gs, shape, Py_NE);
            Py_DECREF(gs);
            if (ne < 0)
                goto fail;
            if (ne) {
                PyObject *argv[3] = {node, g, shape};
                r = PyObject_Vectorcall(H_raise_shape, argv, 3, NULL);
                Py_XDECREF(r);
                goto fail;
            }
        }
        PyObject *gd = PyObject_GetAttr(g, S_dtype);
        if (gd == NULL)
            goto fail;
        int cast = 0;
        if (gd != dtype && (cast = PyObject_RichCompareBool(gd, dtype, Py_NE)) < 0) {
            Py_DECREF(gd);
            goto fail;
        }
        Py_DECREF(gd);
        if (cast) {
            PyObject *argv[2] = {g, dtype};
            g = PyObject_VectorcallMethod(S_astype, argv, 2, NULL);
            if (g == NULL)
                goto fail;
        } else {
            Py_INCREF(g);
        }
        int rc = send(e, g, buffers, heap, stack, push, single_roots, next_node, next_grads, leaf_grads,
                      leaf_order);
        Py_DECREF(g);
        if (rc < 0)
            goto fail;
    }
    Py_DECREF(result);
    Py_DECREF(grads);
    if (!retain_graph) { /* node.release() */
        if (has_saved) {
            PyObject *old = SLOT(node, N_ifg);
            SLOT(node, N_ifg) = Py_NewRef(Py_None);
            Py_XDECREF(old);
        }
        PyObject *old = SLOT(node, N_saved);
        SLOT(node, N_saved) = Py_NewRef(Py_None);
        Py_XDECREF(old);
    }
    return 0;
fail:
    Py_XDECREF(result);
    Py_DECREF(grads);
    return -1;
}

static PyObject *
fastop_run_plain(PyObject *module, PyObject *args)
{
    PyObject *heap, *buffers, *leaf_grads, *leaf_order;
    int retain_graph, single_roots;
    if (!PyArg_ParseTuple(args, "O!O!O!O!pp:run_plain", &PyList_Type, &heap, &PyDict_Type, &buffers,
                          &PyDict_Type, &leaf_grads, &PyList_Type, &leaf_order, &retain_graph,
                          &single_roots))
        return NULL;
    if (NodeT == NULL || H_hooks == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_fastop.run_plain: setup() and setup_backward() first");
        return NULL;
    }
    PyObject *stack = PyList_New(0);
    if (stack == NULL)
        return NULL;
    PyObject *push = PyObject_GetAttrString(stack, "append");
    if (push == NULL) {
        Py_DECREF(stack);
        return NULL;
    }
    PyObject *next_node = NULL, *next_grads = NULL, *node, *grads;
    int rc = 0;
    for (;;) {
        if (next_node != NULL) {
            node = next_node;
            grads = next_grads;
            next_node = next_grads = NULL;
        } else if (PyList_GET_SIZE(stack) > 0) {
            Py_ssize_t last = PyList_GET_SIZE(stack) - 1;
            PyObject *pair = PyList_GET_ITEM(stack, last);
            node = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
            grads = Py_NewRef(PyTuple_GET_ITEM(pair, 1));
            if (PyList_SetSlice(stack, last, last + 1, NULL) < 0) {
                Py_DECREF(node);
                Py_DECREF(grads);
                rc = -1;
                break;
            }
        } else if (PyList_GET_SIZE(heap) > 0) {
            PyObject *argv[1] = {heap};
            PyObject *item = PyObject_Vectorcall(H_heappop, argv, 1, NULL);
            if (item == NULL) {
                rc = -1;
                break;
            }
            node = Py_NewRef(PyTuple_GET_ITEM(item, 1));
            Py_DECREF(item);
            grads = PyDict_GetItemWithError(buffers, node);
            if (grads == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetObject(PyExc_KeyError, node);
                Py_DECREF(node);
                rc = -1;
                break;
            }
            Py_INCREF(grads);
            if (PyDict_DelItem(buffers, node) < 0) {
                Py_DECREF(node);
                Py_DECREF(grads);
                rc = -1;
                break;
            }
        } else {
            break;
        }
        rc = run_node(node, grads, buffers, heap, stack, push, single_roots, &next_node, &next_grads,
                      leaf_grads, leaf_order, retain_graph);
        Py_DECREF(node);
        Py_DECREF(grads);
        if (rc < 0)
            break;
    }
    Py_XDECREF(next_node);
    Py_XDECREF(next_grads);
    Py_DECREF(push);
    Py_DECREF(stack);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

typedef struct {
    PyObject_HEAD
    PyObject *fn;       /* the Function subclass recorded as the node's fn */
    PyObject *ufunc;    /* numpy ufunc computing fn.forward's result */
    PyObject *python;   /* the Python op(a, b): everything this path does not take */
    int saves_inputs;   /* fn.forward saves (a, b) */
    vectorcallfunc vectorcall;
} BinaryOp;

static PyObject *
record(BinaryOp *op, PyObject *a, PyObject *b)
{
    if (TensorT == NULL || !usable(a) || !usable(b))
        return DEFER;
    int ra = SLOT(a, T_req) == Py_True, rb = SLOT(b, T_req) == Py_True;
    if (!ra && !rb)
        return DEFER;
    PyObject *enabled;
    if (PyContextVar_Get(GradVar, NULL, &enabled) < 0)
        return NULL;
    int on = PyObject_IsTrue(enabled);
    Py_DECREF(enabled);
    if (on < 0)
        return NULL;
    if (!on)
        return DEFER;

    PyObject *ad = SLOT(a, T_data), *bd = SLOT(b, T_data);
    PyObject *argv[2] = {ad, bd};
    PyObject *out = PyObject_Vectorcall(op->ufunc, argv, 2, NULL);
    if (out == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return NULL;
        PyErr_Clear(); /* the Python op computes it again and raises the op's own error */
        return DEFER;
    }
    if (Py_TYPE(out) != NdarrayT) {
        PyObject *arr = PyObject_CallOneArg(AsArray, out);
        Py_DECREF(out);
        if (arr == NULL)
            return NULL;
        out = arr;
    }

    PyObject *ea = NULL, *ma = NULL, *eb = NULL, *mb = NULL, *pa = NULL, *pb = NULL;
    PyObject *ctx = NULL, *edges = NULL, *meta, *v, *result;
    if (ra) {
        if (edge_of(a, ad, &ea, &ma, &pa) < 0)
            goto fail;
    } else {
        ea = Py_NewRef(Py_None);
        ma = Py_NewRef(Py_None);
    }
    if (rb) {
        if (edge_of(b, bd, &eb, &mb, &pb) < 0)
            goto fail;
    } else {
        eb = Py_NewRef(Py_None);
        mb = Py_NewRef(Py_None);
    }
    edges = PyTuple_Pack(2, ea, eb);
    meta = PyTuple_Pack(2, ma, mb);
    Py_CLEAR(ma);
    Py_CLEAR(mb);
    Py_CLEAR(eb);
    if (edges == NULL || meta == NULL) {
        Py_XDECREF(meta);
        goto fail;
    }
    ctx = NodeT->tp_alloc(NodeT, 0);
    if (ctx == NULL) {
        Py_DECREF(meta);
        goto fail;
    }
    SLOT(ctx, N_imeta) = meta;
    SLOT(ctx, N_fn) = Py_NewRef(op->fn);
    SLOT(ctx, N_needs) = Py_NewRef(ra ? (rb ? NeedBoth : NeedFirst) : NeedSecond);
    SLOT(ctx, N_next) = Py_NewRef(edges);
    if ((v = PyObject_CallNoArgs(NextSeq)) == NULL)
        goto fail;
    SLOT(ctx, N_seq) = v;
    if ((v = PyLong_FromLong(0)) == NULL)
        goto fail;
    SLOT(ctx, N_uses) = v;
    if (PyContextVar_Get(ScopeVar, NULL, &v) < 0)
        goto fail;
    SLOT(ctx, N_scope) = v;
    if ((v = output_meta(out, ea, edges)) == NULL)
        goto fail;
    SLOT(ctx, N_ometa) = v;
    if (op->saves_inputs) {
        if ((v = PyTuple_Pack(2, ad, bd)) == NULL)
            goto fail;
        SLOT(ctx, N_saved) = v;
        SLOT(ctx, N_epoch) = Py_NewRef(PyList_GET_ITEM(Clock, 0));
        if ((v = PyTuple_Pack(2, a, b)) == NULL)
            goto fail;
        SLOT(ctx, N_ifg) = v;
        if ((v = PyLong_FromLong(0)) == NULL) /* out is new: no saved array is it */
            goto fail;
        SLOT(ctx, N_out_saved) = v;
    } else {
        if ((v = PyTuple_New(0)) == NULL)
            goto fail;
        SLOT(ctx, N_saved) = v;
    }
    Py_CLEAR(ea);
    Py_CLEAR(edges);
    /* counted once the op exists, as in the Python op */
    if ((pa != NULL && inc_uses(pa) < 0) || (pb != NULL && inc_uses(pb) < 0))
        goto fail;

    result = TensorT->tp_alloc(TensorT, 0);
    if (result == NULL)
        goto fail;
    SLOT(result, T_data) = out;
    SLOT(result, T_grad) = Py_NewRef(Py_None);
    SLOT(result, T_vbox) = Py_NewRef(Py_None);
    SLOT(result, T_hooks) = Py_NewRef(Py_None);
    SLOT(result, T_name) = Py_NewRef(Py_None);
    SLOT(result, T_node) = ctx;
    if ((v = PyLong_FromLong(0)) == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    SLOT(result, T_idx) = v;
    SLOT(result, T_req) = Py_NewRef(Py_True);
    return result;

fail:
    Py_XDECREF(ea);
    Py_XDECREF(ma);
    Py_XDECREF(eb);
    Py_XDECREF(mb);
    Py_XDECREF(edges);
    Py_XDECREF(ctx);
    Py_DECREF(out);
    return NULL;
}

static PyObject *
binop_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    BinaryOp *op = (BinaryOp *)self;
    if (PyVectorcall_NARGS(nargsf) == 2 && kwnames == NULL) {
        PyObject *r = record(op, args[0], args[1]);
        if (r != DEFER)
            return r;
    }
    return PyObject_Vectorcall(op->python, args, nargsf, kwnames);
}

static PyObject *
binop_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *fn, *ufunc, *python;
    int saves;
    static char *kwlist[] = {"fn", "ufunc", "python", "saves_inputs", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOp:BinaryOp", kwlist, &fn, &ufunc, &python, &saves))
        return NULL;
    if (!PyCallable_Check(ufunc) || !PyCallable_Check(python)) {
        PyErr_SetString(PyExc_TypeError, "BinaryOp: ufunc and python must be callable");
        return NULL;
    }
    BinaryOp *op = (BinaryOp *)type->tp_alloc(type, 0);
    if (op == NULL)
        return NULL;
    op->fn = Py_NewRef(fn);
    op->ufunc = Py_NewRef(ufunc);
    op->python = Py_NewRef(python);
    op->saves_inputs = saves;
    op->vectorcall = binop_vectorcall;
    return (PyObject *)op;
}

static int
binop_traverse(BinaryOp *op, visitproc visit, void *arg)
{
    Py_VISIT(op->fn);
    Py_VISIT(op->ufunc);
    Py_VISIT(op->python);
    return 0;
}

static int
binop_clear(BinaryOp *op)
{
    Py_CLEAR(op->fn);
    Py_CLEAR(op->ufunc);
    Py_CLEAR(op->python);
    return 0;
}

static void
binop_dealloc(BinaryOp *op)
{
    PyObject_GC_UnTrack(op);
    binop_clear(op);
    Py_TYPE(op)->tp_free((PyObject *)op);
}

/* a method: t.__mul__ is bound to t (operator slots call it unbound, see Py_TPFLAGS_METHOD_DESCRIPTOR) */
static PyObject *
binop_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static PyObject *
binop_repr(BinaryOp *op)
{
    return PyUnicode_FromFormat("<fast binary operator of %R>", op->fn);
}

static PyMemberDef binop_members[] = {
    {"fn", Py_T_OBJECT_EX, offsetof(BinaryOp, fn), READONLY, "the Function recorded"},
    {"ufunc", Py_T_OBJECT_EX, offsetof(BinaryOp, ufunc), READONLY, "the numpy ufunc it runs"},
    {"python", Py_T_OBJECT_EX, offsetof(BinaryOp, python), READONLY,
     "the Python op(a, b) used for every case this path does not take"},
    {"saves_inputs", T_INT, offsetof(BinaryOp, saves_inputs), READONLY, "forward saves (a, b)"},
    {NULL}};

static PyTypeObject BinaryOpType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "autodiff._fastop.BinaryOp",
    .tp_doc = PyDoc_STR("BinaryOp(fn, ufunc, python, saves_inputs): fn's recorded op(a, b), in C for "
                        "the common case, else python(a, b)"),
    .tp_basicsize = sizeof(BinaryOp),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
                Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_vectorcall_offset = offsetof(BinaryOp, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_descr_get = binop_get,
    .tp_new = binop_new,
    .tp_dealloc = (destructor)binop_dealloc,
    .tp_traverse = (traverseproc)binop_traverse,
    .tp_clear = (inquiry)binop_clear,
    .tp_repr = (reprfunc)binop_repr,
    .tp_members = binop_members,
};

static PyMethodDef fastop_methods[] = {
    {"setup", fastop_setup, METH_VARARGS,
     "setup(Tensor, Node, ndarray, grad_var, scope_var, clock, next_seq, asarray, single_output_meta, "
     "needs_both, needs_first, needs_second)"},
    {"setup_backward", fastop_setup_backward, METH_VARARGS,
     "setup_backward(hooks_and_retained, pad_result, raise_shape, send_to_slot, acc_leaf, zeros, "
     "heappush, heappop)"},
    {"run_plain", fastop_run_plain, METH_VARARGS,
     "run_plain(heap, buffers, leaf_grads, leaf_order, retain_graph, single_roots): backward._run_plain"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef fastop_module = {
    PyModuleDef_HEAD_INIT, "_fastop",
    "C accelerator of the engine's two hottest paths (see autodiff/_fastop.c).", -1, fastop_methods,
    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__fastop(void)
{
    if (PyType_Ready(&BinaryOpType) < 0)
        return NULL;
    S_shape = PyUnicode_InternFromString("shape");
    S_dtype = PyUnicode_InternFromString("dtype");
    S_saved_tensors = PyUnicode_InternFromString("saved_tensors");
    S_tensor_hooks = PyUnicode_InternFromString("_tensor_hooks");
    S_retained = PyUnicode_InternFromString("_retained");
    S_backward = PyUnicode_InternFromString("backward");
    S_exact = PyUnicode_InternFromString("exact_grad_shapes");
    S_astype = PyUnicode_InternFromString("astype");
    if (S_shape == NULL || S_dtype == NULL || S_saved_tensors == NULL || S_tensor_hooks == NULL ||
        S_retained == NULL || S_backward == NULL || S_exact == NULL || S_astype == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&fastop_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&BinaryOpType);
    if (PyModule_AddObject(m, "BinaryOp", (PyObject *)&BinaryOpType) < 0) {
        Py_DECREF(&BinaryOpType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
