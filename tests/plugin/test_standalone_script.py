"""The README's standalone PyQGIS script starts QGIS, registers the provider and runs algorithms."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_standalone_script_runs(scene, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "deepunmix").symlink_to(REPO, target_is_directory=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "profile"))
    env.pop("PYTHONPATH", None)  # nothing from the test run: the script must find everything itself
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "standalone_example.py"),
            str(scene["cube"]),
            str(tmp_path),
            str(plugins),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == str(tmp_path / "abundances.tif")
    assert (tmp_path / "abundances.tif").stat().st_size > 0 and (tmp_path / "endmembers.csv").is_file()


def test_readme_shows_the_script():
    readme = (REPO / "README.md").read_text()
    script = (REPO / "scripts" / "standalone_example.py").read_text()
    body = script[script.index("def main") : script.index("if __name__")].strip()
    assert body in readme
