"""Build the plugin ZIP for the official QGIS plugin repository / "Install from ZIP".

The ZIP holds one folder, ``deepunmix/``, with the plugin's runtime files only
(metadata, entry points, algorithms, engine, gui, icons, models, docs, licence, README):
no tests, benchmarks, scripts or build files.
"""

from __future__ import annotations

import argparse
import configparser
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "deepunmix"
INCLUDE_FILES = [
    "metadata.txt",
    "__init__.py",
    "plugin.py",
    "requirements.txt",  # the torch pin the PyTorch installer reads
    "LICENSE",
    "README.md",
]
INCLUDE_DIRS = ["algorithms", "engine", "gui", "icons", "models", "docs"]  # docs: the help pages cite them
SKIP_PARTS = {"__pycache__"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


def plugin_files():
    for name in INCLUDE_FILES:
        yield REPO / name
    for folder in INCLUDE_DIRS:
        root = REPO / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not SKIP_PARTS & set(path.parts) and path.suffix not in SKIP_SUFFIXES:
                yield path


def version() -> str:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "metadata.txt")
    return cfg["general"]["version"]


def build(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PLUGIN}-{version()}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in plugin_files():
            zf.write(path, f"{PLUGIN}/{path.relative_to(REPO).as_posix()}")
    return target


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="dist")
    ap.add_argument("--list", action="store_true", help="print the files the ZIP would hold (scripts/lint.sh)")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(str(p.relative_to(REPO)) for p in plugin_files()))
    else:
        print(build(Path(args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
