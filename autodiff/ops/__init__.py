"""Differentiable ops: one Function class per op, forward and backward side by side."""
