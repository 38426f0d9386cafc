"""scripts/qgis_process runs the plugin's algorithms from a subprocess, as a user would."""

import json
import subprocess
from pathlib import Path

import numpy as np
from plugin_helpers import assert_sum_to_one, read

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "qgis_process"


def _qgis_process(*args, timeout=240):
    proc = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_list_shows_provider():
    out = _qgis_process("list")
    assert "deepunmix:fcls" in out and "deepunmix:extract_endmembers" in out


def test_run_extract_then_fcls(scene):
    d = scene["dir"]
    out = _qgis_process(
        "--json",
        "run",
        "deepunmix:extract_endmembers",
        "--",
        f"INPUT={scene['cube']}",
        "N_ENDMEMBERS=3",
        "METHOD=1",
        f"OUTPUT_ENDMEMBERS={d / 'e.csv'}",
    )
    results = json.loads(out[out.index("{") :])["results"]
    assert Path(results["OUTPUT_ENDMEMBERS"]).exists()
    _qgis_process(
        "run",
        "deepunmix:fcls",
        "--",
        f"INPUT={scene['cube']}",
        f"ENDMEMBERS={d / 'e.csv'}",
        f"OUTPUT_ABUNDANCES={d / 'a.tif'}",
    )
    ab, *_ = read(d / "a.tif")
    assert ab.shape == (3, 12, 12)
    assert_sum_to_one(ab)
    assert np.isfinite(ab).all()
