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
 *
 * One translation unit, split into parts for reading (each a few hundred lines, all static):
 *   engine_c/state.c        the autodiff classes and their slots, interned names, set-up
 *   engine_c/visible.c      which nodes the cycle collector walks (hide/show, track)
 *   engine_c/helpers.c      per-class reads, Tensor construction, shared metadata, saved values
 *   engine_c/record.c       the recorder (function.record): apply
 *   engine_c/loop.c         the backward loop (backward._loop): loop
 *   engine_c/classmethod.c  cached_classmethod, the descriptor behind Function.apply
 */

#include "engine_c/state.c"
#include "engine_c/helpers.c"
#include "engine_c/visible.c"
#include "engine_c/record.c"
#include "engine_c/loop.c"
#include "engine_c/classmethod.c"

static PyMethodDef methods[] = {
    {"apply", (PyCFunction)(void (*)(void))engine_apply, METH_FASTCALL | METH_KEYWORDS,
     "apply(cls, *args, **kwargs): run Function ``cls`` on the arguments and record it (function.record)."},
    {"loop", (PyCFunction)(void (*)(void))engine_loop, METH_FASTCALL,
     "loop(heap, buffers, leaf_grads, leaf_order, retain_graph, create_graph, capture, captured): the "
     "backward loop (backward._loop)."},
    {"track", (PyCFunction)engine_track, METH_O,
     "track(node): make a recorded node, its ctx and its edges visible to the cycle collector again "
     "(function.track)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_engine",
                                    "The recorder and backward loop of autodiff, compiled (no per-op code).", -1,
                                    methods};

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
