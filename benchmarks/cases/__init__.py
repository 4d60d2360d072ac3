"""Benchmark cases. Every module in this package is imported by ``harness.discover()``.

Each module registers its rows with ``@benchmarks.harness.register(name, group)``;
see the docstring of ``benchmarks/harness.py`` for the API and an example.
Imports of ``autodiff``/``nn``/``torch`` belong inside the setup functions, so a missing
piece skips its rows instead of breaking discovery.
"""
