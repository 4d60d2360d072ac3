"""Micro-benchmarks: ``python -m benchmarks`` (see benchmarks/README.md).

Cases live in ``benchmarks/cases/`` and register themselves with
:func:`benchmarks.harness.register`; the harness checks, times and reports them.
"""
