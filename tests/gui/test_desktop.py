"""QGIS desktop under Xvfb: run DDICA from the Processing Toolbox's dialog, as a user would.

QGIS runs in a subprocess (``xvfb-run qgis.bin --code desktop_driver.py``) with a fresh profile in which
the plugin is enabled and first-start prompts are off; the driver writes a JSON status file and
screenshots, which this test reads. The last screenshot is also copied to ``<repo>/.build/gui-screenshots``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DRIVER = HERE / "desktop_driver.py"
QGIS_BIN = os.environ.get("DEEPUNMIX_QGIS_BIN", "/usr/bin/qgis.bin")
TIMEOUT_S = float(os.environ.get("DEEPUNMIX_GUI_TIMEOUT", "240"))

# QGIS3.ini for a fresh profile: the plugin on, nothing asking questions at start or exit.
PROFILE_INI = r"""[PythonPlugins]
deepunmix=true
processing=true

[qgis]
checkVersion=false
showTips322=false
projOpenBehavior=use_project
askToSaveProjectChanges=false
askToSaveMemoryLayers=false
allowVersionInformation=false

[core]
NewsFeed\httpsfeedqgisorg\disabled=true

[migration]
settings=true
fileVersion=2

[Processing]
Configuration\KEEP_DIALOG_OPEN=true
"""


def _missing_tools() -> list:
    missing = [tool for tool in ("xvfb-run", "Xvfb") if shutil.which(tool) is None]
    if not os.access(QGIS_BIN, os.X_OK):
        missing.append(QGIS_BIN)
    return missing


def _write_scene(folder: Path) -> str:
    from rasterio.crs import CRS
    from rasterio.transform import from_origin
    from synthetic import make_mixed_scene, procedural_library

    from deepunmix.engine.io.raster import write_cube

    lib, wl, names = procedural_library(n_bands=20, n_spectra=6, random_state=0)
    s = make_mixed_scene(size=24, n_endmembers=3, library=lib, wavelengths=wl, names=names, snr_db=None, random_state=0)
    path = folder / "scene.tif"
    write_cube(
        str(path),
        s.cube,
        transform=from_origin(500000.0, 4200000.0, 30.0, 30.0),
        crs=CRS.from_epsg(32633),
        wavelengths=s.wavelengths,
    )
    return str(path)


def build_zip(folder: Path) -> Path:
    """The release ZIP, as ``make package`` builds it (scripts/package.py)."""
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "package.py"), "--out", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip().splitlines()[-1])


def _make_profile(root: Path) -> Path:
    ini = root / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text(PROFILE_INI, encoding="utf-8")
    return root


def _environment(tmp_path: Path, plugin_from_checkout: bool = True) -> dict:
    """QGIS's environment under Xvfb. ``plugin_from_checkout``: QGIS finds this checkout as its plugin and
    the venv's packages (torch); otherwise neither (a user's QGIS, where the plugin comes from the ZIP)."""
    env = dict(os.environ)
    for key in ("QGIS_CUSTOM_CONFIG_PATH", "QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(key, None)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env.update(
        XDG_RUNTIME_DIR=str(runtime),
        QT_QPA_PLATFORM="xcb",
        OMP_NUM_THREADS="1",  # the machine is shared: one torch thread is fastest
        MKL_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if not plugin_from_checkout:
        for key in ("QGIS_PLUGINPATH", "DEEPUNMIX_DEPS", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(key, None)
        if sys.prefix != sys.base_prefix:  # nor the venv's bin/ (python3, pip) on PATH
            venv = sys.prefix + os.sep
            env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(venv))
        return env
    plugins = REPO / ".build" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "deepunmix"
    if link.is_symlink() and link.resolve() != REPO:  # stale link (checkout moved)
        link.unlink()
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    env.update(QGIS_PLUGINPATH=str(plugins), DEEPUNMIX_DEPS=sysconfig.get_paths()["purelib"])
    return env


def run_qgis(driver: Path, profiles: Path, env: dict, cwd: Path, timeout_s: float = TIMEOUT_S):
    """``xvfb-run qgis.bin --profiles-path profiles --code driver``; return (exit code, output). Killed at the timeout."""
    cmd = [
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1600x1000x24",
        QGIS_BIN,
        "--noversioncheck",
        "--nologo",
        "--profiles-path",
        str(profiles),
        "--code",
        str(driver),
    ]
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=str(cwd),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    return proc.returncode, output or ""


def run_desktop(tmp_path: Path, alg: str, params: dict, search: str = "", **extra) -> dict:
    """Start QGIS under Xvfb with the driver; return the driver's status plus the process output."""
    shots = tmp_path / "screenshots"
    shots.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    status_path = tmp_path / "status.json"
    config = {
        "cube": _write_scene(tmp_path),
        "alg": alg,
        "search": search,
        "params": {k: (str(out / v) if k.startswith("OUTPUT_") else v) for k, v in params.items()},
        "status": str(status_path),
        "shots": str(shots),
        "timeout_s": TIMEOUT_S - 30,
        **extra,
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    env = _environment(tmp_path)
    env["DEEPUNMIX_GUI_CONFIG"] = str(config_path)
    returncode, output = run_qgis(DRIVER, _make_profile(tmp_path / "qgis-profile"), env, tmp_path)
    (tmp_path / "qgis-output.txt").write_text(output, encoding="utf-8")
    status = json.loads(status_path.read_text(encoding="utf-8")) if status_path.exists() else {}
    status["returncode"] = returncode
    status["output_tail"] = output[-3000:]
    _keep_for_humans(status.get("screenshots", []))
    return status


def run_script_driver(tmp_path: Path, driver: Path, job: dict, screenshots_folder: str = ""):
    """Start QGIS under Xvfb with a generator-style driver (``gui_run.Run``) given ``job`` plus the status file,
    the screenshot folder, the time limit and this folder; return (status, QGIS's exit code, its output)."""
    shots = tmp_path / "screenshots"
    shots.mkdir()
    status_path = tmp_path / "status.json"
    config = dict(job, status=str(status_path), shots=str(shots), timeout_s=TIMEOUT_S - 30, gui_dir=str(HERE))
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    env = _environment(tmp_path)
    env["DEEPUNMIX_GUI_CONFIG"] = str(tmp_path / "config.json")
    returncode, output = run_qgis(driver, _make_profile(tmp_path / "qgis-profile"), env, tmp_path)
    status = json.loads(status_path.read_text(encoding="utf-8")) if status_path.exists() else {}
    _keep_for_humans(status.get("screenshots", []), screenshots_folder)
    return status, returncode, output


def _keep_for_humans(screenshots: list, folder: str = "") -> None:
    if not screenshots:
        return
    target = REPO / ".build" / "gui-screenshots" / folder
    target.mkdir(parents=True, exist_ok=True)
    for shot in screenshots:
        if Path(shot).exists():
            shutil.copy2(shot, target / Path(shot).name)


@pytest.mark.slow
def test_ddica_from_the_toolbox_dialog(tmp_path):
    missing = _missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (the CI image installs xvfb and qgis)")
    if importlib.util.find_spec("torch") is None:
        pytest.skip("DDICA needs PyTorch in the test environment")
    params = {
        "N_ENDMEMBERS": 3,
        "SEED": 0,
        "STEPS": 20,
        "RESTARTS": 2,
        "BATCH_SIZE": 64,
        "OUTPUT_ABUNDANCES": "abundances.tif",
        "OUTPUT_ENDMEMBERS": "endmembers.csv",
        "OUTPUT_REPORT": "report.html",
    }
    status = run_desktop(tmp_path, "deepunmix:ddica", params, search="DDICA")
    summary = json.dumps({k: v for k, v in status.items() if k != "output_tail"}, indent=1)[:6000]
    assert status.get("error") is None, f"{status.get('error')}\n{summary}\n{status['output_tail']}"
    assert status.get("ok"), f"the driver did not finish\n{summary}\n{status['output_tail']}"

    steps = {s["step"]: s for s in status["steps"]}
    assert steps["provider"]["plugin_loaded"]
    assert steps["toolbox_selected"]["algorithm"] == "deepunmix:ddica"
    assert steps["dialog"]["algorithm"] == "deepunmix:ddica"
    assert steps["run_finished"]["executed"]

    project = status["project"]
    assert project["abundance_layer"] == "DDICA abundances (scene)", project["layers"]
    assert Path(project["abundance_source"]).resolve() == (tmp_path / "out" / "abundances.tif").resolve()
    assert project["abundance_bands"] == 3
    assert project["abundance_styled"], project["layers"]
    assert any(layer["name"] == "DDICA endmembers (scene)" for layer in project["layers"]), project["layers"]
    assert project["report_exists"] and project["report_bytes"] > 1000
    assert Path(project["report"]).resolve() == (tmp_path / "out" / "report.html").resolve()
    html = Path(project["report"]).read_text(encoding="utf-8")
    assert "<h1>DDICA" in html and html.count("<img") >= 2  # title, spectra and abundance figures
    assert any(Path(r["filename"]).resolve() == Path(project["report"]).resolve() for r in project["results_viewer"]), (
        project["results_viewer"]
    )
    assert project["results_dock_visible"]

    shots = [Path(p) for p in status["screenshots"]]
    assert [p.name for p in shots] == ["01_toolbox.png", "02_dialog.png", "03_dialog_log.png", "04_result.png"]
    for shot in shots:
        assert shot.exists() and shot.stat().st_size > 10_000, shot
    assert status["returncode"] == 0, f"QGIS exited with {status['returncode']}\n{status['output_tail']}"


def _skip_without_desktop(needs_torch=False):
    missing = _missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (the CI image installs xvfb and qgis)")
    if needs_torch and importlib.util.find_spec("torch") is None:
        pytest.skip("DDICA needs PyTorch in the test environment")


def _check_screenshots(status, names):
    shots = [Path(p) for p in status["screenshots"]]
    assert [p.name for p in shots] == names
    for shot in shots:
        assert shot.exists() and shot.stat().st_size > 10_000, shot


@pytest.mark.slow
def test_shipped_model_from_the_toolbox_dialog(tmp_path):
    """The example model: labelled outputs, an estimated count (the scene has 3 materials), DDICA's outputs."""
    _skip_without_desktop(needs_torch=True)
    out = tmp_path / "out"
    params = {
        "max_endmembers": 5,
        "n_endmembers": 0,
        "seed": 0,
        "ddica:Abundances": str(out / "abundances.tif"),
        "ddica:Endmembers": str(out / "endmembers.csv"),
        "ddica:Report": str(out / "report.html"),
    }
    status = run_desktop(
        tmp_path,
        "deepunmix:estimate_then_ddica",
        params,
        search="Estimate endmember count",
        input_param="hyperspectral_raster",
    )
    summary = json.dumps({k: v for k, v in status.items() if k != "output_tail"}, indent=1)[:6000]
    assert status.get("error") is None, f"{status.get('error')}\n{summary}\n{status['output_tail']}"
    assert status.get("ok"), f"the driver did not finish\n{summary}\n{status['output_tail']}"
    steps = {s["step"]: s for s in status["steps"]}
    assert "Estimate endmember count, then DDICA" in steps["dialog"]["title"]  # 3.44 puts the group first
    assert steps["run_finished"]["executed"]
    project = status["project"]
    assert project["abundance_bands"] == 3  # the estimate, fed into DDICA
    assert (out / "report.html").stat().st_size > 1000
    assert any(
        Path(r["filename"]).resolve() == (out / "report.html").resolve() and r["name"].startswith("DDICA")
        for r in project["results_viewer"]
    ), project["results_viewer"]
    _check_screenshots(status, ["01_toolbox.png", "02_dialog.png", "03_dialog_log.png", "04_result.png"])


@pytest.mark.slow
def test_batch_run_with_reports(tmp_path):
    """Batch mode with OUTPUT_REPORT (QGIS 3.22 crashed in loadHTMLResults): two rows, two named reports."""
    _skip_without_desktop()
    out = tmp_path / "out"
    rows = [{"METHOD": 3, "OUTPUT_REPORT": str(out / f"count_{i}.html")} for i in range(2)]
    status = run_desktop(
        tmp_path, "deepunmix:estimate_n_endmembers", {}, mode="batch", batch_rows=rows, batch_input="INPUT"
    )
    summary = json.dumps({k: v for k, v in status.items() if k != "output_tail"}, indent=1)[:6000]
    assert status.get("error") is None, f"{status.get('error')}\n{summary}\n{status['output_tail']}"
    assert status.get("ok"), f"the driver did not finish\n{summary}\n{status['output_tail']}"
    batch = status["batch"]
    assert not batch["python_errors"], batch["python_errors"]
    names = sorted(r["name"] for r in batch["results_viewer"] if not r["name"].endswith("[summary]"))
    assert names == ["Endmember count report (scene) [0]", "Endmember count report (scene) [1]"], batch
    for i in range(2):
        assert (out / f"count_{i}.html").stat().st_size > 500
    assert "timestamp" not in status["output_tail"]
    _check_screenshots(status, ["01_batch_dialog.png", "02_batch_log.png", "03_batch_result.png"])
