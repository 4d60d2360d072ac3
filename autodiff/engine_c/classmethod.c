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
    PyObject *old_cls = self->cls[i], *old_bound = self->bound[i];
    self->cls[i] = Py_NewRef(type); /* the entry is whole before the old one is released */
    self->bound[i] = Py_NewRef(m);
    Py_XDECREF(old_bound);
    Py_XDECREF(old_cls);
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
