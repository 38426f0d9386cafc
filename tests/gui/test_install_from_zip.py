"""The README's "Install in QGIS", followed as a user would, in QGIS desktop under Xvfb.

A truly fresh profile (an empty folder: QGIS writes its defaults, nothing is enabled), QGIS's own
Python only (no venv, no torch, the checkout not on any plugin path), the ZIP built by
``scripts/package.py`` (what ``make package`` runs) installed by the Plugin Manager's *Install from
ZIP* code. ``install_driver.py`` does the steps; screenshots go to
``<repo>/.build/gui-screenshots/install_from_zip``.
"""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("deepunmix_gui_desktop", HERE / "test_desktop.py")
desktop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(desktop)

SEARCHES = ["hyperspectral", "unmixing", "endmember"]  # the words the README names
CLASSIC = {"deepunmix:estimate_n_endmembers", "deepunmix:extract_endmembers", "deepunmix:fcls"}


@pytest.mark.slow
def test_readme_install_from_zip_in_a_fresh_profile(tmp_path):
    missing = desktop._missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (the CI image installs xvfb and qgis)")
    plugin_zip = desktop.build_zip(tmp_path / "dist")
    with zipfile.ZipFile(plugin_zip) as zf:
        assert "deepunmix/metadata.txt" in zf.namelist() and "deepunmix/README.md" in zf.namelist()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    profiles = tmp_path / "profiles"  # empty: QGIS creates the default profile itself
    profiles.mkdir()
    config = {
        "zip": str(plugin_zip),
        "cube": desktop._write_scene(tmp_path),
        "out_dir": str(out),
        "searches": SEARCHES,
        "status": str(tmp_path / "status.json"),
        "shots": str(shots),
        "timeout_s": desktop.TIMEOUT_S - 30,
        "gui_dir": str(HERE),
    }
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    env = desktop._environment(tmp_path, plugin_from_checkout=False)
    env["DEEPUNMIX_GUI_CONFIG"] = str(tmp_path / "config.json")
    returncode, output = desktop.run_qgis(HERE / "install_driver.py", profiles, env, tmp_path)
    (tmp_path / "qgis-output.txt").write_text(output, encoding="utf-8")
    status = json.loads(Path(config["status"]).read_text(encoding="utf-8")) if Path(config["status"]).exists() else {}
    desktop._keep_for_humans(status.get("screenshots", []), "install_from_zip")
    detail = json.dumps(status, indent=1)[:6000] + "\n" + output[-3000:]
    assert status.get("error") is None and status.get("ok"), detail
    steps = {s["step"]: s for s in status["steps"]}

    fresh = steps["fresh"]
    assert not (fresh["available"] or fresh["active"] or fresh["setting"] or fresh["provider"]), fresh
    assert fresh["profile"].startswith(str(profiles)), fresh

    # "DeepUnmix is enabled at once; no restart": the ZIP's copy, in the profile, running
    installed = steps["installed"]
    assert installed["runner_ok"] and installed["active"] and installed["setting"] and installed["provider"], installed
    assert installed["folder_is_copy"] and installed["module_file"].startswith(fresh["profile"]), installed
    assert CLASSIC <= set(installed["algorithms"]), installed["algorithms"]
    assert "deepunmix:estimate_then_ddica" in installed["algorithms"]  # the example model
    assert installed["menu_actions"] == ["Spectra view…", "Pixel spectrum tool"]
    # "the message bar offers Install PyTorch…" (QGIS's Python has no torch), and names the lasting menu entry
    assert not installed["torch_importable"]
    assert installed["torch_menu"] == "Install / repair / remove PyTorch…", installed
    offers = [m for m in installed["message_bar"] if "Install PyTorch…" in m["buttons"]]
    assert len(offers) == 1 and "PyTorch is not installed" in offers[0]["text"], installed["message_bar"]
    assert "Raster → DeepUnmix → Install / repair / remove PyTorch…" in offers[0]["text"]
    # "It first asks, stating the size": CPU or CUDA; answered Cancel, nothing installed. Pressed after the first
    # run: the button of 0.1.0 crashed QGIS there (segfault in its closure slot)
    question = steps["torch_question"]["text"]
    assert "MB" in question and "deepunmix_deps" in question, question
    assert steps["torch_question"]["buttons"][:2] == ["Install the CPU build", "Install the CUDA build (NVIDIA GPU)"]
    declined = steps["torch_declined"]
    assert not declined["folder_exists"]
    assert any(any(b.startswith("Install PyTorch") for b in m["buttons"]) for m in declined["message_bar"]), declined

    # "typing hyperspectral, unmixing or endmember in the toolbox's search box finds them"
    found = steps["toolbox"]["found"]
    for word in SEARCHES:
        assert CLASSIC <= set(found[word]), (word, found[word])
    assert set(installed["algorithms"]) == set(found["hyperspectral"]), found  # the example model too

    # the first run: a count, the extracted endmembers, FCLS
    assert steps["count"]["n"] == 3, steps["count"]  # the synthetic scene mixes 3 materials
    assert "3 endmembers" in steps["count"]["log_tail"], steps["count"]  # what the user reads in the Log tab
    layers = {lyr["name"]: lyr for lyr in steps["project"]["layers"]}
    abundance = layers.get("FCLS abundances (scene)")
    assert abundance and abundance["kind"] == "raster" and abundance["bands"] == 3, layers
    assert abundance["renderer"] == "QgsMultiBandColorRenderer", abundance
    tables = [lyr for lyr in layers.values() if lyr.get("kind") == "table"]
    assert [t["name"] for t in tables] == ["VCA endmembers (scene)"], layers
    assert [f[0] for f in tables[0]["fields"]][:2] == ["band", "wavelength"] and len(tables[0]["fields"]) == 5
    assert all(f[2] for f in tables[0]["fields"]) and tables[0]["features"] == 20, tables[0]
    # "After every DeepUnmix run that writes an endmember CSV ... the view opens with that CSV by itself"
    assert steps["project"]["spectra_dock_visible"], steps["project"]
    assert Path(steps["project"]["spectra_dock_path"]) == out / "endmembers.csv"

    # "the optional HTML report appears in the Results Viewer under the algorithm's and the input's name"
    assert steps["project"]["results_viewer"] == ["Endmember count report (scene)", "FCLS report (scene)"], steps[
        "project"
    ]
    # "the dialog's Help button opens a page ... (written from the algorithm itself, works offline) listing every
    # parameter with its script identifier, and linking to this README, which the ZIP includes"
    help_url = steps["project"]["help_url"]
    assert help_url.startswith("file://"), help_url
    page = Path(help_url[len("file://") :]).read_text(encoding="utf-8")
    assert "OUTPUT_ABUNDANCES" in page and "ENDMEMBERS" in page
    readme = Path(installed["module_file"]).parent / "README.md"
    assert f"file://{readme}" in page and readme.is_file(), page[-1500:]

    desktop._check_screenshots(
        status,
        [
            "01_installed.png",
            "02_toolbox_hyperspectral.png",
            "03_fcls_dialog.png",
            "04_fcls_log.png",
            "05_result.png",
            "06_torch_question.png",
        ],
    )
    assert returncode == 0, output[-3000:]
