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
