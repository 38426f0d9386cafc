"""The image priors on a raster larger than the memory budget: tiles read from disk and blended on disk."""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("rasterio")

from deepunmix.engine.dip.buddip import BUDDIP
from deepunmix.engine.dip.from_disk import fit_tiles_from_disk
from deepunmix.engine.dip.undip import UnDIP
from deepunmix.engine.io.raster import read_raster, write_cube
from deepunmix.engine.progress import Cancelled


def _scene(H=40, W=52, L=12, p=3, seed=0):
    rng = np.random.default_rng(seed)
    E = rng.uniform(0.1, 1.0, size=(L, p))
    yy, xx = np.mgrid[0:H, 0:W] / max(H, W)
    A = np.exp(2 * np.stack([np.sin(3 * xx + 2 * yy), np.cos(4 * yy - xx), xx * yy * 3]))
    A /= A.sum(0)
    Y = np.einsum("lp,phw->lhw", E, A) + rng.normal(scale=0.005, size=(L, H, W))
    return Y.astype(np.float32), E, A


def _raster(tmp_path, cube, mask=None):
    path = tmp_path / "scene.tif"
    write_cube(path, cube, nodata=-9999.0, mask=mask)
    return path


def _all_valid(path):
    r = read_raster(path)
    return r.cube[:, r.mask].astype(np.float64), r.mask


@pytest.mark.usefixtures("torch_one_thread")
def test_buddip_from_disk_matches_the_in_memory_tiled_fit(tmp_path):
    cube, E_true, A_true = _scene()
    mask = np.ones(cube.shape[1:], bool)
    mask[:3, :5] = False  # nodata corner
    src = _raster(tmp_path, cube, mask)
    Y, valid = _all_valid(src)
    make = lambda **k: BUDDIP(3, n_iter=20, random_state=0, **k)  # noqa: E731
    out = tmp_path / "abundances.tif"
    fit = fit_tiles_from_disk(make(), src, out, ["a", "b", "c"], Y, max_tile_pixels=700)
    assert len(fit.tiles_) > 4 and fit.output_ == "fcls"
    assert not list(tmp_path.glob(".*tiles.tif"))  # the accumulator is gone
    got = read_raster(out)
    assert got.cube.shape == (3, *cube.shape[1:])
    np.testing.assert_array_equal(got.mask, mask)  # nodata where the input has none
    np.testing.assert_allclose(got.cube[:, mask].sum(0), 1.0, atol=1e-4)
    memory = make(max_pixels=700).fit(cube, mask)
    assert len(memory.tiles_) == len(fit.tiles_)
    cos = np.sum(fit.endmembers_ * memory.endmembers_, 0) / (
        np.linalg.norm(fit.endmembers_, axis=0) * np.linalg.norm(memory.endmembers_, axis=0)
    )
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1.0  # same first guess, tile scales differ
    assert np.sqrt(np.mean((got.cube[:, mask] - memory.abundances_[:, mask]) ** 2)) < 0.02


@pytest.mark.usefixtures("torch_one_thread")
def test_undip_from_disk_blends_the_network_maps_without_seams(tmp_path):
    cube, E_true, A_true = _scene(H=70, W=70)
    src = _raster(tmp_path, cube)
    Y, _ = _all_valid(src)
    out = tmp_path / "undip.tif"
    fit = fit_tiles_from_disk(
        UnDIP(endmembers=E_true, n_iter=60, learning_rate=1e-2, random_state=0),
        src,
        out,
        ["a", "b", "c"],
        Y,
        max_tile_pixels=64 * 64,
    )
    assert len(fit.tiles_) == 4 and fit.output_ == "blended network maps"
    A = read_raster(out).cube
    np.testing.assert_allclose(A.sum(0), 1.0, atol=1e-4)
    dx = np.abs(np.diff(A, axis=2)).sum(0)
    inner = sorted(
        {w[1].stop - 1 for w in fit.tiles_ if w[1].stop < 70} | {w[1].start - 1 for w in fit.tiles_ if w[1].start > 0}
    )
    assert dx[:, inner].mean() < 3 * dx.mean() + 1e-3  # tile borders are no steeper than the maps elsewhere


def test_cancel_leaves_no_output_and_no_accumulator(tmp_path):
    cube, _, _ = _scene()
    src = _raster(tmp_path, cube)
    Y, _ = _all_valid(src)
    out = tmp_path / "abundances.tif"

    def cancel_in_second_tile(value, message=""):
        if "tile 2" in message:
            raise Cancelled()

    with pytest.raises(Cancelled):
        fit_tiles_from_disk(
            BUDDIP(3, n_iter=2, random_state=0),
            src,
            out,
            ["a", "b", "c"],
            Y,
            max_tile_pixels=700,
            progress=cancel_in_second_tile,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.tif"]


def test_a_constant_tile_gets_the_first_guess(tmp_path):
    cube, E_true, _ = _scene()
    cube[:, :, 20:] = 0.2  # a filled area: the tiles starting at column 20 or 26 are constant
    src = _raster(tmp_path, cube)
    Y, _ = _all_valid(src)
    out = tmp_path / "abundances.tif"
    fit = fit_tiles_from_disk(BUDDIP(3, n_iter=2, random_state=0), src, out, "BUDDIP", Y, max_tile_pixels=700)
    got = read_raster(out)
    assert got.band_names == ["BUDDIP_1", "BUDDIP_2", "BUDDIP_3"] and got.mask.all()
    assert np.isfinite(fit.endmembers_).all()
