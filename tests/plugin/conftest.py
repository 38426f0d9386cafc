"""Plugin tests: load this checkout as the QGIS plugin package ``deepunmix``."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / ".build" / "plugins"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # plugin_helpers


_KEEP = []


def _expose_plugin() -> None:
    PLUGINS.mkdir(parents=True, exist_ok=True)
    link = PLUGINS / "deepunmix"
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    if str(PLUGINS) not in sys.path:
        sys.path.insert(0, str(PLUGINS))


@pytest.fixture(scope="session")
def deepunmix(qgis_app, qgis_processing):
    """The plugin package, with its provider registered in the processing registry."""
    from qgis.core import QgsApplication

    _expose_plugin()
    package = importlib.import_module("deepunmix")
    registry = QgsApplication.processingRegistry()
    if registry.providerById("deepunmix") is None:
        from deepunmix.algorithms.provider import DeepUnmixProvider

        provider = DeepUnmixProvider()
        registry.addProvider(provider)
        _KEEP.append(provider)  # the registry does not keep the Python object alive
    return package


@pytest.fixture
def scene(tmp_path):
    """A tiny georeferenced synthetic scene: cube GeoTIFF, truth abundances and endmember CSV."""
    from synthetic import make_mixed_scene, procedural_library

    from deepunmix.engine.io.endmember_csv import write_endmembers_csv
    from deepunmix.engine.io.raster import write_abundances, write_cube

    lib, wl, names = procedural_library(n_bands=20, n_spectra=6, random_state=0)
    s = make_mixed_scene(size=12, n_endmembers=3, library=lib, wavelengths=wl, names=names, snr_db=None, random_state=0)
    from rasterio.crs import CRS
    from rasterio.transform import from_origin

    transform, crs = from_origin(500000.0, 4200000.0, 30.0, 30.0), CRS.from_epsg(32633)
    cube = tmp_path / "scene.tif"
    write_cube(str(cube), s.cube, transform=transform, crs=crs, wavelengths=s.wavelengths)
    truth = tmp_path / "truth.tif"
    write_abundances(str(truth), s.abundances, list(s.names), like={"transform": transform, "crs": crs})
    ends = tmp_path / "truth_endmembers.csv"
    write_endmembers_csv(str(ends), s.endmembers, list(s.names), wavelengths=s.wavelengths)
    return {
        "dir": tmp_path,
        "cube": str(cube),
        "truth": str(truth),
        "endmembers": str(ends),
        "scene": s,
        "transform": transform,
        "crs": crs,
    }


@pytest.fixture
def run_alg(deepunmix):
    """processing.run with a fresh context and feedback; returns the results dict."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    def _run(alg_id, params, feedback=None):
        context = QgsProcessingContext()
        return processing.run(alg_id, params, context=context, feedback=feedback or QgsProcessingFeedback())

    return _run


os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
