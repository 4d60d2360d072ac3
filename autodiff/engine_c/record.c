/* The recorder: function.record compiled (Function.apply). Part of autodiff/_engine.c. */

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
