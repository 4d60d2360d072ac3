"""nn: layers, losses, initialisers, optimizers and data utilities on top of the autodiff engine.

The public API, re-exported (PyTorch's names): ``nn.Module``, ``nn.Linear``, ``nn.CrossEntropyLoss``,
``nn.functional``, ``nn.init``, ``nn.optim``, ``nn.data``, ``nn.metrics``, ``nn.save`` / ``nn.load``.
"""
from .module import IncompatibleKeys, Module, ModuleList, Parameter, Sequential
