"""Grad mode and naming scope, kept in context variables (thread- and task-safe, no global flag)."""
import contextvars
import functools

_grad_enabled = contextvars.ContextVar("autodiff_grad_enabled", default=True)
_scope = contextvars.ContextVar("autodiff_scope", default="")


def is_grad_enabled():
    """True when operations are recorded for backward in the current context."""
    return _grad_enabled.get()


class _GradMode:
    """Context manager and decorator that sets grad mode for the code inside it."""

    enabled = True

    def __init__(self):
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_grad_enabled.set(self.enabled))
        return self

    def __exit__(self, *exc):
        _grad_enabled.reset(self._tokens.pop())
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable graph recording: ``with autodiff.no_grad(): ...`` (or as a decorator)."""

    enabled = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradMode):
    """Set grad mode to ``mode`` for the block."""

    def __init__(self, mode):
        super().__init__()
        self.enabled = bool(mode)

    def __call__(self, fn):  # pragma: no cover - same as the parent but keeps the flag
        mode = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


_inference = contextvars.ContextVar("autodiff_inference_mode", default=False)


class inference_mode:
    """Like ``no_grad`` for inference (``with autodiff.inference_mode(): ...`` or as a decorator).

    Args:
        mode: True (the default) turns recording off inside the block; False leaves grad mode as it is.

    Nothing is recorded inside the block, as under ``no_grad``; ``is_inference_mode_enabled()`` tells
    the block apart. (PyTorch also marks the tensors made inside as inference tensors; here they are
    ordinary tensors.)
    """

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self._tokens = []

    def __enter__(self):
        if self.mode:
            self._tokens.append((_grad_enabled.set(False), _inference.set(True)))
        else:
            self._tokens.append(None)
        return self

    def __exit__(self, *exc):
        tokens = self._tokens.pop()
        if tokens is not None:
            _inference.reset(tokens[1])
            _grad_enabled.reset(tokens[0])
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled():
    """True inside ``inference_mode()``."""
    return _inference.get()


def current_scope():
    """The dotted name of the scope operations are being recorded in ('' at top level)."""
    return _scope.get()


class scope:
    """Name the operations recorded inside the block, e.g. by module path (``fc1``).

    Scopes nest with dots: ``with scope('encoder'): with scope('fc1'):`` records ``encoder.fc1``.
    Pictures group graph nodes by this name.
    """

    def __init__(self, name):
        self.name = str(name)
        self._tokens = []

    def __enter__(self):
        outer = _scope.get()
        full = f"{outer}.{self.name}" if outer and self.name else (self.name or outer)
        self._tokens.append(_scope.set(full))
        return self

    def __exit__(self, *exc):
        _scope.reset(self._tokens.pop())
        return False


_tracing = contextvars.ContextVar("autodiff_tracing", default=False)


def is_tracing():
    """True inside ``autodiff.tracing()``: every op is recorded with its arguments."""
    return _tracing.get()


class tracing:
    """Record every op as a graph node, with its arguments, even when nothing requires grad.

    Inside the block each recorded ``Node`` also keeps ``node.inputs`` (the positional arguments as
    passed to ``Function.apply``: Tensors and constants) and ``node.kwargs``. Exporters walk that graph
    (``nn.onnx.export``); ordinary recording keeps neither.
    """

    def __init__(self):
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_tracing.set(True))
        return self

    def __exit__(self, *exc):
        _tracing.reset(self._tokens.pop())
        return False
