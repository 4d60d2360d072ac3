/* The recorder's helpers: per-class reads, Tensor construction, shared metadata tuples, saved
 * values and version counters. Part of the one translation unit autodiff/_engine.c. */

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
    c->type = NULL; /* no half-replaced entry is ever read (releasing the old functions may run code) */
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
    if (PyList_Append(box, Zero) < 0) { /* as Tensor._version makes it: [0], epoch 0 */
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
