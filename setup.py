"""Build of the optional C accelerator (autodiff/_fastop.c); everything else is in pyproject.toml.

``optional=True``: without a C compiler or Python's headers the install still succeeds and the engine
runs its pure-Python path (the same graphs, more per-op overhead).
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("autodiff._fastop", ["autodiff/_fastop.c"], optional=True)])
