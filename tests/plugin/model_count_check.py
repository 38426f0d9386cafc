"""The shipped model's count reaches its unmixing step, on any QGIS (no torch needed).

Its DDICA step is swapped for *Extract endmembers* (same N_ENDMEMBERS source, same dependency), so this
runs where torch is missing, e.g. a newer QGIS's Python. ``test_shipped_model`` calls ``check``; on another
QGIS: ``python3 tests/plugin/model_count_check.py OUT_DIR`` (QGIS's python, the checkout in QGIS_PLUGINPATH
or .build/plugins), which prints the counts and exits 1 when one is wrong.
"""

import os
import sys
from pathlib import Path

SCENE_ENDMEMBERS = 4  # not DDICA's default 3: a lost estimate shows


def shipped_model():
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    (model,) = [a for a in provider.algorithms() if a.group() == "DeepUnmix examples"]
    return model


def scene(folder: Path) -> str:
    from synthetic import make_mixed_scene, procedural_library

    from deepunmix.engine.io.raster import write_cube

    lib, wl, names = procedural_library(n_bands=30, n_spectra=6, random_state=0)
    s = make_mixed_scene(
        size=16, n_endmembers=SCENE_ENDMEMBERS, library=lib, wavelengths=wl, names=names, snr_db=45, random_state=0
    )
    path = folder / "s.tif"
    write_cube(str(path), s.cube, wavelengths=wl)
    return str(path)


def check(folder: Path) -> dict:
    """{override: endmember count the second step received} for overrides 0 (use the estimate) and 2."""
    from qgis.core import (
        QgsProcessingContext,
        QgsProcessingFeedback,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
    )

    cube = scene(folder)
    model = QgsProcessingModelAlgorithm()  # a plain copy: the shipped one's run() reloads its file
    model.loadVariant(shipped_model().toVariant())
    ddica = model.childAlgorithm("ddica")
    step = QgsProcessingModelChildAlgorithm("deepunmix:extract_endmembers")
    step.setChildId("ddica")
    step.setDependencies(ddica.dependencies())
    for name in ("INPUT", "N_ENDMEMBERS", "SEED"):
        step.addParameterSources(name, ddica.parameterSources()[name])
    model.setChildAlgorithm(step)
    got = {}
    for override in (0, 2):
        params = {"hyperspectral_raster": cube, "seed": 0, "max_endmembers": 6, "n_endmembers": override}
        feedback = QgsProcessingFeedback()
        results, ok = model.run(params, QgsProcessingContext(), feedback)
        assert ok, feedback.textLog()
        out = results["CHILD_RESULTS"]["ddica"]["OUTPUT_ENDMEMBERS"]
        header = next(line for line in Path(out).read_text().splitlines() if not line.startswith("#"))
        got[override] = len(header.split(",")) - 2  # band, wavelength, one column per endmember
    return got


def main(out_dir: str) -> int:
    from qgis.core import Qgis, QgsApplication

    plugins = os.environ.get("QGIS_PLUGINPATH") or str(Path(__file__).resolve().parents[2] / ".build" / "plugins")
    sys.path[:0] = [plugins, "/usr/share/qgis/python/plugins"]
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from deepunmix.algorithms.provider import DeepUnmixProvider

    provider = DeepUnmixProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    got = check(Path(out_dir))
    want = {0: SCENE_ENDMEMBERS, 2: 2}
    print(f"QGIS {Qgis.QGIS_VERSION}: counts {got}, expected {want}")
    return 0 if got == want else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
