"""The deep algorithms after exactly the user's route, in QGIS's own Python with no developer paths.

The release ZIP (``scripts/package.py``) is unzipped into a fresh profile by the code of QGIS's *Install
from ZIP*; the plugin's own PyTorch installer (``gui.torch_installer``: prepare, pip, finalize, the steps of the
*Install PyTorch…* dialog without the dialog) fills ``<profile>/python/deepunmix_deps``; then DDICA,
BUDDIP, UnDIP and deep ICA run through ``qgis_process`` and through ``processing.run``
(``route_driver.py``). Nothing is cached between runs: every run installs torch again.

Where torch comes from: pip's configuration (the package registry) by default; a folder of wheels
(torch and its dependencies for this Python) when ``DEEPUNMIX_TORCH_WHEELS`` names one. A failed
install fails the test: it never skips for a missing wheel.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("deepunmix_gui_desktop", HERE / "test_desktop.py")
desktop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(desktop)

QGIS_PYTHON = os.environ.get("DEEPUNMIX_QGIS_PYTHON", "/usr/bin/python3")
QGIS_PROCESS = os.environ.get("DEEPUNMIX_QGIS_PROCESS") or shutil.which("qgis_process.bin") or "qgis_process"
# few steps on the small scene of test_desktop: it checks that they run, not how well
JOBS = {
    "deepunmix:ddica": ({"N_ENDMEMBERS": 3, "STEPS": 5, "RESTARTS": 1, "BATCH_SIZE": 64}, "OUTPUT_ABUNDANCES", 3),
    "deepunmix:buddip": ({"N_ENDMEMBERS": 3, "ITERATIONS": 5}, "OUTPUT_ABUNDANCES", 3),
    "deepunmix:undip": ({"N_ENDMEMBERS": 3, "ITERATIONS": 5}, "OUTPUT_ABUNDANCES", 3),
    "deepunmix:ica": ({"N_COMPONENTS": 2, "STEPS": 5, "RESTARTS": 1}, "OUTPUT", 2),
}


def _call(cmd, env, timeout):
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{output[-5000:]}"
    return proc.stdout


def _last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def _jobs(scene, out: Path):
    jobs = {}
    for alg, (params, output, _bands) in JOBS.items():
        name = alg.split(":")[1]
        jobs[alg] = {"INPUT": scene, "SEED": 0, **params, output: str(out / f"{name}.tif")}
        if output == "OUTPUT_ABUNDANCES":
            jobs[alg]["OUTPUT_ENDMEMBERS"] = str(out / f"{name}.csv")
    return jobs


def _bands(path) -> int:
    import rasterio

    with rasterio.open(path) as src:
        return src.count


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_deep_algorithms_after_the_users_install(tmp_path):
    if not (Path(QGIS_PYTHON).exists() and shutil.which(QGIS_PROCESS)):
        pytest.fail(f"needs QGIS's Python ({QGIS_PYTHON}) and {QGIS_PROCESS}")
    plugin_zip = desktop.build_zip(tmp_path / "dist")
    scene = desktop._write_scene(tmp_path)
    env = desktop._environment(tmp_path, plugin_from_checkout=False)
    env.update(QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "config"))  # a fresh profile

    installed = _last_json(_call([QGIS_PYTHON, str(HERE / "route_driver.py"), "install", str(plugin_zip)], env, 900))
    profile = tmp_path / "config" / "profiles" / "default"
    assert Path(installed["target"]) == profile / "python" / "deepunmix_deps", installed
    assert Path(installed["plugin"], "metadata.txt").is_file() and not Path(installed["plugin"]).is_symlink()
    assert installed["same_session_torch"].startswith(installed["target"] + os.sep), installed
    print("PyTorch install:", installed["install_s"], "s; moved to torch_private:", installed["moved"])

    # qgis_process, one algorithm a run, as a user on a server would (the plugin enabled in that profile)
    _call([QGIS_PROCESS, "plugins", "enable", "deepunmix"], env, 120)
    out = tmp_path / "qgis_process"
    out.mkdir()
    for alg, params in _jobs(scene, out).items():
        args = [f"{key}={value}" for key, value in params.items()]
        _call([QGIS_PROCESS, "run", alg, "--", *args], env, 300)
        output = params[JOBS[alg][1]]
        assert _bands(output) == JOBS[alg][2], alg

    # processing.run in a standalone QGIS script, then what another plugin would import
    out = tmp_path / "processing_run"
    out.mkdir()
    (tmp_path / "jobs.json").write_text(json.dumps(_jobs(scene, out)), encoding="utf-8")
    ran = _last_json(_call([QGIS_PYTHON, str(HERE / "route_driver.py"), "run", str(tmp_path / "jobs.json")], env, 600))
    for alg, (_params, output, bands) in JOBS.items():
        assert _bands(ran["results"][alg][output]) == bands, (alg, ran["results"][alg])
    assert ran["torch"].startswith(installed["target"] + os.sep), ran
    # torch's own sympy (Debian 12's is too old for it) never becomes the one QGIS and other plugins import
    assert ran["sympy_kept"], ran
    assert not (ran["sympy_for_others"] or "").startswith(os.path.join(installed["target"], "torch_private")), ran
