"""Shape, indexing, sorting and product ops against PyTorch: one table of cases, one test.

Each case is ``(name, fn, shapes, differentiable)``; ``fn(L, *inputs)`` is written once in the spelling
both libraries share (``L`` is ``autodiff`` or ``torch``), so the table is also a check that code
written for torch runs unchanged. The test compares values and gradients with torch in float32 and
float64, and runs gradcheck in float64 for the differentiable cases.
"""
import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")

IDX = np.array([[1, 0, 3], [2, 2, 0]])          # an index along dim 1 of a (2, 4) tensor
IDX3 = np.array([[[1, 0, 3, 3, 0]], [[2, 2, 0, 1, 1]]])  # along dim 1 of (2, 4, 5), shape (2, 1, 5)
ROWS = np.array([2, 0, 2])
MASK = np.array([[True, False, True, True], [False, False, True, False]])
MASK_ROW = np.array([True, False, False, True])


def T(L, a):
    """A constant tensor (an index or a mask) of library L."""
    return L.tensor(a)


def first(out):
    return out[0] if isinstance(out, tuple) else out


CASES = [
    # permutations of the dims
    ("transpose", lambda L, x: x.transpose(0, 2), [(2, 3, 4)], True),
    ("transpose neg", lambda L, x: x.transpose(-1, 1), [(2, 3, 4)], True),
    ("transpose 2d", lambda L, x: x.transpose(0, 1), [(3, 1)], True),
    ("L.transpose", lambda L, x: L.transpose(x, 1, 2), [(2, 3, 4)], True),
    ("swapdims", lambda L, x: x.swapdims(0, 1), [(2, 3, 4)], True),
    ("swapaxes", lambda L, x: L.swapaxes(x, 0, 2), [(2, 3, 4)], True),
    ("t", lambda L, x: x.t(), [(3, 4)], True),
    ("t 1d", lambda L, x: x.t(), [(3,)], True),
    ("mT", lambda L, x: x.mT, [(2, 3, 4)], True),
    ("permute", lambda L, x: x.permute(2, 0, 1), [(2, 3, 4)], True),
    ("movedim", lambda L, x: x.movedim(0, -1), [(2, 3, 4)], True),
    ("movedim tuple", lambda L, x: L.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)], True),
    ("moveaxis", lambda L, x: x.moveaxis(-1, 0), [(2, 1, 4)], True),
    # same elements, another shape
    ("contiguous view", lambda L, x: x.transpose(0, 1).contiguous().view(-1), [(2, 3)], True),
    ("view_as", lambda L, x, y: x.view_as(y) * y, [(2, 6), (3, 4)], True),
    ("flatten", lambda L, x: x.flatten(1, 2), [(2, 3, 4, 1)], True),
    ("unflatten", lambda L, x: x.unflatten(1, (2, -1)), [(3, 6)], True),
    ("squeeze tuple", lambda L, x: x.squeeze((0, 2)), [(1, 3, 1, 1)], True),
    ("squeeze neg", lambda L, x: x.squeeze(-1), [(3, 1)], True),
    ("unsqueeze", lambda L, x: x.unsqueeze(-1), [(3, 2)], True),
    ("expand -1", lambda L, x: x.expand(2, -1, 4), [(3, 1)], True),
    ("repeat", lambda L, x: x.repeat(2, 1, 3), [(3, 2)], True),
    ("tile", lambda L, x: x.tile((2,)), [(2, 3)], True),
    ("tile more", lambda L, x: L.tile(x, (2, 1, 2)), [(2, 3)], True),
    ("repeat_interleave", lambda L, x: x.repeat_interleave(2, dim=1), [(2, 3)], True),
    ("repeat_interleave counts", lambda L, x: x.repeat_interleave(T(L, np.array([1, 0, 3])), dim=0), [(3, 2)], True),
    ("repeat_interleave flat", lambda L, x: L.repeat_interleave(x, 2), [(2, 2)], True),
    ("flip", lambda L, x: x.flip(0, 2), [(2, 3, 4)], True),
    ("L.flip", lambda L, x: L.flip(x, [1]), [(2, 3)], True),
    ("fliplr", lambda L, x: L.fliplr(x), [(2, 3)], True),
    ("flipud", lambda L, x: x.flipud(), [(2, 3)], True),
    ("roll", lambda L, x: x.roll(1, 1), [(2, 3, 4)], True),
    ("roll multi", lambda L, x: x.roll((1, -3), (0, 2)), [(2, 3, 4)], True),
    ("roll flat", lambda L, x: L.roll(x, 4), [(2, 3)], True),
    ("rot90", lambda L, x: x.rot90(), [(2, 3)], True),
    ("rot90 k", lambda L, x: L.rot90(x, 3, [1, 2]), [(2, 3, 4)], True),
    ("rot90 -1", lambda L, x: x.rot90(-1, (0, 1)), [(2, 3)], True),
    ("unfold", lambda L, x: x.unfold(1, 2, 1), [(2, 5)], True),
    ("unfold step", lambda L, x: x.unfold(0, 2, 2), [(5, 3)], True),
    ("narrow", lambda L, x: x.narrow(1, 1, 2), [(2, 4)], True),
    ("narrow neg", lambda L, x: L.narrow(x, 0, -2, 2), [(3, 2)], True),
    ("select", lambda L, x: x.select(1, -1), [(2, 3, 4)], True),
    # pieces
    ("chunk", lambda L, x: L.stack([c.sum() for c in x.chunk(3, dim=1)]), [(2, 5)], True),
    ("chunk fewer", lambda L, x: L.stack([c.sum() for c in x.chunk(4)]), [(6,)], True),
    ("split sizes", lambda L, x: x.split([1, 3], dim=1)[1], [(2, 4)], True),
    ("split size", lambda L, x: L.split(x, 3)[-1], [(7, 2)], True),
    ("tensor_split n", lambda L, x: L.stack([c.sum() for c in x.tensor_split(3, dim=1)]), [(2, 7)], True),
    ("tensor_split at", lambda L, x: L.tensor_split(x, [1, 4])[1], [(6,)], True),
    ("unbind", lambda L, x: x.unbind(1)[2], [(2, 3)], True),
    ("cat", lambda L, x, y: L.cat([x, y], dim=1), [(2, 3), (2, 1)], True),
    ("stack", lambda L, x, y: L.stack((x, y), dim=-1), [(2, 3), (2, 3)], True),
    ("hstack", lambda L, x, y: L.hstack([x, y]), [(2, 3), (2, 1)], True),
    ("hstack 1d", lambda L, x, y: L.hstack([x, y]), [(3,), (2,)], True),
    ("vstack", lambda L, x, y: L.vstack([x, y]), [(3,), (2, 3)], True),
    ("dstack", lambda L, x, y: L.dstack([x, y]), [(2, 3), (2, 3)], True),
    ("column_stack", lambda L, x, y: L.column_stack([x, y]), [(3,), (3, 2)], True),
    ("atleast_2d", lambda L, x: L.atleast_2d(x), [(3,)], True),
    ("atleast_3d", lambda L, x: L.atleast_3d(x), [(2, 3)], True),
    ("atleast_1d 0-d", lambda L, x: L.atleast_1d(x.sum()), [(2, 3)], True),
    ("broadcast_tensors", lambda L, x, y: L.broadcast_tensors(x, y)[0] * 2 + L.broadcast_tensors(x, y)[1],
     [(3, 1), (1, 4)], True),
    # diagonals and triangles
    ("diagonal", lambda L, x: x.diagonal(), [(3, 4)], True),
    ("diagonal offset dims", lambda L, x: x.diagonal(1, 0, 2), [(3, 2, 4)], True),
    ("diagonal neg", lambda L, x: L.diagonal(x, -1, -1, -2), [(2, 3, 4)], True),
    ("diag 1d", lambda L, x: L.diag(x, 1), [(3,)], True),
    ("diag 2d", lambda L, x: x.diag(-1), [(3, 4)], True),
    ("diag_embed", lambda L, x: L.diag_embed(x), [(2, 3)], True),
    ("diag_embed dims", lambda L, x: x.diag_embed(1, 0, 2), [(2, 3)], True),
    ("tril", lambda L, x: x.tril(), [(3, 4)], True),
    ("tril k", lambda L, x: L.tril(x, -1), [(2, 3, 3)], True),
    ("triu k", lambda L, x: L.triu(x, 1), [(4, 3)], True),
    ("triu neg", lambda L, x: x.triu(-2), [(4, 4)], True),
    # gather / scatter
    ("gather", lambda L, x: x.gather(1, T(L, IDX)), [(2, 4)], True),
    ("gather smaller", lambda L, x: L.gather(x, 1, T(L, IDX3)), [(2, 4, 5)], True),
    ("gather dim0", lambda L, x: x.gather(0, T(L, np.array([[1, 0], [1, 1]]))), [(2, 3)], True),
    ("scatter", lambda L, x, s: x.scatter(1, T(L, np.array([[1, 0], [3, 2]])), s), [(2, 4), (2, 2)], True),
    # torch's backward fails for a src larger than the index: its values only
    ("scatter src larger", lambda L, x, s: x.scatter(1, T(L, np.array([[1, 0], [3, 2]])), s), [(2, 4), (2, 3)], False),
    ("scatter value", lambda L, x: x.scatter(1, T(L, IDX), 0.5), [(2, 4)], True),
    ("scatter_add", lambda L, x, s: x.scatter_add(1, T(L, IDX), s), [(2, 4), (2, 3)], True),
    ("L.scatter_add", lambda L, x, s: L.scatter_add(x, 1, T(L, IDX3), s), [(2, 4, 5), (2, 1, 5)], True),
    ("scatter_add src larger", lambda L, x, s: L.scatter_add(x, 1, T(L, IDX3), s), [(2, 4, 5), (2, 2, 5)], False),
    ("scatter_reduce sum", lambda L, x, s: x.scatter_reduce(1, T(L, IDX), s, "sum"), [(2, 4), (2, 3)], True),
    ("scatter_reduce sum excl", lambda L, x, s: x.scatter_reduce(1, T(L, IDX), s, "sum", include_self=False),
     [(2, 4), (2, 3)], True),
    ("scatter_reduce mean", lambda L, x, s: x.scatter_reduce(1, T(L, IDX), s, "mean"), [(2, 4), (2, 3)], True),
    ("scatter_reduce mean excl", lambda L, x, s: x.scatter_reduce(1, T(L, IDX), s, "mean", include_self=False),
     [(2, 4), (2, 3)], True),
    ("scatter_reduce prod", lambda L, x, s: x.scatter_reduce(1, T(L, IDX), s, "prod"), [(2, 4), (2, 3)], True),
    ("scatter_reduce prod excl", lambda L, x, s: x.scatter_reduce(1, T(L, IDX), s, "prod", include_self=False),
     [(2, 4), (2, 3)], True),
    ("scatter_reduce amax", lambda L, x, s: x.scatter_reduce(1, T(L, IDX), s, "amax"), [(2, 4), (2, 3)], True),
    ("scatter_reduce amin excl", lambda L, x, s: x.scatter_reduce(0, T(L, np.array([[1, 0, 1, 1]])), s, "amin",
                                                                     include_self=False), [(2, 4), (1, 4)], True),
    ("take", lambda L, x: x.take(T(L, np.array([[0, 5], [7, -1]]))), [(2, 4)], True),
    ("take_along_dim", lambda L, x: x.take_along_dim(T(L, IDX), 1), [(2, 4)], True),
    ("take_along_dim bcast", lambda L, x: L.take_along_dim(x, T(L, np.array([[0], [2]])), dim=1), [(2, 4)], True),
    ("take_along_dim flat", lambda L, x: L.take_along_dim(x, T(L, np.array([7, 0, 3]))), [(2, 4)], True),
    ("take_along_dim argsort", lambda L, x: x.take_along_dim(x.argsort(dim=0), dim=0), [(3, 4)], True),
    # index_* along a dim
    ("index_select", lambda L, x: x.index_select(0, T(L, ROWS)), [(3, 2)], True),
    ("L.index_select", lambda L, x: L.index_select(x, 1, T(L, np.array([1]))), [(2, 3, 2)], True),
    ("index_add", lambda L, x, s: x.index_add(0, T(L, ROWS), s), [(3, 2), (3, 2)], True),
    ("index_add alpha", lambda L, x, s: x.index_add(1, T(L, np.array([0, 0])), s, alpha=-2.0), [(2, 3), (2, 2)], True),
    ("index_copy", lambda L, x, s: x.index_copy(1, T(L, np.array([2, 0])), s), [(2, 3), (2, 2)], True),
    ("index_fill", lambda L, x: x.index_fill(1, T(L, np.array([2, 0])), -1.5), [(2, 3)], True),
    ("index_reduce prod", lambda L, x, s: x.index_reduce(0, T(L, ROWS), s, "prod"), [(3, 2), (3, 2)], True),
    ("index_reduce mean excl", lambda L, x, s: L.index_reduce(x, 1, T(L, np.array([0, 0, 2])), s, "mean",
                                                                include_self=False), [(2, 3), (2, 3)], True),
    ("index_reduce amax", lambda L, x, s: x.index_reduce(1, T(L, np.array([1, 1])), s, "amax"), [(2, 3), (2, 2)], True),
    ("index_reduce amin excl", lambda L, x, s: x.index_reduce(0, T(L, np.array([2])), s, "amin", include_self=False),
     [(3, 2), (1, 2)], True),
    # masks
    ("masked_fill", lambda L, x: x.masked_fill(T(L, MASK), 2.0), [(2, 4)], True),
    ("masked_fill bcast", lambda L, x: x.masked_fill(T(L, MASK_ROW), -1.0), [(3, 4)], True),
    ("masked_fill tensor value", lambda L, x, v: x.masked_fill(T(L, MASK), v.sum()), [(2, 4), (2,)], True),
    ("masked_select", lambda L, x: x.masked_select(T(L, MASK)), [(2, 4)], True),
    ("masked_select bcast", lambda L, x: L.masked_select(x, T(L, MASK_ROW)), [(3, 4)], True),
    ("masked_scatter", lambda L, x, s: x.masked_scatter(T(L, MASK), s), [(2, 4), (3, 3)], True),
    ("where", lambda L, x, y: L.where(T(L, MASK), x, y), [(2, 4), (4,)], True),
    ("Tensor.where", lambda L, x, y: x.where(T(L, MASK), y), [(2, 4), (2, 1)], True),
    # advanced indexing placement
    ("index int slice array", lambda L, x: x[0, :, T(L, np.array([4, 0, 4]))], [(2, 5, 6)], True),
    ("index int after", lambda L, x: x[:, T(L, np.array([1, 0])), :, 1], [(2, 3, 2, 2)], True),
    ("index arrays apart", lambda L, x: x[T(L, np.array([1, 0])), :, T(L, np.array([2, 2]))], [(2, 3, 4)], True),
    ("index mask then int", lambda L, x: x[T(L, MASK_ROW), 1], [(4, 3)], True),
    ("index list", lambda L, x: x[[0, 2, 2]], [(3, 2)], True),
    ("index bool", lambda L, x: x[x > 0.3], [(3, 4)], True),
    # sorting
    ("sort", lambda L, x: x.sort().values, [(3, 5)], True),
    ("sort desc dim0", lambda L, x: L.sort(x, dim=0, descending=True)[0], [(4, 3)], True),
    ("sort stable", lambda L, x: x.sort(stable=True, dim=1)[0], [(2, 6)], True),
    ("msort", lambda L, x: L.msort(x), [(4, 2)], True),
    ("topk", lambda L, x: x.topk(2).values, [(3, 5)], True),
    ("topk smallest", lambda L, x: L.topk(x, 3, dim=0, largest=False)[0], [(4, 2)], True),
    ("topk 1d", lambda L, x: x.topk(1)[0], [(6,)], True),
    # products
    ("einsum mm", lambda L, x, y: L.einsum("ij,jk->ik", x, y), [(2, 3), (3, 4)], True),
    ("einsum trace", lambda L, x: L.einsum("ii", x), [(3, 3)], True),
    ("einsum diag", lambda L, x: L.einsum("ii->i", x), [(3, 3)], True),
    ("einsum batch", lambda L, x, y: L.einsum("bij,bjk->bik", x, y), [(2, 3, 4), (2, 4, 1)], True),
    ("einsum ellipsis", lambda L, x, y: L.einsum("...ij,...jk->...ik", x, y), [(2, 1, 3, 4), (3, 4, 2)], True),
    ("einsum ellipsis summed", lambda L, x: L.einsum("...i->i", x), [(2, 3, 4)], True),
    ("einsum implicit", lambda L, x, y: L.einsum("ik,kj", x, y), [(2, 3), (3, 4)], True),
    ("einsum three", lambda L, x, y, z: L.einsum("bn,anm,bm->ba", x, y, z), [(2, 3), (4, 3, 5), (2, 5)], True),
    ("einsum list", lambda L, x, y: L.einsum("i,j->ij", [x, y]), [(3,), (2,)], True),
    ("einsum sublist", lambda L, x, y: L.einsum(x, [0, 1], y, [1, 2], [0, 2]), [(2, 3), (3, 4)], True),
    ("outer", lambda L, x, y: L.outer(x, y), [(3,), (4,)], True),
    ("ger", lambda L, x, y: x.ger(y), [(3,), (2,)], True),
    ("kron", lambda L, x, y: L.kron(x, y), [(2, 3), (3, 2)], True),
    ("kron nd", lambda L, x, y: x.kron(y), [(2,), (2, 1, 3)], True),
    ("cross", lambda L, x, y: L.cross(x, y, dim=1), [(2, 3), (2, 3)], True),
    ("cross bcast", lambda L, x, y: L.linalg.cross(x, y) if L is torch else L.cross(x, y, dim=-1), [(4, 3), (1, 3)], True),
    ("tensordot int", lambda L, x, y: L.tensordot(x, y, dims=2), [(2, 3, 4), (3, 4, 5)], True),
    ("tensordot lists", lambda L, x, y: L.tensordot(x, y, dims=([0, 2], [2, 1])), [(2, 3, 4), (5, 4, 2)], True),
    ("mm", lambda L, x, y: L.mm(x, y), [(2, 3), (3, 4)], True),
    ("bmm", lambda L, x, y: x.bmm(y), [(2, 3, 4), (2, 4, 1)], True),
    ("mv", lambda L, x, y: L.mv(x, y), [(2, 3), (3,)], True),
    ("dot", lambda L, x, y: L.dot(x, y), [(4,), (4,)], True),
    ("inner", lambda L, x, y: L.inner(x, y), [(2, 3), (4, 3)], True),
    ("addmm", lambda L, x, y, z: L.addmm(x, y, z, beta=0.5, alpha=2.0), [(4,), (2, 3), (3, 4)], True),
    ("addmv", lambda L, x, y, z: x.addmv(y, z, alpha=-1), [(2,), (2, 3), (3,)], True),
    ("baddbmm", lambda L, x, y, z: L.baddbmm(x, y, z, beta=2.0), [(1, 3, 1), (2, 3, 4), (2, 4, 2)], True),
    ("baddbmm beta 0", lambda L, x, y, z: L.baddbmm(x * float("nan"), y, z, beta=0), [(2, 3, 2), (2, 3, 4), (2, 4, 2)],
     False),
    ("addbmm", lambda L, x, y, z: L.addbmm(x, y, z), [(3, 2), (2, 3, 4), (2, 4, 2)], True),
    ("addr", lambda L, x, y, z: L.addr(x, y, z), [(3, 2), (3,), (2,)], True),
    # grids
    ("meshgrid ij", lambda L, x, y: L.meshgrid(x, y, indexing="ij")[0] * L.meshgrid(x, y, indexing="ij")[1],
     [(3,), (4,)], True),
    ("meshgrid xy", lambda L, x, y, z: L.stack([g.sum() for g in L.meshgrid(x, y, z, indexing="xy")]),
     [(3,), (4,), (2,)], True),
    ("meshgrid xy shape", lambda L, x, y: L.meshgrid(x, y, indexing="xy")[0], [(3,), (4,)], True),
    ("cartesian_prod", lambda L, x, y: L.cartesian_prod(x, y), [(3,), (2,)], True),
    ("cartesian_prod 3", lambda L, x, y, z: L.cartesian_prod(x, y, z), [(2,), (2,), (3,)], True),
    ("clone", lambda L, x: L.clone(x) * 2, [(2, 3)], True),
    # torch's keyword names
    ("keywords shape", lambda L, x: L.tile(L.permute(L.flip(L.reshape(x, shape=(3, 2)), dims=[0]), dims=(1, 0)), dims=(2,)),
     [(2, 3)], True),
    ("keywords dims", lambda L, x: L.swapaxes(x, axis0=0, axis1=1).transpose(dim0=1, dim1=0).swapdims(dim0=0, dim1=1),
     [(2, 3)], True),
    ("keywords products", lambda L, x, y: L.mm(x, mat2=y) + L.outer(x[0], vec2=y[:, 0]) + L.dot(x[0], tensor=y[:, 0]),
     [(3, 3), (3, 3)], True),
    ("index_put", lambda L, x, v: x.index_put((T(L, np.array([0, 1])), T(L, np.array([2, 0]))), v), [(2, 3), (2,)], True),
    ("index_put accumulate", lambda L, x, v: L.index_put(x, (T(L, np.array([0, 0, 1])),), v, accumulate=True),
     [(2, 3), (3, 3)], True),
    ("index_put bcast", lambda L, x, v: x.index_put((T(L, np.array([1, 1])),), v, accumulate=True), [(2, 3), (3,)], True),
    ("put", lambda L, x, v: x.put(T(L, np.array([[5, 0]])), v), [(2, 3), (2,)], True),
    ("put accumulate", lambda L, x, v: L.put(x, T(L, np.array([1, 1, -1])), v, accumulate=True), [(2, 3), (3,)], True),
    ("trace", lambda L, x: L.trace(x), [(3, 4)], True),
    ("diff", lambda L, x: x.diff(dim=0), [(3, 4)], True),
    ("diff n prepend append", lambda L, x, y: L.diff(x, n=2, prepend=y, append=y), [(2, 4), (2, 1)], True),
    ("block_diag", lambda L, x, y, z: L.block_diag(x, y, z), [(2, 2), (3,), (1, 2)], True),
    ("hsplit", lambda L, x: L.hsplit(x, 2)[1], [(2, 4)], True),
    ("vsplit at", lambda L, x: x.vsplit([1])[1], [(3, 2)], True),
    ("dsplit", lambda L, x: L.dsplit(x, 2)[0], [(1, 2, 4)], True),
    ("ravel narrow_copy", lambda L, x: L.ravel(x.narrow_copy(1, 1, 2)), [(2, 3)], True),
    ("diagflat", lambda L, x: L.diagflat(x, -1), [(2, 2)], True),
    ("diagonal_scatter", lambda L, x, s: x.diagonal_scatter(s, 1), [(3, 4), (3,)], True),
    ("diagonal_scatter dims", lambda L, x, s: L.diagonal_scatter(x, s, -1, 0, 2), [(3, 2, 4), (2, 2)], True),
    ("select_scatter", lambda L, x, s: x.select_scatter(s, 1, -1), [(2, 3, 4), (2, 4)], True),
    ("slice_scatter", lambda L, x, s: L.slice_scatter(x, s, 1, 1, None, 2), [(2, 5), (2, 2)], True),
    ("combinations", lambda L, x: L.combinations(x), [(4,)], True),
    ("combinations r3 repl", lambda L, x: L.combinations(x, 3, with_replacement=True), [(3,)], True),
    ("new_tensor ops", lambda L, x: x * x.new_ones(2, 3) + x.new_full((2, 3), 1.5) + x.new_zeros((3,)), [(2, 3)], True),
]


def _inputs(L, arrays, dtype, grad):
    if L is torch:
        return [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=grad) for a in arrays]
    return [ad.Tensor(a.astype(dtype), requires_grad=grad) for a in arrays]


def _values(rng, shapes):
    # distinct values away from each other, so sorting and extremes have no ties
    out = []
    for s in shapes:
        n = int(np.prod(s))
        out.append((rng.permutation(n) / n * 3 - 1.4 + rng.uniform(0, 0.1 / max(n, 1), n)).reshape(s))
    return out


def _np(t):
    t = first(t)
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.data


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,shapes,diff", CASES, ids=[c[0] for c in CASES])
def test_against_torch(rng, name, fn, shapes, diff, dtype):
    arrays = _values(rng, shapes)
    ours_in, theirs_in = _inputs(ad, arrays, dtype, diff), _inputs(torch, arrays, dtype, diff)
    ours, theirs = first(fn(ad, *ours_in)), first(fn(torch, *theirs_in))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    assert tuple(ours.shape) == tuple(theirs.shape), name
    assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", "")), name
    np.testing.assert_allclose(_np(ours), _np(theirs), **tol, err_msg=name)
    if not diff:
        return
    g = rng.standard_normal(tuple(theirs.shape))
    ours.backward(g.astype(dtype))
    theirs.backward(torch.tensor(g, dtype=theirs.dtype))
    for a, b in zip(ours_in, theirs_in):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.data), name
        else:
            np.testing.assert_allclose(a.grad.data, b.grad.numpy(), **tol, err_msg=f"{name}: gradient")


@pytest.mark.parametrize("name,fn,shapes,diff", [c for c in CASES if c[3]], ids=[c[0] for c in CASES if c[3]])
def test_gradcheck(rng, name, fn, shapes, diff):
    inputs = _inputs(ad, _values(rng, shapes), "float64", True)
    assert ad.gradcheck(lambda *xs: first(fn(ad, *xs)), inputs)
