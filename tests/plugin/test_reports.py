"""Reports and logs: readable parameters, honest run time, poor-fit warning, layer names."""

import re

from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject, QgsRasterLayer


class _Log(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.warnings = []
        self.infos = []

    def pushInfo(self, text):
        self.infos.append(text)
        super().pushInfo(text)

    def pushWarning(self, text):
        self.warnings.append(text)
        super().pushWarning(text)


def _run(alg_id, params, context=None, feedback=None):
    import processing

    return processing.run(
        alg_id, params, context=context or QgsProcessingContext(), feedback=feedback or QgsProcessingFeedback()
    )


def test_report_shows_layer_name_enum_label_and_run_time(deepunmix, scene, tmp_path):
    layer = QgsRasterLayer(scene["cube"], "my scene")
    project = QgsProject()
    project.addMapLayer(layer)
    context = QgsProcessingContext()
    context.setProject(project)
    log = _Log()
    _run(
        "deepunmix:fcls",
        {
            "INPUT": layer.id(),
            "ENDMEMBERS": scene["endmembers"],
            "ABUNDANCE_CONVENTION": 0,
            "OUTPUT_ABUNDANCES": str(tmp_path / "a.tif"),
            "OUTPUT_REPORT": str(tmp_path / "r.html"),
        },
        context,
        log,
    )
    text = (tmp_path / "r.html").read_text()
    assert "my scene (scene.tif)" in text and layer.id() not in text
    assert "Fractions (linear mixing, FCLS)" in text
    assert "truth_endmembers.csv" in text
    seconds = float(re.search(r"Run time: ([0-9.]+) s", text).group(1))
    finished = float(next(re.search(r"Finished in ([0-9.]+) s", t).group(1) for t in log.infos if "Finished" in t))
    # the report's time includes drawing its figures (before: 0.3 s reported for a 2.7 s run)
    assert abs(seconds - finished) <= 0.3 + 0.1 * finished, (seconds, finished)
    assert not log.warnings  # the scene's own endmembers fit it


def test_poor_fit_is_warned(deepunmix, tmp_path):
    from synthetic import make_mixed_scene, procedural_library

    from deepunmix.engine.io.endmember_csv import write_endmembers_csv
    from deepunmix.engine.io.raster import write_cube

    lib, wl, names = procedural_library(n_bands=20, n_spectra=6, random_state=0)
    s = make_mixed_scene(size=30, n_endmembers=4, library=lib, wavelengths=wl, names=names, snr_db=50, random_state=0)
    write_cube(str(tmp_path / "s.tif"), s.cube, wavelengths=wl)
    write_endmembers_csv(str(tmp_path / "e.csv"), s.endmembers[:, :2], list(s.names[:2]), wavelengths=wl)
    log = _Log()
    _run(
        "deepunmix:fcls",
        {
            "INPUT": str(tmp_path / "s.tif"),
            "ENDMEMBERS": str(tmp_path / "e.csv"),
            "OUTPUT_ABUNDANCES": str(tmp_path / "a.tif"),
            "OUTPUT_REPORT": str(tmp_path / "r.html"),
        },
        feedback=log,
    )
    assert any("times the estimated noise" in w for w in log.warnings), log.warnings
    assert "Warning: poor fit" in (tmp_path / "r.html").read_text()


def test_abundance_layer_is_named_after_the_input(deepunmix, scene, tmp_path):
    from qgis.core import QgsProcessingOutputLayerDefinition

    project = QgsProject()
    context = QgsProcessingContext()
    context.setProject(project)
    out = str(tmp_path / "a.tif")
    _run(
        "deepunmix:fcls",
        {
            "INPUT": scene["cube"],
            "ENDMEMBERS": scene["endmembers"],
            "OUTPUT_ABUNDANCES": QgsProcessingOutputLayerDefinition(out, project),
        },
        context,
    )
    assert context.willLoadLayerOnCompletion(out)
    assert context.layerToLoadOnCompletionDetails(out).name == "FCLS abundances (scene)"


def test_degenerate_ddica_solution_is_warned_in_log_and_report(deepunmix, tmp_path):
    import numpy as np

    from deepunmix.engine.io.raster import write_cube

    # one material at varying brightness, asked for three: the endmembers can only be that material thrice
    rng = np.random.default_rng(0)
    spectrum = 0.2 + 0.6 * np.exp(-((np.linspace(0, 1, 20) - 0.5) ** 2) / 0.05)
    cube = np.outer(spectrum, rng.uniform(0.8, 1.2, 144)) + rng.normal(0, 0.002, (20, 144))
    write_cube(str(tmp_path / "one.tif"), cube.reshape(20, 12, 12).astype(np.float32))
    log = _Log()
    _run(
        "deepunmix:ddica",
        {
            "INPUT": str(tmp_path / "one.tif"),
            "N_ENDMEMBERS": 3,
            "SEED": 0,
            "STEPS": 20,
            "RESTARTS": 4,
            "BATCH_SIZE": 64,
            "OUTPUT_ABUNDANCES": str(tmp_path / "a.tif"),
            "OUTPUT_ENDMEMBERS": str(tmp_path / "e.csv"),
            "OUTPUT_REPORT": str(tmp_path / "r.html"),
        },
        feedback=log,
    )
    assert any("Degenerate solution?" in w and "degrees apart" in w for w in log.warnings), log.warnings
    assert "Warning: degenerate solution?" in (tmp_path / "r.html").read_text()
