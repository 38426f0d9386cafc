"""The example model shipped in models/ is in the toolbox and runs."""

from pathlib import Path

from plugin_helpers import assert_sum_to_one, read
from qgis.core import (
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingModelChildParameterSource,
)


def _model():
    provider = QgsApplication.processingRegistry().providerById("deepunmix")
    models = [a for a in provider.algorithms() if a.group() == "DeepUnmix examples"]
    assert [m.id() for m in models] == ["deepunmix:estimate_then_ddica"]
    return models[0]


def test_model_is_listed_and_valid(deepunmix):
    model = _model()
    assert model.group() == "DeepUnmix examples"
    ok, errors = model.validate()
    assert ok, errors
    assert " " not in model.id() and model.displayName() == "Estimate endmember count, then DDICA"
    assert model.create().displayName() == model.displayName()
    model.initAlgorithm()
    outputs = {d.name(): d.description() for d in model.destinationParameterDefinitions()}
    assert outputs == {
        "ddica:Abundances": "Abundance maps",
        "ddica:Endmembers": "Endmember spectra (CSV)",
        "ddica:Report": "DDICA report (HTML)",
    }
    assert {"max_endmembers", "n_endmembers"} <= {d.name() for d in model.parameterDefinitions()}
    assert {c.algorithmId() for c in model.childAlgorithms().values()} == {
        "deepunmix:estimate_n_endmembers",
        "deepunmix:ddica",
    }


import pytest  # noqa: E402


def test_the_estimate_reaches_the_unmixing_step_after_it(deepunmix, tmp_path):
    """The count the model estimates is the count it unmixes with (it once fell back to DDICA's default 3)."""
    import model_count_check

    assert model_count_check.check(tmp_path) == {0: model_count_check.SCENE_ENDMEMBERS, 2: 2}
    ddica = _model().childAlgorithm("ddica")
    assert [d.childId for d in ddica.dependencies()] == ["estimate"]  # the modeler draws the link


@pytest.mark.slow
def test_model_runs_estimate_then_ddica(deepunmix, tmp_path):
    from model_count_check import SCENE_ENDMEMBERS, scene
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()  # a plain copy: the shipped one's run() reloads its file
    model.loadVariant(_model().toVariant())
    ddica = model.childAlgorithm("ddica")
    for key, value in (("STEPS", 20), ("RESTARTS", 2), ("BATCH_SIZE", 64)):  # a short training for the test
        ddica.addParameterSources(key, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    model.setChildAlgorithm(ddica)
    params = {
        "hyperspectral_raster": scene(tmp_path),
        "seed": 0,
        "max_endmembers": 6,
        "n_endmembers": 0,
        "ddica:Abundances": str(tmp_path / "a.tif"),
        "ddica:Endmembers": str(tmp_path / "e.csv"),
        "ddica:Report": str(tmp_path / "r.html"),
    }
    feedback = QgsProcessingFeedback()
    results, ok = model.run(params, QgsProcessingContext(), feedback)
    assert ok
    assert "step 20/20" in feedback.textLog()  # the short training set above was used
    ab, *_ = read(tmp_path / "a.tif")
    assert ab.shape[0] == SCENE_ENDMEMBERS  # the estimated count, not DDICA's default
    assert_sum_to_one(ab)
    assert Path(tmp_path / "r.html").read_text().count("data:image/png") == 2


def test_the_shipped_model_is_what_build_models_makes_from_todays_algorithms(deepunmix):
    """The model pins every child parameter it does not wire: a changed default must be rebuilt into it.

    (It once ran DDICA with REFINE on and PURIFY 0.05, defaults of an older DDICA.)
    Rebuild with ``QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/build_models.py``.
    """
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "build_models.py"
    spec = importlib.util.spec_from_file_location("build_models", path)
    build_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_models)
    built, shipped = build_models.estimate_then_ddica(), _model()

    def sources(model):
        return {
            cid: {name: [s.toVariant() for s in srcs] for name, srcs in child.parameterSources().items()}
            for cid, child in model.childAlgorithms().items()
        }

    assert sources(shipped) == sources(built)

    def definitions(model):
        # the help text comes from the model's help content, set when it is loaded; QGIS names the model's
        # outputs itself, and 3.44 names a model built in code differently from one loaded from a file
        # ("abundance_maps", not "ddica:Abundances"): the child output each one comes from is in its metadata
        return [
            {k: v for k, v in d.toVariantMap().items() if k != "help" and not (k == "name" and d.isDestination())}
            for d in model.parameterDefinitions()
        ]

    assert definitions(shipped) == definitions(built)
