"""Names for the pictures: which leaf is which parameter, which is an input, and what to call the rest.

``nn.Module.__call__`` calls :func:`note_module` once it has entered its ``autodiff.scope``, so this
registry maps each scope path (``LeNet.features.0``) to the module last called there (a weak
reference; autodiff never imports nn). The graph walk then names a leaf parameter by looking at the
modules of the scopes of the ops that read it: ``features.0.weight``, qualified from the outermost
module as ``model.named_parameters()`` would name it. A module is recognised by duck typing (a
``named_parameters`` method); only a parameter that *is* the leaf (identity) gives its name, so a
stale entry never mislabels.
"""
import weakref

from ..grad_mode import current_scope

__all__ = ["note_module", "module_at", "param_names_from_scopes", "normalize_params", "normalize_inputs"]

_MODULES = {}  # scope path -> weakref to the module last called there
_PARAMS = {}  # id(parameter) -> (weakref to it, qualified name): names outlive their module
_PRUNE_AT = [1024]


def note_module(module):
    """Record that ``module`` runs in the current scope (called by ``nn.Module.__call__``).

    On a module's first call at a path its own parameters are noted with their qualified names
    (the path without the outermost module's name, then the attribute), so a graph can still name
    them after the module itself is gone.
    """
    path = current_scope()
    ref = _MODULES.get(path)
    if ref is None or ref() is not module:
        _MODULES[path] = weakref.ref(module)
        _note_params(module, path)


def _note_params(module, path):
    own = getattr(module, "_parameters", None)
    if not isinstance(own, dict):
        return
    prefix = path.split(".", 1)[1] + "." if "." in path else ""
    for attr, p in own.items():
        if p is None:
            continue
        try:
            _PARAMS[id(p)] = (weakref.ref(p), prefix + attr)
        except TypeError:  # not weak-referenceable: no automatic name
            continue
    if len(_PARAMS) > _PRUNE_AT[0]:
        for key in [k for k, (r, _) in _PARAMS.items() if r() is None]:
            del _PARAMS[key]
        _PRUNE_AT[0] = max(1024, 2 * len(_PARAMS))


def is_module_path(path):
    """Whether a module has been called in scope ``path`` (even if it is gone now)."""
    return path in _MODULES


def module_at(path):
    """The module last called in scope ``path`` (None if unknown or garbage-collected)."""
    ref = _MODULES.get(path)
    return None if ref is None else ref()


def _named_params(module):
    fn = getattr(module, "named_parameters", None)
    if not callable(fn):
        return ()
    try:
        return list(fn())
    except Exception:  # a foreign object with another signature: no names from it
        return ()


def param_names_from_scopes(scopes, leaves):
    """id(leaf tensor) -> qualified parameter name, found through the modules of ``scopes``.

    Args:
        scopes: scope paths of the ops in the graph.
        leaves: the leaf tensors of the graph.
    """
    wanted = {id(t) for t in leaves}
    roots = {}
    for s in scopes:
        if s:
            roots.setdefault(s.split(".")[0], s)
    names = {}
    for top in roots:
        module = module_at(top)
        if module is None:
            continue
        for name, p in _named_params(module):
            if id(p) in wanted and id(p) not in names:
                names[id(p)] = name
    for t in leaves:  # modules that are gone, or called on their own: the names noted at their call
        entry = _PARAMS.get(id(t))
        if id(t) not in names and entry is not None and entry[0]() is t:
            names[id(t)] = entry[1]
    if len(names) < len(wanted):  # a submodule called on its own, without its parent
        for s in sorted(set(scopes), key=len):
            module = module_at(s)
            if module is None:
                continue
            for name, p in _named_params(module):
                if id(p) in wanted and id(p) not in names:
                    names[id(p)] = name
    return names


def normalize_params(params):
    """``params=`` as a list of ``(name, tensor)``: a module (``named_parameters``), a dict, pairs,
    or tensors carrying ``.name``."""
    if params is None:
        return []
    if callable(getattr(params, "named_parameters", None)):
        return list(params.named_parameters())
    if isinstance(params, dict):
        return list(params.items())
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"viz: params= must be a module, a dict name -> tensor or an iterable of "
                        f"(name, tensor) pairs, got {type(params).__name__}")
    out = []
    for item in params:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out.append(item)
        elif getattr(item, "name", None):
            out.append((item.name, item))
        else:
            raise TypeError("viz: params= items must be (name, tensor) pairs or tensors with a .name, "
                            f"got {type(item).__name__}")
    return out


def normalize_inputs(inputs):
    """``inputs=`` as ``(name, tensor)`` pairs: a dict, pairs, or a list of tensors (``input k``)."""
    if inputs is None:
        return []
    if isinstance(inputs, dict):
        return list(inputs.items())
    if hasattr(inputs, "data") and hasattr(inputs, "grad_fn"):
        return [("input 0", inputs)]
    out = []
    for k, item in enumerate(inputs):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out.append(item)
        else:
            out.append((getattr(item, "name", None) or f"input {k}", item))
    return out
