"""extract_endmembers, fcls, evaluate and import_mat through processing.run."""

import csv

import numpy as np
import pytest
from plugin_helpers import assert_sum_to_one, csv_rows, read


@pytest.mark.parametrize("method", [0, 1, 2])
def test_extract_endmembers_writes_csv(run_alg, scene, method):
    out = scene["dir"] / f"e{method}.csv"
    res = run_alg(
        "deepunmix:extract_endmembers",
        {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "METHOD": method, "SEED": 1, "OUTPUT_ENDMEMBERS": str(out)},
    )
    assert res["OUTPUT_ENDMEMBERS"] == str(out)
    rows = csv_rows(out)
    assert rows[0][:2] == ["band", "wavelength"] and len(rows[0]) == 5
    assert len(rows) == 1 + 20
    assert float(rows[1][1]) == pytest.approx(scene["scene"].wavelengths[0], rel=1e-4)


def test_fcls_recovers_truth_and_keeps_georeferencing(run_alg, scene):
    out = scene["dir"] / "ab.tif"
    err = scene["dir"] / "err.tif"
    res = run_alg(
        "deepunmix:fcls",
        {
            "INPUT": scene["cube"],
            "ENDMEMBERS": scene["endmembers"],
            "OUTPUT_ABUNDANCES": str(out),
            "OUTPUT_ERROR": str(err),
        },
    )
    ab, transform, crs, nodata, names = read(res["OUTPUT_ABUNDANCES"])
    assert ab.shape == (3, 12, 12)
    assert transform == scene["transform"] and crs == scene["crs"]
    assert names == list(scene["scene"].names)
    assert_sum_to_one(ab)
    np.testing.assert_allclose(ab, scene["scene"].abundances, atol=1e-4)
    e, *_ = read(res["OUTPUT_ERROR"])
    assert e.shape == (1, 12, 12) and np.nanmax(e) < 1e-4


def test_chain_extract_fcls_evaluate(run_alg, scene):
    d = scene["dir"]
    run_alg(
        "deepunmix:extract_endmembers",
        {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "METHOD": 0, "OUTPUT_ENDMEMBERS": str(d / "e.csv")},
    )
    run_alg(
        "deepunmix:fcls",
        {"INPUT": scene["cube"], "ENDMEMBERS": str(d / "e.csv"), "OUTPUT_ABUNDANCES": str(d / "a.tif")},
    )
    res = run_alg(
        "deepunmix:evaluate",
        {
            "ABUNDANCES": str(d / "a.tif"),
            "REFERENCE_ABUNDANCES": scene["truth"],
            "ENDMEMBERS": str(d / "e.csv"),
            "REFERENCE_ENDMEMBERS": scene["endmembers"],
            "OUTPUT_TABLE": str(d / "scores.csv"),
        },
    )
    # noise-free scene with pure pixels: VCA finds the endmembers exactly
    assert res["ARMSE"] < 1e-3 and res["MEAN_RMSE"] < 1e-3 and res["ASAD"] < 0.1
    rows = list(csv.reader(open(d / "scores.csv")))
    assert rows[0] == ["reference", "estimate", "abundance_rmse", "sad_degrees"] and len(rows) == 1 + 3


def test_evaluate_scores_table_is_per_material_typed_and_loaded(deepunmix, scene):
    """One row per material (the averages are the number outputs), numeric columns in QGIS, loaded on completion."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsVectorLayer

    table = str(scene["dir"] / "scores.csv")
    context = QgsProcessingContext()
    res = processing.run(
        "deepunmix:evaluate",
        {"ABUNDANCES": scene["truth"], "REFERENCE_ABUNDANCES": scene["truth"], "OUTPUT_TABLE": table},
        context=context,
        feedback=QgsProcessingFeedback(),
    )
    layer = QgsVectorLayer(table, "scores", "ogr")
    assert layer.isValid() and layer.featureCount() == len(scene["scene"].names)
    fields = layer.fields()
    assert [f.isNumeric() for f in fields] == [False, False, True, True]
    assert {f["reference"] for f in layer.getFeatures()} == set(scene["scene"].names)  # no 'mean' / 'aRMSE' rows
    assert res["ARMSE"] == pytest.approx(0.0, abs=1e-7)
    assert context.willLoadLayerOnCompletion(table)
    assert context.layerToLoadOnCompletionDetails(table).name == "Scores (truth)"


def test_evaluate_without_endmembers_gives_nan_sad(run_alg, scene):
    res = run_alg(
        "deepunmix:evaluate",
        {
            "ABUNDANCES": scene["truth"],
            "REFERENCE_ABUNDANCES": scene["truth"],
            "OUTPUT_TABLE": str(scene["dir"] / "s.csv"),
        },
    )
    assert res["ARMSE"] == pytest.approx(0.0, abs=1e-7) and np.isnan(res["ASAD"])


def test_import_mat_zhu_format(run_alg, tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    H, W, L, p = 5, 4, 6, 2
    A = rng.dirichlet(np.ones(p), H * W).T
    M = rng.uniform(0.1, 0.9, (L, p))
    savemat(tmp_path / "d.mat", {"V": M @ A, "nRow": H, "nCol": W})
    savemat(tmp_path / "gt.mat", {"A": A, "M": M})
    res = run_alg(
        "deepunmix:import_mat",
        {
            "INPUT": str(tmp_path / "d.mat"),
            "TRUTH": str(tmp_path / "gt.mat"),
            "OUTPUT_CUBE": str(tmp_path / "c.tif"),
            "OUTPUT_REFERENCE_ABUNDANCES": str(tmp_path / "a.tif"),
            "OUTPUT_REFERENCE_ENDMEMBERS": str(tmp_path / "m.csv"),
        },
    )
    cube, *_ = read(res["OUTPUT_CUBE"])
    assert cube.shape == (L, H, W)
    # column-major pixel order: pixel n is (row n % H, col n // H)
    np.testing.assert_allclose(cube[:, 1, 0], (M @ A)[:, 1], rtol=1e-5)
    np.testing.assert_allclose(cube[:, 0, 1], (M @ A)[:, H], rtol=1e-5)
    ab, *_ = read(res["OUTPUT_REFERENCE_ABUNDANCES"])
    assert ab.shape == (p, H, W)
    assert_sum_to_one(ab)


def test_bad_bands_and_integer_scaling_round_trip(run_alg, tmp_path):
    """uint16 reflectance x 10000 with dropped bands: the CSV keeps original bands and says its units; FCLS
    selects the same bands and scale from it and recovers the truth."""
    from synthetic import make_mixed_scene, procedural_library

    from deepunmix.engine.io.endmember_csv import read_endmembers_csv
    from deepunmix.engine.io.raster import write_cube

    lib, wl, names = procedural_library(n_bands=24, n_spectra=6, random_state=2)
    s = make_mixed_scene(size=10, n_endmembers=3, library=lib, wavelengths=wl, names=names, random_state=3)
    write_cube(str(tmp_path / "dn.tif"), np.round(s.cube * 10000), wavelengths=wl, dtype="uint16")
    res = run_alg(
        "deepunmix:extract_endmembers",
        {
            "INPUT": str(tmp_path / "dn.tif"),
            "N_ENDMEMBERS": 3,
            "METHOD": 0,
            "BAD_BANDS": "1-2,20-24",
            "OUTPUT_ENDMEMBERS": str(tmp_path / "e.csv"),
        },
    )
    table = read_endmembers_csv(res["OUTPUT_ENDMEMBERS"])
    assert list(table.bands) == list(range(3, 20))
    np.testing.assert_allclose(table.wavelengths, wl[2:19], rtol=1e-5)
    assert "scale=0.0001" in table.comment
    assert table.matrix.max() <= 1.0  # reflectance, not digital numbers
    res = run_alg(
        "deepunmix:fcls",
        {
            "INPUT": str(tmp_path / "dn.tif"),
            "ENDMEMBERS": str(tmp_path / "e.csv"),
            "OUTPUT_ABUNDANCES": str(tmp_path / "a.tif"),
        },
    )
    ab, *_ = read(res["OUTPUT_ABUNDANCES"])
    from deepunmix.engine.reporting.metrics import score_unmixing

    assert score_unmixing(None, s.abundances, None, ab)["armse"] < 1e-3


def test_fcls_peak_normalised_shares(run_alg, tmp_path):
    """Pixels built as shares of peak-normalised endmembers times a brightness: the option recovers the shares."""
    from deepunmix.engine.abundances.convention import peak_normalise
    from deepunmix.engine.io.endmember_csv import write_endmembers_csv
    from deepunmix.engine.io.raster import write_cube

    rng = np.random.default_rng(0)
    E = rng.uniform(0.2, 1.0, (15, 3)) * np.array([0.5, 0.6, 0.07])  # a dark, water-like third material
    shares = rng.dirichlet(np.ones(3), 64).T
    cube = (peak_normalise(E) @ (shares * rng.uniform(0.3, 1.0, 64))).reshape(15, 8, 8)
    write_cube(str(tmp_path / "c.tif"), cube)
    write_endmembers_csv(tmp_path / "e.csv", E, ["a", "b", "c"])
    base = {"INPUT": str(tmp_path / "c.tif"), "ENDMEMBERS": str(tmp_path / "e.csv")}
    res = run_alg(
        "deepunmix:fcls",
        {
            **base,
            "ABUNDANCE_CONVENTION": 1,
            "OUTPUT_ABUNDANCES": str(tmp_path / "p.tif"),
            "OUTPUT_ERROR": str(tmp_path / "pe.tif"),
        },
    )
    ab = read(res["OUTPUT_ABUNDANCES"])[0]
    np.testing.assert_allclose(ab.reshape(3, -1), shares, atol=1e-4)
    assert np.nanmax(read(res["OUTPUT_ERROR"])[0]) < 1e-4
    fractions = read(
        run_alg("deepunmix:fcls", {**base, "OUTPUT_ABUNDANCES": str(tmp_path / "f.tif")})["OUTPUT_ABUNDANCES"]
    )[0]
    assert np.abs(fractions.reshape(3, -1) - shares).max() > 0.2  # the dark material's fraction differs


def test_endmember_csv_opens_as_a_numeric_table_in_qgis(run_alg, scene):
    """The routes QGIS uses for a CSV: OGR (processing outputs, drag and drop, the Vector tab) and the
    delimited-text provider (Data Source Manager): one numeric column per endmember, one row per band."""
    from qgis.core import QgsVectorLayer

    out = scene["dir"] / "e.csv"
    run_alg(
        "deepunmix:extract_endmembers",
        {"INPUT": scene["cube"], "N_ENDMEMBERS": 3, "METHOD": 1, "OUTPUT_ENDMEMBERS": str(out)},
    )
    uri = f"file://{out}?type=csv&detectTypes=yes&geomType=none"
    for layer in (QgsVectorLayer(str(out), "e", "ogr"), QgsVectorLayer(uri, "e", "delimitedtext")):
        assert layer.isValid()
        fields = layer.fields()
        assert [f.name() for f in fields][:2] == ["band", "wavelength"] and fields.count() == 5
        assert all(f.isNumeric() for f in fields), [(f.name(), f.typeName()) for f in fields]
        assert layer.featureCount() == 20
        first = next(layer.getFeatures())
        assert first["band"] == 1 and first["wavelength"] == pytest.approx(scene["scene"].wavelengths[0], rel=1e-4)


def test_batch_row_with_empty_optional_output_loads_nothing_for_it(deepunmix, scene):
    """The batch panel passes an empty optional output as a layer definition with a project to load into
    (BatchPanel.parametersForRow); QGIS then listed '' to load and printed 'not correctly generated. •'."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingOutputLayerDefinition, QgsProject

    project = QgsProject.instance()
    context = QgsProcessingContext()
    context.setProject(project)
    out = str(scene["dir"] / "ab.tif")
    processing.run(
        "deepunmix:fcls",
        {
            "INPUT": scene["cube"],
            "ENDMEMBERS": scene["endmembers"],
            "OUTPUT_ABUNDANCES": QgsProcessingOutputLayerDefinition(out, project),
            "OUTPUT_ERROR": QgsProcessingOutputLayerDefinition("", project),
        },
        context=context,
        feedback=QgsProcessingFeedback(),
    )
    assert list(context.layersToLoadOnCompletion()) == [out]
