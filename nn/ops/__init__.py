"""Fused Function classes behind ``nn.functional`` (one class per op, forward and backward side by side).

They follow the engine's contract (``autodiff.Function``); ``nn.functional`` is the public entry.
"""
