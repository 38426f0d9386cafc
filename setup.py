"""Packaging of the plugin folder as the Python package ``deepunmix`` (metadata: pyproject.toml).

The repository root is the package (``__init__.py``, ``algorithms/``, ``engine/``,
``gui/``, ...). Two facts are read here rather than written twice: the version
(``metadata.txt``, which QGIS reads) and the subpackages (every folder with an
``__init__.py`` under the runtime folders; tests, benchmarks and scripts stay out).
"""

import configparser
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RUNTIME = ["algorithms", "engine", "gui"]


def plugin_version() -> str:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "metadata.txt", encoding="utf-8")
    return cfg["general"]["version"]


def subpackages():
    found = find_packages(where=str(ROOT), include=[f"{name}*" for name in RUNTIME])
    return ["deepunmix", *(f"deepunmix.{name}" for name in sorted(found))]


class BuildPy(build_py):
    """Leaves this file out of the package (the root folder is the package)."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if not (package == "deepunmix" and m[1] == "setup")]


setup(
    cmdclass={"build_py": BuildPy},
    version=plugin_version(),
    package_dir={"deepunmix": "."},
    packages=subpackages(),
    package_data={"deepunmix": ["metadata.txt", "LICENSE", "icons/*.svg", "models/*.model3"]},
)
