"""QGIS desktop under Xvfb: an image prior over its memory budget, fitted in tiles read from disk, opened on the
canvas as a user would, against the same run with a budget that keeps it in memory.

Starts QGIS like ``test_desktop.py`` (same fresh profile and environment) with ``tiles_driver.py``. The scene
(400 bands, 105 x 105 pixels, smooth maps, a nodata corner) needs about 67 MB in memory: over a 64 MB
budget (MEMORY_MB, the smallest the dialog allows) it goes through tiles from disk; under 1024 MB it stays in
memory. Screenshots of both maps are copied to ``<repo>/.build/gui-screenshots/tiles``.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("deepunmix_gui_desktop", HERE / "test_desktop.py")
desktop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(desktop)

SIZE, BANDS = 105, 400  # 70 MB as float32 x 4 working copies: over 64 MB, under 1024 MB
NODATA = -9999.0


def _write_scene(folder: Path):
    """Smooth abundance maps (so a seam would show), procedural spectra, 0.5 % noise, a nodata corner; the
    true endmembers as a CSV (UnDIP's fixed endmembers, the same for both routes)."""
    from rasterio.crs import CRS
    from rasterio.transform import from_origin
    from synthetic import procedural_library

    from deepunmix.engine.io.endmember_csv import write_endmembers_csv
    from deepunmix.engine.io.raster import write_cube

    E, wl, _ = procedural_library(n_bands=BANDS, n_spectra=3, random_state=0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    A = np.exp(2 * np.stack([np.sin(3 * xx + 2 * yy), np.cos(4 * yy - xx), 3 * xx * yy]))
    A /= A.sum(0)
    rng = np.random.default_rng(0)
    cube = np.einsum("lp,phw->lhw", E, A) + rng.normal(scale=0.005, size=(BANDS, SIZE, SIZE))
    mask = np.ones((SIZE, SIZE), bool)
    mask[:12, :20] = False
    path = folder / "scene.tif"
    write_cube(
        str(path),
        cube.astype(np.float32),
        transform=from_origin(500000.0, 4200000.0, 30.0, 30.0),
        crs=CRS.from_epsg(32633),
        wavelengths=wl,
        nodata=NODATA,
        mask=mask,
    )
    csv = write_endmembers_csv(folder / "library.csv", E, ["Soil", "Tree", "Water"], wavelengths=wl)
    return str(path), str(csv), mask


def _column_jumps(A: np.ndarray) -> np.ndarray:
    """Mean |step| between neighbouring columns and between neighbouring rows, per position (NaN-safe)."""
    dx = np.nanmean(np.abs(np.diff(A, axis=2)).sum(0), axis=0)
    dy = np.nanmean(np.abs(np.diff(A, axis=1)).sum(0), axis=1)
    return np.concatenate([dx, dy])


RUNS = {  # algorithm, its label, its parameters beyond the input and outputs
    # UnDIP's output is an EMA of the network's maps from its first iteration (decay 0.99): 200 iterations
    # leave the random start about 13 % of the weight; fewer and two runs differ by their random starts
    "undip": ("deepunmix:undip", "UnDIP", {"ITERATIONS": 200, "LEARNING_RATE": 0.01}),
    "buddip": ("deepunmix:buddip", "BUDDIP", {"N_ENDMEMBERS": 3, "ITERATIONS": 50}),
}


def _jobs(out: Path, csv: str) -> list:
    jobs = []
    for alg, (alg_id, _, params) in RUNS.items():
        if alg == "undip":
            params = dict(params, ENDMEMBERS=csv)  # the same fixed endmembers for both routes
        for route, memory_mb in (("tiles", 64), ("memory", 1024)):
            name = f"{alg}_{route}"
            jobs.append(
                {
                    "name": name,
                    "alg": alg_id,
                    "params": dict(
                        params,
                        SEED=0,
                        MEMORY_MB=memory_mb,
                        OUTPUT_ABUNDANCES=str(out / f"{name}.tif"),
                        OUTPUT_ENDMEMBERS=str(out / f"{name}.csv"),
                        OUTPUT_REPORT=str(out / f"{name}.html"),
                    ),
                }
            )
    return jobs


def _read_maps(path: Path, names: list, mask: np.ndarray) -> np.ndarray:
    import rasterio

    with rasterio.open(path) as ds:
        assert list(ds.descriptions) == names, ds.descriptions
        A = ds.read(masked=True)
    np.testing.assert_array_equal(~np.ma.getmaskarray(A[0]), mask)  # nodata where the input has it, only there
    A = A.filled(np.nan)
    np.testing.assert_allclose(A[:, mask].sum(0), 1.0, atol=1e-4)
    return A


@pytest.mark.slow
def test_image_priors_over_the_budget_in_tiles_from_disk_on_the_canvas(tmp_path):
    """UnDIP and BUDDIP, each over the budget (tiles from disk) and under it (in memory), from their dialogs:
    the layers on the canvas, the tables, the logs and reports, and the two routes' maps compared."""
    desktop._skip_without_desktop(needs_torch=True)
    cube, csv, mask = _write_scene(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    job = {"cube": cube, "runs": _jobs(out, csv)}
    status, returncode, output = desktop.run_script_driver(tmp_path, HERE / "tiles_driver.py", job, "tiles")
    detail = json.dumps(status, indent=1)[:6000] + "\n" + output[-3000:]
    assert status.get("error") is None and status.get("ok"), detail

    for alg, (_, label, _) in RUNS.items():
        names = [f"{label}_{i}" for i in (1, 2, 3)]
        tiles, memory = status["tables"][f"{alg}_tiles"], status["tables"][f"{alg}_memory"]
        assert "valid pixels for the first guess, then fitting in tiles read from disk" in tiles["log"], tiles["log"]
        assert "tiles read from disk" not in memory["log"], memory["log"][-2000:]
        for run, suffix in ((tiles, ""), (memory, " [2]")):  # the second run on the scene: a name of its own
            [layer] = run["abundance"]  # loaded once, on the canvas
            assert layer["valid"] and layer["bands"] == 3 and (layer["width"], layer["height"]) == (SIZE, SIZE), layer
            assert layer["name"] == f"{label} abundances (scene){suffix}", layer
            assert layer["renderer"] == "QgsMultiBandColorRenderer" and all(layer["has_nodata"]), layer
            [table] = run["endmember_tables"]
            assert table["valid"] and table["features"] == BANDS, table
            assert table["fields"] == ["band", "wavelength", *names], table
        assert tiles["abundance"][0]["band_names"] == memory["abundance"][0]["band_names"]
        assert tiles["abundance"][0]["nodata"] == memory["abundance"][0]["nodata"]
        report = (out / f"{alg}_tiles.html").read_text(encoding="utf-8")
        fitted = re.search(r"Fitted in (\d+) tiles read from disk", report)
        assert fitted and int(fitted.group(1)) > 1, report[-3000:]  # more than one tile: the seams are real
        if alg == "buddip":  # in memory it reports its change from the first guess (the tiled route keeps none)
            assert "Change from the starting point" in (out / f"{alg}_memory.html").read_text(encoding="utf-8")
        assert "tiles read from disk" not in (out / f"{alg}_memory.html").read_text(encoding="utf-8")

        A_tiles = _read_maps(out / f"{alg}_tiles.tif", names, mask)
        A_memory = _read_maps(out / f"{alg}_memory.tif", names, mask)
        rmse = np.sqrt(np.nanmean((A_tiles - A_memory) ** 2))  # same band order: no permutation allowed
        print(alg, "rmse tiles vs memory", rmse)
        assert rmse < 0.03, (alg, rmse)
        # no seams: no column or row of the tiled maps steps more than the in-memory maps' steepest (+ margin)
        steps_tiles, steps_memory = np.nanmax(_column_jumps(A_tiles)), np.nanmax(_column_jumps(A_memory))
        print(alg, "steepest step tiles", steps_tiles, "memory", steps_memory)
        assert steps_tiles < 1.5 * steps_memory, (alg, steps_tiles, steps_memory)

    desktop._check_screenshots(
        status,
        [
            f"{i + 1:02d}_{name}"
            for i, name in enumerate(
                f"{alg}_{route}{what}.png"
                for alg in RUNS
                for route in ("tiles", "memory")
                for what in ("_dialog", "_log", "_map")
            )
        ],
    )
    assert returncode == 0, output[-3000:]
