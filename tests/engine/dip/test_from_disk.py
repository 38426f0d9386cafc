"""The image priors on a raster larger than the memory budget: tiles read from disk and blended on disk."""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("rasterio")

from deepunmix.engine.core.progress import Cancelled
from deepunmix.engine.dip.buddip import BUDDIP
from deepunmix.engine.dip.from_disk import fit_tiles_from_disk
from deepunmix.engine.dip.undip import UnDIP
from deepunmix.engine.io.raster import read_raster, write_cube


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
    assert not list(tmp_path.glob(".*partial"))  # the accumulator is gone
    got = read_raster(out)
    assert got.cube.shape == (3, *cube.shape[1:])
    np.testing.assert_array_equal(got.mask, mask)  # nodata where the input has none
    np.testing.assert_allclose(got.cube[:, mask].sum(0), 1.0, atol=1e-4)
    memory = make(settings=dict(max_pixels=700)).fit(cube, mask)
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


CAPPED_FIT = r"""
import os, resource, sys
import numpy as np, rasterio, torch  # GDAL loaded before the cap, as in QGIS
from deepunmix.engine.dip.from_disk import fit_tiles_from_disk
from deepunmix.engine.dip.undip import UnDIP
from deepunmix.engine.core.errors import MemoryBudgetError

torch.set_num_threads(1)
src, dst, cap_mb, memory_mb, runs = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
E = np.load(src + ".E.npy")
sample = np.load(src + ".sample.npy")
size = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (size + int(cap_mb * 2**20), resource.RLIM_INFINITY))
try:
    for run in range(runs):  # a second run in the same process (a QGIS session) after the warm-up
        fit = fit_tiles_from_disk(
            UnDIP(endmembers=E, n_iter=2, random_state=0), src, dst, "U", sample, memory_mb=memory_mb
        )
        print("DONE", len(fit.tiles_))
except MemoryBudgetError as exc:
    print("MESSAGE", exc)
"""


def test_tiles_from_disk_under_an_address_space_cap(tmp_path):
    """In a process whose address space (RLIMIT_AS, ``ulimit -v``) is capped at its size + 400 MB, a fit with
    MEMORY_MB = 150 completes in tiles; capped at + 100 MB it stops at once with a message. (At + 300 MB it
    completes too, using about 285 MB: the allocator's heap creeps from tile to tile, so the test keeps room.) Before, OpenBLAS's
    128 MB work buffer, taken at the first large product inside the fit, could not be had: OpenBLAS retried
    forever (the process hung), or torch's allocations failed mid-fit."""
    import os
    import subprocess
    import sys

    pytest.importorskip("resource")
    cube, E, _ = _scene(H=300, W=300, L=20)
    src = _raster(tmp_path, cube)
    np.save(str(src) + ".E.npy", E)
    np.save(str(src) + ".sample.npy", cube.reshape(20, -1)[:, ::20].astype(np.float64))
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def run(cap_mb, memory_mb, name, runs=1):
        out = subprocess.run(
            [sys.executable, "-c", CAPPED_FIT, str(src), str(tmp_path / name), str(cap_mb), str(memory_mb), str(runs)],
            capture_output=True,
            text=True,
            timeout=240,
            env=env,
        )
        return out.stdout + out.stderr[-3000:]

    out = run(400, 150, "fits.tif")
    assert out.startswith("DONE"), out
    assert int(out.split()[1]) > 1  # fitted in tiles
    A = read_raster(tmp_path / "fits.tif").cube
    np.testing.assert_allclose(A.sum(0), 1.0, atol=1e-4)
    # the cap, not MEMORY_MB, sizes the tiles: sized after the warm-up took its buffers; and a second run in the
    # same process is not refused for the warm-up it no longer needs
    out = run(400, 1024, "cap_sized.tif", runs=2)
    assert out.count("DONE") == 2, out
    np.testing.assert_allclose(read_raster(tmp_path / "cap_sized.tif").cube.sum(0), 1.0, atol=1e-4)
    out = run(100, 150, "refused.tif")
    assert out.startswith("MESSAGE") and "address-space limit (ulimit -v)" in out, out
    assert not (tmp_path / "refused.tif").exists()


def test_the_estimates_cover_the_measured_tile_fits():
    """``benchmarks/resources.py --case dip_tile_memory``'s committed measurement (peak resident bytes per pixel of
    one tile fit, each variant's network, 20 to 224 bands): ``bytes_per_pixel`` is never below it and not wastefully
    above (tiles would be needlessly small); the address space the first fit keeps is within ``WARM_UP_BYTES`` plus
    the network's fixed cost."""
    import json
    from pathlib import Path

    import resources  # benchmarks/ is on pytest's path

    from deepunmix.engine.dip.from_disk import WARM_UP_BYTES

    bench = Path(__file__).resolve().parents[3] / "benchmarks"
    results = json.loads((bench / "results" / "dip_tile_memory.json").read_text())
    assert {r["estimator"] for r in results["rows"]} == set(resources.ESTIMATORS)
    for row in results["rows"]:
        estimate = resources.estimate(row["estimator"], row["bands"])
        assert row["bytes_per_pixel"] <= estimate <= 2.5 * row["bytes_per_pixel"], (row["estimator"], row["bands"])
        assert row["virtual_bytes_per_pixel"] <= estimate, (row["estimator"], row["bands"])  # address space too
        # the libraries' one-off buffers, plus the network's own fixed cost (the intercept: its weights)
        assert row["reserved_by_warm_up_mib"] <= WARM_UP_BYTES / 2**20 + max(0.0, row["intercept_mib"]), row


@pytest.mark.usefixtures("torch_one_thread")
def test_two_concurrent_runs_with_one_output_name_keep_their_own_tiles(tmp_path):
    """Two from-disk fits writing the same output at once: each accumulates in its own temporary file, so
    both finish with complete maps (one of them wins the final rename); nothing is left behind."""
    import threading

    cube, E_true, _ = _scene()
    src = _raster(tmp_path, cube)
    Y, _ = _all_valid(src)
    out = tmp_path / "abundances.tif"
    errors, fits = [], []

    def run():  # UnDIP: its output is blended from the accumulated tiles
        try:
            model = UnDIP(endmembers=E_true, n_iter=3, random_state=0)
            fits.append(fit_tiles_from_disk(model, src, out, "a", Y, max_tile_pixels=500))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    got = read_raster(out)
    np.testing.assert_allclose(got.cube[:, got.mask].sum(0), 1.0, atol=1e-4)
    assert got.mask.all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abundances.tif", "scene.tif"]
