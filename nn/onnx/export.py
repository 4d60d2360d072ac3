"""``nn.onnx.export``: trace a model once (plus checking runs), convert each op, check and write."""
import os
import tempfile
import warnings

import numpy as np

from autodiff import Tensor

from .builder import Exporter
from .convert import ExportError

__all__ = ["export", "DEFAULT_OPSET", "SUPPORTED_OPSETS"]

#: the opset written when ``opset_version`` is None
DEFAULT_OPSET = 19
#: the opsets the converters are written (and tested) for
SUPPORTED_OPSETS = range(17, 24)


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=None,
           do_constant_folding=True):
    """Export ``model`` to an ONNX file, as ``torch.onnx.export`` does.

    One forward pass of ``model`` on ``args`` is traced through the engine's own recorder
    (``autodiff.tracing()``) with the model in eval mode (its modes are restored afterwards), and
    every recorded op becomes ONNX nodes. Parameters and buffers become initializers named by their
    ``state_dict`` keys. The model is checked with ``onnx.checker`` and written to a temporary file
    that is renamed onto ``f`` only when everything succeeded, so an error leaves no partial file. When
    onnxruntime is installed, the model is also run on ``args`` and its outputs compared with ours.

    Args:
        model: an ``nn.Module`` (or any callable of Tensors).
        args: the example input: a Tensor or array, or a tuple of them (nested tuples and a final
            dict of keyword arguments are accepted, as torch does). Tensors and arrays become graph
            inputs; other values (flags, sizes, None) are passed to ``forward`` as they are.
        f: a path, or a binary file object to write to.
        input_names: names of the graph inputs in flattened order (default: the names of
            ``forward``'s parameters).
        output_names: names of the graph outputs (default ``output``, or ``output_0``, ...).
        dynamic_axes: ``{name: [axis, ...]}`` or ``{name: {axis: "symbol"}}`` for inputs and outputs
            whose sizes may change (e.g. ``{"x": {0: "batch"}}``). Inputs that share a symbol name
            share the size. Which dimensions inside the model follow each symbol is found by tracing
            once more with that axis at another size.
        opset_version: the ONNX opset (default :data:`DEFAULT_OPSET`, 19; 17 to 23 are supported).
        do_constant_folding: compute ops whose inputs are all constants made inside ``forward``
            (not parameters or buffers) at export time and store their results; parameters and
            buffers always stay initializers under their own names.

    Returns:
        The ``onnx.ModelProto`` that was written.

    Raises:
        ExportError: an op without an ONNX form (the message names the op, its module and the
            opset), a constant that depends on the inputs, or a graph that changes with a
            dynamic axis.
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("nn.onnx.export needs the onnx package: pip install 'autodiff-nn[onnx]'") from None
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if opset not in SUPPORTED_OPSETS:
        raise ValueError(f"onnx export: opset_version {opset} is not supported (use {SUPPORTED_OPSETS.start} to "
                         f"{SUPPORTED_OPSETS.stop - 1}; default {DEFAULT_OPSET})")
    args, kwargs = _split_args(args)
    modes = [(m, m.training) for m in _modules(model)]
    for m, _ in modes:
        m.training = False
    try:
        exporter = Exporter(model, args, kwargs, opset, bool(do_constant_folding))
        proto = exporter.build(input_names, output_names, dynamic_axes)
    finally:
        for m, flag in modes:
            m.training = flag
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as e:  # ValidationError, or InferenceError from the shape inference of full_check
        raise ExportError(f"onnx export: the built model does not pass onnx.checker (opset {opset}): {e}") from None
    data = proto.SerializeToString()
    _verify(data, proto, exporter.trace, [(f"the input of the run with {reason}", run)
                                          for reason, run in exporter.other_traces])
    _write(data, f)
    return proto


def _verify(data, proto, trace, others):
    """Run the model in onnxruntime (when installed) on the example input and on the inputs of the
    checking runs (other values, other sizes of the dynamic axes), and compare with our outputs.

    A difference means the graph missed something the forward did (e.g. an in-place change of a tensor
    that needs no gradient, which the recorder does not see). A model onnxruntime cannot run (a kernel
    it lacks, such as a float64 LSTM) is only warned about.
    """
    try:
        import onnxruntime
    except ImportError:
        return
    try:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 4  # the failure is reported as a warning below, not logged
        session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        runs = [(what, run, session.run(None, {i.name: t.data for i, t in zip(proto.graph.input, run.inputs)}))
                for what, run in [("the example input", trace)] + others]
    except Exception as e:  # onnxruntime's own errors have no common base class
        warnings.warn(f"onnx export: could not check the exported model in onnxruntime: {e}", stacklevel=3)
        return
    for what, run, results in runs:
        _compare(proto, what, run.outputs, results)


def _compare(proto, what, outputs, results):
    for k, (ours, theirs) in enumerate(zip(outputs, results)):
        ours = ours.data
        scale = max(1.0, float(np.max(np.abs(ours)))) if ours.size and ours.dtype.kind in "fc" else 1.0
        tol = (1e-9 if ours.dtype == np.float64 else 1e-4) * scale
        if ours.shape != theirs.shape or (ours.size and not np.allclose(theirs, ours, rtol=0, atol=tol,
                                                                        equal_nan=True)):
            worst = float(np.max(np.abs(theirs - ours))) if ours.shape == theirs.shape else float("nan")
            raise ExportError(
                f"onnx export: the exported graph does not compute what the model does: output "
                f"{proto.graph.output[k].name!r} differs from ours by {worst:.3g} at {what} (shapes "
                f"{theirs.shape} and {ours.shape}). Something in forward ran outside the recorder, e.g. an "
                f"in-place change (+=, t[i] = v) of a tensor that needs no gradient; use out-of-place ops")


def _modules(model):
    if hasattr(model, "modules"):
        return list(model.modules())
    return []


def _as_tensor(a):
    """Arrays become Tensors (graph inputs); Python values (flags, sizes, None) stay as they are."""
    if isinstance(a, (Tensor, np.ndarray, np.generic)):
        return a if isinstance(a, Tensor) else Tensor(np.asarray(a))
    if isinstance(a, (tuple, list)):
        return type(a)(_as_tensor(v) for v in a)
    return a


def _split_args(args):
    if not isinstance(args, tuple):
        args = (args,)
    kwargs = {}
    if args and isinstance(args[-1], dict):
        kwargs = {k: _as_tensor(v) for k, v in args[-1].items()}
        args = args[:-1]
    return tuple(_as_tensor(a) for a in args), kwargs


def _write(data, f):
    """Write ``data`` to path ``f`` through a temporary file and a rename, or to a binary file object."""
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".onnx-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
