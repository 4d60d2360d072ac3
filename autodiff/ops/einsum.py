"""einsum: one op for every equation, with ellipsis; its gradient is again an einsum.

For operand i the gradient is ``einsum(out, <other operands>, <extras> -> s_i)`` of the incoming
gradient and the other operands: every label outside ``s_i`` is summed, as the chain rule asks.
Two extras make that exact: a label repeated inside ``s_i`` (``'ii'``, a diagonal) gets a fresh label
and an identity matrix tying the two, and a label that only ``s_i`` has (summed away in the forward)
gets a vector of ones, which broadcasts the gradient along it. Because the gradient is an einsum of
the same op, a ``create_graph`` backward differentiates it again.
"""
import string

import numpy as np

from ..errors import ShapeError
from ..function import Function
from .array_or_tensor import _is_tensor

__all__ = ["Einsum", "parse", "sublist_equation"]


def _tokens(term):
    out, i = [], 0
    while i < len(term):
        if term.startswith("...", i):
            out.append("...")
            i += 3
        elif term[i] in string.ascii_letters:
            out.append(term[i])
            i += 1
        else:
            raise ShapeError(f"einsum: invalid subscript {term[i]!r} in {term!r}: only letters and '...' are allowed")
    return out


def parse(equation, n_operands):
    """(input token lists, output token list) of ``equation``; the implicit output is made explicit."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = [_tokens(t) for t in lhs.split(",")]
    if len(terms) != n_operands:
        raise ShapeError(f"einsum: the equation {equation!r} has {len(terms)} operand(s) but "
                         f"{n_operands} were given")
    if arrow:
        out = _tokens(rhs)
        labels = {t for term in terms for t in term}
        for t in out:
            if t not in labels:
                raise ShapeError(f"einsum: output subscript {t!r} does not appear in the inputs of {equation!r}")
        if len(set(out)) != len(out):
            raise ShapeError(f"einsum: output subscript repeated in {equation!r}")
    else:
        counts = {}
        for term in terms:
            for t in term:
                counts[t] = counts.get(t, 0) + 1
        out = (["..."] if "..." in counts else []) + sorted(t for t, c in counts.items() if c == 1 and t != "...")
    return terms, out


def sublist_equation(args):
    """torch's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``: (equation, operands)."""
    n = len(args) // 2
    ops, subs = list(args[0:2 * n:2]), list(args[1:2 * n:2])
    out = args[2 * n] if len(args) % 2 else None

    def term(sub):
        return "".join("..." if s is Ellipsis else string.ascii_letters[int(s)] for s in sub)
    eq = ",".join(term(s) for s in subs)
    if out is not None:
        eq += "->" + term(out)
    return eq, ops


def _join(terms, out):
    return ",".join("".join(t) for t in terms) + "->" + "".join(out)


def einsum_any(equation, *operands):
    """einsum on arrays, or recorded through ``Einsum`` when an operand is a Tensor."""
    if any(_is_tensor(o) for o in operands):
        return Einsum.apply(equation, *operands)
    return _np_einsum(*parse(equation, len(operands)), operands)


def _np_einsum(terms, out, operands):
    """np.einsum; an ellipsis missing from the output is summed away, as torch does."""
    optimize = len(operands) > 1
    if "..." in out or not any("..." in t for t in terms):
        return np.einsum(_join(terms, out), *operands, optimize=optimize)
    full = np.einsum(_join(terms, ["..."] + out), *operands, optimize=optimize)
    return full.sum(axis=tuple(range(full.ndim - len(out))))


class Einsum(Function):
    """einsum(equation, *operands): a sum over the labels not in the output of the operands' product."""

    @staticmethod
    def forward(ctx, equation, *operands):
        terms, out = parse(equation, len(operands))
        for term, op in zip(terms, operands):
            fixed = len([t for t in term if t != "..."])
            if ("..." in term and np.ndim(op) < fixed) or ("..." not in term and np.ndim(op) != fixed):
                raise ShapeError(f"einsum: the subscripts {''.join(term)!r} don't match an operand of shape "
                                 f"{np.shape(op)}")
        ctx.terms, ctx.out = terms, out
        ctx.save_for_backward(*operands)
        return _np_einsum(terms, out, operands)

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        terms, out = ctx.terms, ctx.out
        grads = [None]
        for i, (term, op) in enumerate(zip(terms, operands)):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            grads.append(_operand_grad(g, i, term, op, terms, out, operands))
        return tuple(grads)


def _operand_grad(g, i, term, op, terms, out, operands):
    dtype = g.dtype
    used = {t for tt in terms for t in tt} | set(out)
    fresh = iter(c for c in string.ascii_letters if c not in used)
    in_terms, in_ops = [list(out)], [g]
    for j, (tj, oj) in enumerate(zip(terms, operands)):
        if j != i:
            in_terms.append(tj)
            in_ops.append(oj)
    known = {t for tt in in_terms for t in tt}
    shape = np.shape(op)
    ell = shape[term.index("..."):len(shape) - (len(term) - term.index("...") - 1)] if "..." in term else ()
    sizes, k = {}, 0
    for t in term:
        if t == "...":
            k += len(ell)
        else:
            sizes.setdefault(t, shape[k])
            k += 1
    target, seen = [], set()
    for t in term:
        if t != "..." and t in seen:  # a repeated label: a fresh one, tied to it by an identity
            f = next(fresh)
            in_terms.append([t, f])
            in_ops.append(np.eye(sizes[t], dtype=dtype))
            target.append(f)
            continue
        seen.add(t)
        target.append(t)
        if t not in known:  # only this operand has it: broadcast the gradient along it
            if t == "...":
                in_ops.append(np.ones(ell, dtype))
            else:
                in_ops.append(np.ones(sizes[t], dtype))
            in_terms.append([t])
            known.add(t)
    grad = einsum_any(_join(in_terms, target), *in_ops)
    return _unbroadcast_ellipsis(grad, term, shape, ell)


def _unbroadcast_ellipsis(grad, term, shape, ell):
    """Sum the ellipsis dims that broadcasting stretched or added, back to the operand's ``shape``."""
    if "..." not in term or tuple(grad.shape) == tuple(shape):
        return grad
    p = term.index("...")
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(p, p + extra)))
    stretched = tuple(p + k for k, s in enumerate(ell) if s == 1 and grad.shape[p + k] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
