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


@pytest.mark.slow
@pytest.mark.parametrize("override, expected", [(0, 3), (2, 2)])
def test_model_runs_estimate_then_ddica(deepunmix, tmp_path, override, expected):
    from deepunmix.engine.io.raster import write_cube
    from deepunmix.engine.synthetic import make_mixed_scene, procedural_library

    lib, wl, names = procedural_library(n_bands=30, n_spectra=6, random_state=0)
    s = make_mixed_scene(size=16, n_endmembers=3, library=lib, wavelengths=wl, names=names, snr_db=45, random_state=0)
    write_cube(str(tmp_path / "s.tif"), s.cube, wavelengths=wl)
    model = _model().create()
    ddica = model.childAlgorithm("ddica")
    for key, value in (("STEPS", 20), ("RESTARTS", 2), ("BATCH_SIZE", 64)):  # a short training for the test
        ddica.addParameterSources(key, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    model.setChildAlgorithm(ddica)
    params = {
        "hyperspectral_raster": str(tmp_path / "s.tif"),
        "seed": 0,
        "max_endmembers": 6,
        "n_endmembers": override,
        "ddica:Abundances": str(tmp_path / "a.tif"),
        "ddica:Endmembers": str(tmp_path / "e.csv"),
        "ddica:Report": str(tmp_path / "r.html"),
    }
    results, ok = model.run(params, QgsProcessingContext(), QgsProcessingFeedback())
    assert ok
    ab, *_ = read(tmp_path / "a.tif")
    assert ab.shape[0] == expected  # the estimated count (scene made with 3), or the override
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
