"""QGIS desktop under Xvfb: the endmember CSV as a numeric table, the spectra view and the pixel tool.

Starts QGIS like ``test_desktop.py`` (same fresh profile and environment) with ``spectra_driver.py``. The
scene is reflectance x 10000 in uint16 with bands 12-15 dropped, as on a real sensor. Screenshots are
copied to ``<repo>/.build/gui-screenshots``.
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

PIXEL = (10, 14)  # row, col of the clicked pixel


def _write_scene(folder: Path):
    from rasterio.crs import CRS
    from rasterio.transform import from_origin
    from synthetic import make_mixed_scene, procedural_library

    from deepunmix.engine.io.endmember_csv import write_endmembers_csv
    from deepunmix.engine.io.raster import write_cube
    from deepunmix.engine.io.scaling import units_comment

    lib, wl, names = procedural_library(n_bands=30, n_spectra=3, random_state=0)
    s = make_mixed_scene(
        size=24,
        n_endmembers=3,
        library=lib,
        wavelengths=wl,
        names=["Soil", "Tree", "Water"],
        snr_db=None,
        random_state=0,
    )
    cube = folder / "scene.tif"
    write_cube(
        str(cube),
        np.round(s.cube * 10000),
        transform=from_origin(500000.0, 4200000.0, 30.0, 30.0),
        crs=CRS.from_epsg(32633),
        wavelengths=s.wavelengths,
        dtype="uint16",
    )
    keep = np.array([b for b in range(1, 31) if not 12 <= b <= 15])
    csv = write_endmembers_csv(
        folder / "library_endmembers.csv",
        s.endmembers[keep - 1],
        s.names,
        wavelengths=s.wavelengths[keep - 1],
        bands=keep,
        comment=units_comment(1e-4, "library spectra"),
    )
    return s, str(cube), str(csv)


@pytest.mark.slow
def test_endmember_table_spectra_view_and_pixel_tool(tmp_path):
    missing = desktop._missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (the CI image installs xvfb and qgis)")
    scene, cube, csv = _write_scene(tmp_path)
    job = {"cube": cube, "csv": csv, "out_csv": str(tmp_path / "vca_endmembers.csv"), "pixel": PIXEL}
    status, returncode, output = desktop.run_script_driver(tmp_path, HERE / "spectra_driver.py", job)
    detail = json.dumps(status, indent=1)[:5000] + "\n" + output[-3000:]
    assert status.get("error") is None and status.get("ok"), detail
    steps = {s["step"]: s for s in status["steps"]}

    assert steps["plugin"]["menu_actions"] == ["Spectra view…", "Pixel spectrum tool"]
    # the run's CSV opened in the view by itself
    assert steps["run"]["dock_visible"] and steps["run"]["dock_path"] == job["out_csv"], detail
    assert steps["run"]["dock_names"] == ["VCA_1", "VCA_2", "VCA_3"]

    # issue 15 point 1: a numeric table (band, wavelength, one column per endmember) by every route
    assert set(status["tables"]) == {"processing output", "added as a file (drag and drop)", "delimited-text provider"}
    for route, table in status["tables"].items():
        names = [f[0] for f in table["fields"]]
        assert names == ["band", "wavelength", "VCA_1", "VCA_2", "VCA_3"], (route, table)
        assert all(f[2] for f in table["fields"]), (route, table)  # every column numeric
        assert table["features"] == 26, (route, table)  # 30 bands less 12-15

    assert steps["file_chooser"]["filters"][0] == "Endmember CSV (*.csv)"
    assert steps["opened"]["dock_path"] == csv and sorted(steps["opened"]["dock_names"]) == ["Soil", "Tree", "Water"]

    pixel = steps["pixel"]
    assert pixel["tool_active"] and (pixel["row"], pixel["col"]) == PIXEL, detail
    np.testing.assert_allclose(pixel["abundances"], scene.abundances[:, PIXEL[0], PIXEL[1]], atol=2e-3)
    assert pixel["rmse"] < 1e-4 and "Reconstruction RMSE" in pixel["info"]

    desktop._check_screenshots(
        status,
        [
            "01_spectra_after_run.png",
            "02_attribute_table_processing.png",
            "03_attribute_table_delimited_text.png",
            "04_file_chooser.png",
            "05_spectra_opened.png",
            "06_pixel_tool.png",
        ],
    )
    assert returncode == 0, output[-3000:]
