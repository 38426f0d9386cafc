"""`import engine` stays light: neither qgis nor torch."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _modules_after(code: str) -> set:
    out = subprocess.run([sys.executable, "-c", code + "; import sys; print(' '.join(sys.modules))"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    return {m.split(".")[0] for m in out.split()}


def test_import_engine_loads_neither_qgis_nor_torch():
    mods = _modules_after("import engine; engine.VCA; engine.FCLS; engine.DDICA; engine.BUDDIP; engine.UnDIP")
    assert "qgis" not in mods
    assert "torch" not in mods
    assert "numpy" in mods  # sanity: the probe really ran
