"""Numba kernels: ndarrays in, ndarrays out; nothing here knows about Tensor.

Flags live in ``jit.py``; each kernel has a slow numpy twin (``reference.py``, ``reference_rnn.py``)
that the tests compare it with.
"""
