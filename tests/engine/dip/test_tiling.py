"""Tiles for the image priors: windows, ramp blending without seams, the memory-based pixel limit."""

import numpy as np
import pytest

from deepunmix.engine.dip import tiling


def test_windows_cover_the_image_with_the_overlap():
    windows, ov = tiling.tile_windows((37, 50), 400, 6)
    assert ov == 5  # a quarter of the 20-pixel side
    covered = np.zeros((37, 50), int)
    for r, c in windows:
        assert (r.stop - r.start) * (c.stop - c.start) <= 400
        covered[r, c] += 1
    assert covered.min() >= 1
    assert tiling.tile_windows((10, 10), 400, 6) == ([(slice(0, 10), slice(0, 10))], 0)


def test_ramp_blend_of_two_different_tiles_has_no_jump():
    shape = (6, 30)
    b = tiling.Blender(1, shape, overlap=8)
    left, right = (slice(0, 6), slice(0, 18)), (slice(0, 6), slice(10, 30))
    b.add(left, np.zeros((1, 6, 18)))
    b.add(right, np.ones((1, 6, 20)))
    row = b.result()[0, 0]
    assert row[0] == 0 and row[-1] == 1
    assert np.all(np.diff(row) >= -1e-12)
    assert np.abs(np.diff(row)).max() <= 1.0 / 8 + 1e-9  # a hard cut would jump by 1


def test_cpu_limit_from_the_memory_budget():
    import torch

    limit = tiling.pixel_limit("auto", torch.device("cpu"), 1000.0, memory_mb=10)
    assert limit == 10 * 2**20 // 1000
    assert tiling.pixel_limit(500, torch.device("cpu"), 1000.0) == 500
    assert tiling.pixel_limit(None, torch.device("cpu"), 1000.0) is None


def test_cuda_limit_from_free_device_memory(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (8 * 2**30, 80 * 2**30))
    limit = tiling.pixel_limit("auto", torch.device("cuda"), 2**20, memory_mb=10)  # the RAM budget does not cap CUDA
    assert limit == int(0.8 * 8 * 2**30) // 2**20


def _smooth_scene(H=26, W=31, L=12, p=3, seed=0):
    rng = np.random.default_rng(seed)
    E = rng.uniform(0.1, 1.0, size=(L, p))
    yy, xx = np.mgrid[0:H, 0:W] / max(H, W)
    logits = np.stack([np.sin(3 * xx + 2 * yy), np.cos(4 * yy - xx), xx * yy * 3])
    A = np.exp(2 * logits)
    A /= A.sum(0)
    Y = np.einsum("lp,phw->lhw", E, A) + rng.normal(scale=0.005, size=(L, H, W))
    return Y.astype(np.float32), E, A


@pytest.mark.usefixtures("torch_one_thread")
@pytest.mark.parametrize("method", ["buddip", "undip"])
def test_tiled_fit_has_no_seam(method):
    pytest.importorskip("torch")
    from deepunmix.engine.dip.buddip import BUDDIP
    from deepunmix.engine.dip.undip import UnDIP

    cube, E, _ = _smooth_scene()
    if method == "buddip":
        kw = dict(n_iter=40, learning_rate=1e-2, random_state=0, final_abundances="adip", purify=0, expand=0)
        make = lambda **k: BUDDIP(3, **kw, **k)  # noqa: E731
    else:
        kw = dict(n_iter=150, learning_rate=1e-2, random_state=0)
        make = lambda **k: UnDIP(endmembers=E, **kw, **k)  # noqa: E731
    tiled = make(settings=dict(max_pixels=260, tile_overlap=6)).fit(cube)
    whole = make(settings=dict(max_pixels=None)).fit(cube)
    assert len(tiled.tiles_) > 4 and len(whole.tiles_) == 1
    A = tiled.abundances_
    np.testing.assert_allclose(A.sum(0), 1.0, atol=1e-5)
    # per-pixel jumps between neighbouring columns / rows: at tile borders vs everywhere
    dx = np.abs(np.diff(A, axis=2)).sum(0)  # (H, W-1): jump between column c and c+1
    dy = np.abs(np.diff(A, axis=1)).sum(0)
    borders_x = sorted(
        {c.start - 1 for _, c in tiled.tiles_ if c.start > 0}
        | {c.stop - 1 for _, c in tiled.tiles_ if c.stop < A.shape[2]}
    )
    borders_y = sorted(
        {r.start - 1 for r, _ in tiled.tiles_ if r.start > 0}
        | {r.stop - 1 for r, _ in tiled.tiles_ if r.stop < A.shape[1]}
    )
    at_seams = np.concatenate([dx[:, borders_x].ravel(), dy[borders_y, :].ravel()])
    everywhere = np.concatenate([dx.ravel(), dy.ravel()])
    assert at_seams.mean() < 1.5 * everywhere.mean()
    # and the tiled maps stay close to the untiled fit
    assert np.mean(np.abs(A - whole.abundances_)) < 0.05
