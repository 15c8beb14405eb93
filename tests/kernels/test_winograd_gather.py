"""The image->planes Winograd kernels (``input_transform``, ``output_transform_adjoint``,
``input_transform43``, ``output_transform_adjoint43``) are bitwise equal to numpy references
that do the same float operations in the same order, one tile element at a time, over shapes
where the per-channel chunks of images do not divide the batch, maps that are not multiples of
the tile, padding 0..2, one image, one tile, and rows longer than the tiles (left unwritten)."""
import numpy as np
import pytest

from minitorch.kernels import winograd, winograd43, winograd43_grad
from tests.kernels._python_f64 import float64_as_python

# float64 calls as Python (see _python_f64)
WG, W4, W4G = (float64_as_python(m) for m in (winograd, winograd43, winograd43_grad))


def _tiles(p, s, m, TH, TW):
    """``t[n, c, ty, tx, a, b] = p[n, c, s * ty + a, s * tx + b]``: the (m, m) tiles, stride s."""
    return np.stack([np.stack([p[:, :, a:a + s * TH:s, b:b + s * TW:s] for b in range(m)], -1)
                     for a in range(m)], -2)


def _planes(out, LD):
    """(..., K) per tile (n, c, ty, tx) -> (K, C, LD) with column n * TT + t, NaN past N * TT."""
    N, C, TH, TW, K = out.shape
    V = np.full((K, C, LD), np.nan, out.dtype)
    V[:, :, :N * TH * TW] = out.transpose(4, 1, 0, 2, 3).reshape(K, C, -1)
    return V


def _bt2(i, d):
    return [d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]][i]


def _bt4(i, d, k):
    k0, k1, k2, k3 = k
    d0, d1, d2, d3, d4, d5 = d
    return [lambda: (d0 - k2 * d2 + d4) + k1 * (d3 - d1), lambda: (d4 - d1) + k0 * d2 + k3 * d3,
            lambda: (d1 + d4) - k3 * d2 + k0 * d3, lambda: k2 * (d3 - d1) + (d4 - d2),
            lambda: k0 * (d1 - d3) + (d4 - d2), lambda: (d1 - k2 * d3 + d5) + k1 * (d4 - d2)][i]()


def _a2(i, g0, g1):
    return [g0, g0 + g1, g0 - g1, -g1][i]


def _a4(i, g, k):
    k0, k1, k2, k3, k4, k5 = k
    g0, g1, g2, g3 = g
    s02, s13 = g0 + g2, g1 + g3
    return [g0, s02 + s13, s02 - s13, (g0 + k0 * g1) + (k1 * g2 + k2 * g3),
            (g0 - k3 * g1) + (k4 * g2 - k5 * g3), g3][i]


def ref_input_transform(x, PH, PW, LD, m):
    """F(2x2, 3x3) (m = 4) or F(4x4, 3x3) (m = 6): ``B^T d`` down each tile column, then times B."""
    N, C, H, W = x.shape
    s = m - 2
    TH, TW = -(-(H + 2 * PH - 2) // s), -(-(W + 2 * PW - 2) // s)
    p = np.zeros((N, C, s * TH + 2, s * TW + 2), x.dtype)
    p[:, :, PH:PH + H, PW:PW + W] = x
    d = _tiles(p, s, m, TH, TW)
    k = [x.dtype.type(v) for v in (0.5, 1.5, 2.0, 2.5)]
    bt = _bt2 if m == 4 else (lambda i, r: _bt4(i, r, k))
    q = [[bt(i, [d[..., a, b] for a in range(m)]) for b in range(m)] for i in range(m)]
    out = np.stack([bt(j, q[i]) for i in range(m) for j in range(m)], -1)
    return _planes(out, LD)


def ref_output_adjoint(dy, LD, m):
    """F(2x2, 3x3) (m = 2) or F(4x4, 3x3) (m = 4): ``dY A^T`` along each tile row, then A times."""
    N, O, OH, OW = dy.shape
    TH, TW = -(-OH // m), -(-OW // m)
    p = np.zeros((N, O, m * TH, m * TW), dy.dtype)
    p[:, :, :OH, :OW] = dy
    g = _tiles(p, m, m, TH, TW)
    if m == 2:
        r = [[_a2(i, g[..., 0, b], g[..., 1, b]) for b in range(2)] for i in range(4)]
        out = np.stack([_a2(j, *r[i]) for i in range(4) for j in range(4)], -1)
    else:
        k = [dy.dtype.type(v) for v in (0.5, 0.25, 0.125, 2.0, 4.0, 8.0)]
        q = [[_a4(j, [g[..., a, b] for b in range(4)], k) for j in range(6)] for a in range(4)]
        out = np.stack([_a4(i, [q[a][j] for a in range(4)], k) for i in range(6)
                        for j in range(6)], -1)
    return _planes(out, LD)


def _bitwise_equal(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


# (N, C, H, W, PH, PW): odd and non-square maps, one tile (TT = 1), one image, a batch that the
# chunks of images do not divide (8x8 maps: up to 64 images a chunk), padding 0..2, images split
# into bands of tile rows that do not divide them (more than 256 tiles), one tile row a band
SHAPES = [(2, 3, 6, 6, 1, 1), (1, 2, 7, 5, 1, 1), (2, 3, 9, 8, 0, 0), (1, 2, 4, 5, 2, 1),
          (3, 1, 3, 3, 1, 1), (1, 3, 6, 10, 0, 2), (5, 3, 13, 11, 1, 1), (67, 5, 8, 8, 1, 1),
          (70, 3, 4, 4, 1, 1), (3, 17, 30, 17, 1, 0), (2, 2, 58, 58, 1, 1), (2, 2, 70, 66, 1, 2),
          (1, 2, 9, 1100, 1, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("planes", [16, 36])
def test_input_transform_is_bitwise_the_reference(shape, dtype, planes):
    N, C, H, W, PH, PW = shape
    x = np.random.default_rng(0).standard_normal((N, C, H, W)).astype(dtype)
    m, tiles = (6, W4.tiles43) if planes == 36 else (4, WG.tiles)
    TH, TW = tiles(H + 2 * PH - 2, W + 2 * PW - 2)
    LD = N * TH * TW + 5
    V = np.full((planes, C, LD), np.nan, dtype)
    (W4.input_transform43 if planes == 36 else WG.input_transform)(V, x, PH, PW)
    _bitwise_equal(V, ref_input_transform(x, PH, PW, LD, m))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("planes", [16, 36])
def test_output_transform_adjoint_is_bitwise_the_reference(shape, dtype, planes):
    N, O, OH, OW = shape[:4]
    dy = np.random.default_rng(1).standard_normal((N, O, OH, OW)).astype(dtype)
    m, tiles = (4, W4.tiles43) if planes == 36 else (2, WG.tiles)
    TH, TW = tiles(OH, OW)
    LD = N * TH * TW + 3
    dM = np.full((planes, O, LD), np.nan, dtype)
    (W4G.output_transform_adjoint43 if planes == 36 else WG.output_transform_adjoint)(dM, dy)
    _bitwise_equal(dM, ref_output_adjoint(dy, LD, m))
