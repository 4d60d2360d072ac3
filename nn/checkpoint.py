"""Checkpoints: nested state dicts saved as a plain ``.npz`` file, loaded without pickle.

Layout of the file (a zip of ``.npy`` arrays, readable with ``np.load`` alone):

* one entry per array, named by its dotted path in the nested structure, e.g.
  ``model.0.weight`` or ``optimizer.state.0.exp_avg``;
* one entry ``__checkpoint__``: UTF-8 JSON stored as a uint8 array. It records the format
  version, the nested structure (dicts with str or int keys, lists, tuples), every non-array
  value (int, float incl. inf/nan, bool, None, str) and the shape and dtype of every array.

Loading uses ``np.load(..., allow_pickle=False)``, so a file from a stranger cannot run
code; object arrays are refused when saving. Writes are atomic: the data go to a temporary
file in the same directory, which is flushed, fsync-ed and then renamed over the target
with ``os.replace``; a crash mid-write leaves the previous checkpoint untouched.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "autodiff-nn-checkpoint"
VERSION = 1
META_KEY = "__checkpoint__"


class CheckpointError(RuntimeError):
    """A checkpoint file is corrupt, truncated or does not match its own metadata."""


def _is_array_like(x) -> bool:
    if isinstance(x, (np.ndarray, np.generic)):
        return True
    return isinstance(getattr(x, "data", None), np.ndarray)  # an autodiff Tensor


def _encode(obj, path: list, arrays: dict, who: str):
    """Structure of ``obj`` as JSON-able data; arrays are moved into ``arrays`` by dotted key."""
    if _is_array_like(obj):
        scalar = isinstance(obj, np.generic)
        a = np.asarray(obj if isinstance(obj, (np.ndarray, np.generic)) else obj.data)
        if a.dtype.hasobject:
            raise TypeError(f"{who}: {'.'.join(path) or 'value'} is an object array; only numeric, "
                            f"bool and string arrays can be saved without pickle")
        key = ".".join(path)
        if not key or key == META_KEY:
            raise ValueError(f"{who}: invalid array key {key!r}")
        if key in arrays:
            raise ValueError(f"{who}: two entries flatten to the same key {key!r}; "
                             f"rename one of them")
        arrays[key] = a
        return {"array": key, "shape": list(a.shape), "dtype": a.dtype.str, "scalar": scalar}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int, np.integer)):
                raise TypeError(f"{who}: dict keys must be str or int, got {k!r} at "
                                f"{'.'.join(path) or 'top level'}")
            k = int(k) if isinstance(k, np.integer) else k
            items.append([k, _encode(v, path + [str(k)], arrays, who)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, path + [str(i)], arrays, who) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(f"{who}: cannot save {type(obj).__name__} at {'.'.join(path) or 'top level'}; "
                    f"use arrays, Tensors, numbers, str, None, dicts, lists and tuples")


def _write_arrays(f, arrays: dict) -> None:
    """Write the npz payload to the open file ``f`` (a seam the tests use to simulate crashes)."""
    np.savez(f, **arrays)


def save(state_dict, path) -> None:
    """Save a (nested) state dict to ``path`` as ``.npz``, atomically.

    Args:
        state_dict: e.g. ``model.state_dict()``, ``optimizer.state_dict()`` or a dict holding
            both plus plain values (epoch, loss...). Tensors are stored as their arrays.
        path: the target file; written exactly as given (no extension is added).

    Raises:
        TypeError: for values that cannot be stored without pickle.
    """
    path = Path(path)
    arrays: dict = {}
    tree = _encode(state_dict, [], arrays, "save")
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[META_KEY] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"save: cannot write checkpoint '{path}': directory "
                                f"'{directory}' does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_arrays(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _decode(node, arrays: dict, used: set, where: str):
    if "array" in node:
        key = node["array"]
        if key not in arrays:
            raise CheckpointError(f"{where}: array {key!r} listed in the metadata is missing")
        a = arrays[key]
        if list(a.shape) != node["shape"] or a.dtype.str != node["dtype"]:
            raise CheckpointError(f"{where}: array {key!r} has shape {tuple(a.shape)} and dtype "
                                  f"{a.dtype}, the metadata says {tuple(node['shape'])} and "
                                  f"{np.dtype(node['dtype'])}")
        used.add(key)
        return a[()] if node.get("scalar") else a
    if "dict" in node:
        return {k: _decode(v, arrays, used, where) for k, v in node["dict"]}
    if "list" in node:
        return [_decode(v, arrays, used, where) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays, used, where) for v in node["tuple"])
    if "value" in node:
        return node["value"]
    raise CheckpointError(f"{where}: unknown metadata node {sorted(node)}")


def load(path):
    """Load a checkpoint written by :func:`save`.

    Arrays come back as numpy arrays (``Module.load_state_dict`` accepts them), the
    structure and plain values as saved (dict keys keep their int/str type, tuples stay tuples).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        IsADirectoryError: if ``path`` is a directory.
        CheckpointError: if the file is not a checkpoint, is truncated or corrupt, or its
            arrays do not match the metadata. The message names the file.
    """
    path = Path(path)
    where = f"checkpoint '{path}'"
    if not path.exists():
        raise FileNotFoundError(f"{where} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{where} is a directory, not a checkpoint file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}  # reading every entry checks its CRC
    except ValueError as e:
        if "pickle" in str(e):  # a pickle file, or an .npz holding object arrays
            raise CheckpointError(f"{where} contains pickled objects, which nn.load never loads "
                                  f"(safety): save with nn.save") from e
        raise CheckpointError(f"{where} is corrupt or truncated and cannot be read "
                              f"({type(e).__name__}: {e})") from e
    except (zipfile.BadZipFile, OSError, EOFError, KeyError,
            zipfile.LargeZipFile, io.UnsupportedOperation) as e:
        raise CheckpointError(f"{where} is corrupt or truncated and cannot be read "
                              f"({type(e).__name__}: {e})") from e
    if not isinstance(arrays, dict) or META_KEY not in arrays:
        raise CheckpointError(f"{where} is not a checkpoint written by nn.save "
                              f"(no {META_KEY!r} entry)")
    try:
        meta = json.loads(arrays.pop(META_KEY).tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{where}: unknown format {meta.get('format')!r}")
        if meta.get("version") != VERSION:
            raise CheckpointError(f"{where}: format version {meta.get('version')!r} is not "
                                  f"supported (this code reads version {VERSION})")
        used: set = set()
        out = _decode(meta["tree"], arrays, used, where)
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{where}: the metadata is corrupt ({type(e).__name__}: {e})") from e
    extra = sorted(set(arrays) - used)
    if extra:
        raise CheckpointError(f"{where}: arrays {extra} are not described by the metadata")
    return out
