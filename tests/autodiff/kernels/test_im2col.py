"""im2col / col2im and the conv layout passes against their numpy references, same random inputs."""
import numpy as np
import pytest

from autodiff.kernels import im2col
from autodiff.kernels import reference

GEOMETRIES = [
    # shape, kernel, stride, padding, dilation
    ((2, 3, 7, 9), (3, 2), (1, 1), (0, 0), (1, 1)),
    ((1, 2, 8, 5), (3, 3), (2, 1), (1, 2), (1, 1)),
    ((3, 2, 9, 9), (2, 3), (2, 3), (2, 1), (2, 1)),
    ((2, 1, 5, 5), (5, 5), (1, 1), (0, 0), (1, 1)),
    ((1, 4, 6, 7), (1, 1), (3, 2), (0, 1), (1, 1)),
    ((2, 2, 4, 4), (3, 3), (1, 1), (3, 3), (2, 2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", GEOMETRIES)
def test_im2col_matches_reference(rng, dtype, shape, kernel, stride, padding, dilation):
    x = rng.standard_normal(shape).astype(dtype)
    cols = im2col.im2col(x, kernel, stride, padding, dilation)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, reference.im2col(x, kernel, stride, padding, dilation))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", GEOMETRIES)
def test_col2im_matches_reference(rng, dtype, shape, kernel, stride, padding, dilation):
    cols_shape = reference.im2col(np.zeros(shape, dtype), kernel, stride, padding, dilation).shape
    cols = rng.standard_normal(cols_shape).astype(dtype)
    got = im2col.col2im(cols, shape, kernel, stride, padding, dilation)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, reference.col2im(cols, shape, kernel, stride, padding, dilation),
                               rtol=1e-5, atol=1e-5)


def test_col2im_is_the_adjoint_of_im2col(rng):
    """<im2col(x), c> == <x, col2im(c)> for any x, c (scatter-add is the transpose of the gather)."""
    shape, kernel, stride, padding, dilation = (2, 3, 6, 7), (3, 2), (2, 1), (1, 1), (1, 2)
    x = rng.standard_normal(shape)
    c = rng.standard_normal(im2col.im2col(x, kernel, stride, padding, dilation).shape)
    lhs = np.sum(im2col.im2col(x, kernel, stride, padding, dilation) * c)
    rhs = np.sum(x * im2col.col2im(c, shape, kernel, stride, padding, dilation))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_asymmetric_padding_via_out_size(rng):
    """Padding (1 before, 2 after) rows: same as im2col of the explicitly padded input."""
    x = rng.standard_normal((1, 2, 5, 4))
    got = im2col.im2col(x, (2, 2), (1, 1), (1, 0), (1, 1), out_size=(7, 3))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 2), (0, 0)))
    np.testing.assert_array_equal(got, reference.im2col(xp, (2, 2)))


def test_output_size_formula():
    # floor((W + 2P - D(F-1) - 1)/S) + 1
    assert im2col.conv_output_size(28, 5, 1, 0, 1) == 24
    assert im2col.conv_output_size(7, 3, 2, 1, 1) == 4
    assert im2col.conv_output_size(9, 3, 2, 0, 2) == 3


def test_errors_name_the_kernel_and_shapes(rng):
    with pytest.raises(ValueError, match=r"im2col: expected a 4-d .* got shape \(3, 4\)"):
        im2col.im2col(np.zeros((3, 4)), (1, 1))
    with pytest.raises(ValueError, match=r"larger than the padded input \(4, 4\)"):
        im2col.im2col(np.zeros((1, 1, 4, 4)), (5, 5))
    with pytest.raises(TypeError, match="int64"):
        im2col.im2col(np.zeros((1, 1, 4, 4), dtype=np.int64), (2, 2))
    with pytest.raises(ValueError, match=r"cols has shape \(3, 3\), expected \(4, 9\)"):
        im2col.col2im(np.zeros((3, 3)), (1, 1, 4, 4), (2, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_to_nchw_and_back(rng, dtype):
    y = rng.standard_normal((3, 4, 10)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    rows = np.ascontiguousarray(y.transpose(1, 0, 2)).reshape(4, 30)
    np.testing.assert_allclose(im2col.rows_to_nchw(rows, 3, bias), y + bias[:, None], rtol=1e-6)
    np.testing.assert_array_equal(im2col.rows_to_nchw(rows, 3), y)
    back, gbias = im2col.nchw_to_rows(y)
    np.testing.assert_array_equal(back, rows)
    np.testing.assert_allclose(gbias, y.sum(axis=(0, 2)), rtol=1e-5)


@pytest.fixture
def force_parallel(monkeypatch):
    """Run the prange drivers even on tiny inputs (normally their serial twins run below a size)."""
    from autodiff.kernels import jit
    monkeypatch.setattr(jit, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(jit, "LAYOUT_PARALLEL_MIN_WORK", 0)


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation",
                         [GEOMETRIES[0], GEOMETRIES[1], GEOMETRIES[2], GEOMETRIES[3]])
def test_parallel_drivers_match_reference(rng, force_parallel, shape, kernel, stride, padding, dilation):
    x = rng.standard_normal(shape).astype(np.float32)
    cols = im2col.im2col(x, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(cols, reference.im2col(x, kernel, stride, padding, dilation))
    g = rng.standard_normal(cols.shape).astype(np.float32)
    np.testing.assert_allclose(im2col.col2im(g, shape, kernel, stride, padding, dilation),
                               reference.col2im(g, shape, kernel, stride, padding, dilation), rtol=1e-5, atol=1e-5)
    y = rng.standard_normal((3, 4, 10)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    rows = np.ascontiguousarray(y.transpose(1, 0, 2)).reshape(4, 30)
    np.testing.assert_allclose(im2col.rows_to_nchw(rows, 3, bias), y + bias[:, None], rtol=1e-6)
    back, gbias = im2col.nchw_to_rows(y)
    np.testing.assert_array_equal(back, rows)
    np.testing.assert_allclose(gbias, y.sum(axis=(0, 2)), rtol=1e-5)


def test_kernels_called_from_several_threads(rng, force_parallel):
    """Only one thread at a time enters a parallel driver (workqueue is not re-entrant); the rest run the
    serial twins. Every thread must get the right answer and the process must survive."""
    from concurrent.futures import ThreadPoolExecutor

    shape, kernel, stride, padding, dilation = GEOMETRIES[2]
    xs = [rng.standard_normal(shape).astype(np.float32) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda x: im2col.im2col(x, kernel, stride, padding, dilation), xs))
    for x, cols in zip(xs, results):
        np.testing.assert_array_equal(cols, reference.im2col(x, kernel, stride, padding, dilation))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 2, 12, 12), (2, 1, 28, 28), (2, 3, 6, 9)])
def test_valid_fast_path_matches_reference(rng, dtype, shape):
    """Stride 1, no padding, every window inside (LeNet's layers): the bounds-free copy and its adjoint."""
    x = rng.standard_normal(shape).astype(dtype)
    kernel = (5, 5) if shape[2] >= 12 else (3, 4)
    cols = im2col.im2col(x, kernel)
    np.testing.assert_array_equal(cols, reference.im2col(x, kernel))
    g = rng.standard_normal(cols.shape).astype(dtype)
    np.testing.assert_allclose(im2col.col2im(g, shape, kernel), reference.col2im(g, shape, kernel), rtol=1e-5, atol=1e-5)


def test_out_size_overhang_without_padding_reads_zeros(rng):
    """No padding before, but ``out_size`` asks for windows past the end: not the fast path, zeros read."""
    x = rng.standard_normal((2, 2, 5, 6))
    got = im2col.im2col(x, (2, 3), out_size=(5, 5))
    xp = np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)))
    np.testing.assert_array_equal(got, reference.im2col(xp, (2, 3)))
    g = rng.standard_normal(got.shape)
    np.testing.assert_allclose(im2col.col2im(g, x.shape, (2, 3), out_size=(5, 5)),
                               reference.col2im(g, xp.shape, (2, 3))[:, :, :5, :6], rtol=1e-12)
