"""Tensor's methods, one mixin class per family; each method is a thin call into an op's ``apply``.

``autodiff.tensor.Tensor`` inherits them all. The ops they call live in ``autodiff/ops/``.
"""
