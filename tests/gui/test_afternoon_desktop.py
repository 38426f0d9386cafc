"""QGIS desktop under Xvfb: a scientist's first afternoon (issue 24), with screenshots to look at.

Starts QGIS like ``test_desktop.py`` (fresh profile, plugin from the checkout) with ``afternoon_driver.py``:
a Jasper-Ridge-like .mat (integer counts, ``maxValue``, ``SlectBands``, no georeferencing) imported, FCLS
with its reference endmembers drawn over the cube, Evaluate's scores table, a side panel and the example
model in the modeler. Screenshots are copied to ``<repo>/.build/gui-screenshots/afternoon``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("deepunmix_gui_desktop", HERE / "test_desktop.py")
desktop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(desktop)


def _write_mat(folder: Path):
    from scipy.io import savemat
    from synthetic import make_patch_scene, procedural_library

    lib, wl, _ = procedural_library(n_bands=30, n_spectra=4, random_state=0)
    # patches: a map drawn flipped or shifted against the cube would show at a glance
    s = make_patch_scene(size=40, n_endmembers=4, snr_db=40, library=lib, wavelengths=wl, n_patches=16, random_state=0)
    H, W = s.cube.shape[1:]
    Y = np.round(5000 * s.cube.reshape(30, -1, order="C")).astype(np.uint16)  # (L, N), pixel n = row * W + col
    A = s.abundances.reshape(4, -1)
    image = {"Y": Y, "H": H, "W": W, "maxValue": 5000.0, "SlectBands": np.arange(3, 33)[:, None], "nBand": 40}
    savemat(folder / "jasper_like.mat", image)
    savemat(
        folder / "jasper_like_truth.mat",
        {"A": A, "E": s.endmembers, "names": np.array(["Tree", "Water", "Dirt", "Road"], dtype=object)},
    )
    return str(folder / "jasper_like.mat"), str(folder / "jasper_like_truth.mat")


@pytest.mark.slow
def test_first_afternoon(tmp_path):
    missing = desktop._missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (the CI image installs xvfb and qgis)")
    mat, truth = _write_mat(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    job = {"mat": mat, "truth": truth, "out": str(out)}
    status, returncode, output = desktop.run_script_driver(tmp_path, HERE / "afternoon_driver.py", job, "afternoon")
    detail = json.dumps(status, indent=1)[:6000] + "\n" + output[-3000:]
    assert status.get("error") is None and status.get("ok"), detail
    steps = {s["step"]: s for s in status["steps"]}

    # 1. names from the file, unique per run; every raster drawn where the cube is (QGIS extents)
    overlay = steps["overlay"]
    rasters = overlay["rasters"]
    assert set(rasters) == {
        "jasper_like",
        "jasper_like reference abundances",
        "FCLS abundances (jasper_like)",
        "FCLS abundances (jasper_like) [2]",
    }, detail
    for name, extent in rasters.items():
        assert extent == rasters["jasper_like"] == [0.0, -40.0, 40.0, 0.0], (name, extent)

    # 6. the scores table: one row per material, numeric scores
    scores = steps["scores"]
    assert [f[2] for f in scores["fields"]] == [False, False, True, True], scores
    assert sorted(r[0] for r in scores["rows"]) == ["Dirt", "Road", "Tree", "Water"]
    assert max(r[2] for r in scores["rows"]) < 0.05  # FCLS with the reference endmembers: the units matched

    # 9. the side panel as QGIS shows it
    panel = " ".join(steps["side_panel"]["texts"])
    assert "Abundance maps from a hyperspectral raster" in panel and "<b>" not in panel

    # 2. the model's count flows: a declared dependency and the description-named variable
    assert steps["modeler"]["dependencies"] == ["estimate"]
    assert "@Estimate_number_of_endmembers_N_ENDMEMBERS" in steps["modeler"]["n_endmembers"][0]

    desktop._check_screenshots(
        status, ["01_overlaid_map.png", "02_scores_table.png", "03_side_panel.png", "04_model_in_modeler.png"]
    )
    assert returncode == 0, output[-3000:]
