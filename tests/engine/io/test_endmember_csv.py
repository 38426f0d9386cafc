import shutil

import numpy as np
import pytest

from deepunmix.engine.io.endmember_csv import read_endmembers_csv, sidecar_paths, write_endmembers_csv


def test_round_trip(tmp_path):
    E = np.random.default_rng(0).random((5, 3))
    wl = np.array([450.5, 500.0, np.nan, 600.0, 650.25])
    f = write_endmembers_csv(
        tmp_path / "e.csv",
        E,
        ["Soil", "Tree", "Water"],
        wavelengths=wl,
        bands=[1, 2, 4, 5, 7],
        comment="units: reflectance",
    )
    t = read_endmembers_csv(f)
    np.testing.assert_array_equal(t.matrix, E)  # repr() keeps full precision
    assert t.names == ["Soil", "Tree", "Water"]
    np.testing.assert_array_equal(t.bands, [1, 2, 4, 5, 7])
    np.testing.assert_array_equal(np.isnan(t.wavelengths), [False, False, True, False, False])
    assert t.wavelengths[4] == 650.25
    assert t.comment == "units: reflectance"
    lines = f.read_text().splitlines()
    assert lines[0] == "band,wavelength,Soil,Tree,Water" and len(lines) == 6
    csvt, aux = sidecar_paths(f)
    assert csvt.read_text().strip() == '"Integer","Real","Real","Real","Real"'
    assert "units: reflectance" in aux.read_text()


def test_legacy_comment_line_still_read(tmp_path):
    f = tmp_path / "old.csv"
    f.write_text("# units: input units; scale=1.0; float data\nband,wavelength,a\n1,400,0.5\n")
    t = read_endmembers_csv(f)
    assert t.comment == "units: input units; scale=1.0; float data" and t.matrix.shape == (1, 1)


def test_rewrite_without_comment_drops_stale_units(tmp_path):
    f = write_endmembers_csv(tmp_path / "e.csv", np.ones((2, 1)), ["a"], comment="units: x; scale=2.0")
    assert read_endmembers_csv(f).comment == "units: x; scale=2.0"
    write_endmembers_csv(f, np.ones((2, 1)), ["a"])
    assert read_endmembers_csv(f).comment is None and not sidecar_paths(f)[1].exists()


def test_opens_as_numbers_in_ogr_and_pandas(tmp_path):
    """QGIS loads CSVs through OGR: with the .csvt every column is numeric, one feature per band."""
    ogr = pytest.importorskip("osgeo.ogr")
    E = np.arange(12, dtype=float).reshape(4, 3) / 10
    f = write_endmembers_csv(
        tmp_path / "e.csv",
        E,
        ["Soil", "Tree, dry", "Water"],
        wavelengths=[400.0, 410.0, 420.0, 430.0],
        comment="units: reflectance; scale=0.0001",
    )
    ds = ogr.Open(str(f))
    layer = ds.GetLayer(0)
    defn = layer.GetLayerDefn()
    fields = [(defn.GetFieldDefn(i).GetName(), defn.GetFieldDefn(i).GetTypeName()) for i in range(defn.GetFieldCount())]
    assert fields == [
        ("band", "Integer"),
        ("wavelength", "Real"),
        ("Soil", "Real"),
        ("Tree, dry", "Real"),
        ("Water", "Real"),
    ]
    assert layer.GetFeatureCount() == 4
    feats = [layer.GetNextFeature() for _ in range(4)]
    assert [ft.GetFieldAsInteger("band") for ft in feats] == [1, 2, 3, 4]
    assert feats[3].GetFieldAsDouble("Water") == pytest.approx(1.1)
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(f)
    assert list(df.columns) == ["band", "wavelength", "Soil", "Tree, dry", "Water"]
    assert df.shape == (4, 5) and all(df.dtypes[c].kind == "f" for c in ["wavelength", "Soil", "Water"])


def test_no_wavelengths_and_whitespace(tmp_path):
    f = tmp_path / "w.csv"
    f.write_text(" band , wavelength , a , b \n 1 , , 0.1 , 0.2 \n2,,0.3,0.4\n\n")
    t = read_endmembers_csv(f)
    assert t.wavelengths is None and t.names == ["a", "b"] and t.comment is None
    np.testing.assert_allclose(t.matrix, [[0.1, 0.2], [0.3, 0.4]])


@pytest.mark.parametrize(
    "content, match",
    [
        ("band,wavelength,a\n", "no data rows"),
        ("", "no header"),
        ("band,wavelength\n1,400\n", "no endmember column"),
        ("wavelength,a,b\n400,0.1,0.2\n", "header must start"),
        ("band,wavelength,a,b\n1,400,0.1\n", "line 2: 3 columns"),
        ("band,wavelength,a,b\n1,400,0.1,abc\n", "line 2, column 'b'"),
        ("band,wavelength,a\n1,400,nan\n", "not a finite"),
        ("band,wavelength,a\n1.5,400,0.3\n", "positive integer"),
        ("# c\nband,wavelength,a\n1,x,0.3\n", "line 3, column 'wavelength'"),
        (bytes(range(256)) * 8, "not a text CSV"),
    ],
)
def test_malformed(tmp_path, content, match):
    from deepunmix.engine.core.errors import InputError

    f = tmp_path / "bad.csv"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError, match=match):
        read_endmembers_csv(f)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_endmembers_csv(tmp_path / "nope.csv")


def test_write_validates(tmp_path):
    with pytest.raises(ValueError):
        write_endmembers_csv(tmp_path / "x.csv", np.zeros((3, 2)), ["a"])
    assert not (tmp_path / "x.csv").exists()


def test_float32_values_are_written_with_float32_digits(tmp_path):
    """Spectra held in float32 read as 0.3747 in QGIS's table and spreadsheets, not 0.37470000982284546;
    float64 values keep every digit."""
    E = np.array([[0.3747, 1e-6], [123456.7, 0.25]], dtype=np.float32)
    f = write_endmembers_csv(tmp_path / "e.csv", E, ["a", "b"], wavelengths=[400.0, 472.41379310344826])
    lines = f.read_text().splitlines()
    assert lines[1:] == ["1,400.0,0.3747,1e-06", "2,472.41379310344826,123456.7,0.25"]
    np.testing.assert_array_equal(read_endmembers_csv(f).matrix.astype(np.float32), E)


def test_formula_prefixes_neutralised_and_newlines_replaced(tmp_path):
    names = ["=cmd|' /C calc'!A0", "+1", "-x", "@SUM(A1)", "\tTab", "two\nlines", "plain"]
    E = np.arange(3 * len(names), dtype=float).reshape(3, len(names))
    path = write_endmembers_csv(tmp_path / "e.csv", E, names)
    header = path.read_text().splitlines()[0]
    assert len(path.read_text().splitlines()) == 4  # a newline in a name does not add a row
    for cell in header.split(",")[2:]:
        assert not cell.lstrip('"').startswith(("=", "+", "-", "@", "\t", "\r")), cell
    back = read_endmembers_csv(path)
    # leading tab/CR are stripped as whitespace; the rest gets an apostrophe
    assert back.names == ["'=cmd|' /C calc'!A0", "'+1", "'-x", "'@SUM(A1)", "Tab", "two lines", "plain"]
    np.testing.assert_array_equal(back.matrix, E)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) absent")
def test_libreoffice_opens_it_as_a_numeric_table(tmp_path):
    """LibreOffice Calc's default CSV import (headless conversion to a flat ODS): a header row, numbers below."""
    import os
    import subprocess
    import xml.etree.ElementTree as ET

    E = np.array([[0.1, 0.25], [0.125, 0.5], [0.375, 0.75]])
    f = write_endmembers_csv(tmp_path / "e.csv", E, ["Soil", "Tree, dry"], wavelengths=[400.5, 410.0, 420.0])
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "fods",
            "--outdir",
            str(tmp_path),
            str(f),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    ns = {
        "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    }
    rows = ET.parse(tmp_path / "e.fods").getroot().findall(".//table:table-row", ns)
    cells = [
        [
            (c.get(f"{{{ns['office']}}}value-type"), c.get(f"{{{ns['office']}}}value"), "".join(c.itertext()).strip())
            for c in row.findall("table:table-cell", ns)
        ][:4]
        for row in rows[:4]
    ]
    assert [text for _, _, text in cells[0]] == ["band", "wavelength", "Soil", "Tree, dry"]
    for k, row in enumerate(cells[1:]):
        assert all(kind == "float" for kind, _, _ in row), row
        assert [float(v) for _, v, _ in row] == pytest.approx([k + 1, [400.5, 410.0, 420.0][k], *E[k]])
