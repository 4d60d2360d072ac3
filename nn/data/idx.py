"""Readers for the IDX file format used by MNIST and Fashion-MNIST.

An IDX file starts with a 4-byte magic number: two zero bytes, a byte naming the
element type and a byte giving the number of dimensions. Then come the sizes of
each dimension as big-endian uint32, then the data, big-endian, row-major.
Files may be gzip-compressed (``.gz``). Nothing here downloads anything: point
the loader at a directory that already holds the files.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["load_idx", "save_idx", "load_image_set", "find_data_dir", "DEFAULT_DATA_DIR",
           "FASHION_MNIST_CLASSES"]

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist/"
ENV_VARS = ("AUTODIFF_DATA_DIR", "FASHION_MNIST_DIR")

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# IDX element type code -> big-endian numpy dtype
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_DTYPE_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}

_SPLIT_PREFIXES = {"train": "train", "test": "t10k"}


def _read_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            return fh.read()
    except (OSError, EOFError) as exc:  # truncated gzip stream, bad gzip header...
        raise ValueError(f"load_idx: cannot read {str(path)!r}: {exc}") from exc


def load_idx(path) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a numpy array.

    Args:
        path: path of the file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns:
        An array in native byte order with the shape stored in the header
        (uint8 for image and label files).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: bad magic number, unknown type code, truncated header or data,
            or trailing bytes. The message names the file and the expected vs
            actual sizes.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_idx: no such file {str(path)!r}")
    raw = _read_bytes(path)
    name = str(path)
    if len(raw) < 4:
        raise ValueError(f"load_idx: {name!r} is truncated: expected at least 4 header bytes, "
                         f"got {len(raw)}")
    zero1, zero2, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0 or code not in _IDX_DTYPES:
        raise ValueError(f"load_idx: {name!r} is not an IDX file: bad magic number "
                         f"0x{raw[:4].hex()} (expected 0x0000TTDD with type TT in "
                         f"{sorted(hex(c) for c in _IDX_DTYPES)})")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(f"load_idx: {name!r} is truncated: header needs {header_len} bytes "
                         f"for {ndim} dimensions, got {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = header_len + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "too long"
        raise ValueError(f"load_idx: {name!r} is {what}: header says shape {shape} of {dtype.name} "
                         f"so expected {expected} bytes, got {len(raw)}")
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def save_idx(array, path) -> Path:
    """Write ``array`` as an IDX file; a ``.gz`` suffix writes it gzip-compressed.

    Args:
        array: array of uint8, int8, int16, int32, float32 or float64.
        path: destination path.

    Returns:
        The path written.
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _DTYPE_CODES:
        raise ValueError(f"save_idx: dtype {array.dtype} has no IDX type code; use one of "
                         f"{sorted(str(d) for d in _DTYPE_CODES)}")
    if array.ndim > 255:
        raise ValueError(f"save_idx: IDX stores at most 255 dimensions, got {array.ndim}")
    code = _DTYPE_CODES[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    body = np.ascontiguousarray(array, dtype=_IDX_DTYPES[code]).tobytes()
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as fh:
        fh.write(header + body)
    return path


def find_data_dir(directory=None) -> Path:
    """The directory to read image sets from.

    Order: the ``directory`` argument, then the environment variables
    ``AUTODIFF_DATA_DIR`` and ``FASHION_MNIST_DIR``, then
    ``/usr/share/datasets/fashion-mnist/``.
    """
    if directory is not None:
        return Path(directory)
    for var in ENV_VARS:
        value = os.environ.get(var)
        if value:
            return Path(value)
    return Path(DEFAULT_DATA_DIR)


def _find_file(directory: Path, prefix: str, part: str) -> Path:
    """Find ``{prefix}-{part}-ubyte`` with '-' or '.' before ``part`` and optional .gz."""
    candidates = [f"{prefix}{sep}{part}-ubyte{gz}" for sep in ("-", ".") for gz in (".gz", "")]
    for candidate in candidates:
        path = directory / candidate
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"load_image_set: no {part} file for {prefix!r} in {str(directory)!r} "
        f"(looked for {', '.join(candidates)}). Pass directory=... or set AUTODIFF_DATA_DIR "
        f"to a folder holding MNIST / Fashion-MNIST IDX files (Debian package "
        f"dataset-fashion-mnist installs them in {DEFAULT_DATA_DIR}).")


def load_image_set(directory=None, split: str = "train", kind: str | None = None,
                   scale: bool = False):
    """Load images and labels of MNIST, Fashion-MNIST or any set in the same layout.

    Args:
        directory: folder holding ``train-images-idx3-ubyte[.gz]``,
            ``train-labels-idx1-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]``,
            ``t10k-labels-idx1-ubyte[.gz]``. Default: see :func:`find_data_dir`.
        split: ``'train'`` or ``'test'`` (file prefixes ``train`` and ``t10k``).
        kind: explicit file prefix overriding ``split`` (e.g. ``'emnist-letters-train'``).
        scale: if True return images as float32 in [0, 1]; else uint8 in [0, 255].

    Returns:
        ``(images, labels)``: images of shape ``(N, rows, cols)`` and labels of
        shape ``(N,)`` as int64.

    Raises:
        FileNotFoundError: a file is missing (the message says where it looked).
        ValueError: a file is malformed, or image and label counts differ.
    """
    if kind is None:
        if split not in _SPLIT_PREFIXES:
            raise ValueError(f"load_image_set: split must be 'train' or 'test', got {split!r}")
        kind = _SPLIT_PREFIXES[split]
    directory = find_data_dir(directory)
    if not directory.is_dir():
        raise FileNotFoundError(
            f"load_image_set: data directory {str(directory)!r} does not exist. Pass directory=... "
            f"or set AUTODIFF_DATA_DIR.")
    image_path = _find_file(directory, kind, "images-idx3")
    label_path = _find_file(directory, kind, "labels-idx1")
    images = load_idx(image_path)
    labels = load_idx(label_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"load_image_set: {str(image_path)!r} should hold uint8 images of shape "
                         f"(N, rows, cols), got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"load_image_set: {str(label_path)!r} should hold uint8 labels of shape "
                         f"(N,), got {labels.dtype} {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"load_image_set: {images.shape[0]} images in {str(image_path)!r} but "
                         f"{labels.shape[0]} labels in {str(label_path)!r}")
    if scale:
        images = images.astype(np.float32) / np.float32(255.0)
    return images, labels.astype(np.int64)
