import numpy as np
import pytest

from engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv


def test_round_trip(tmp_path):
    E = np.random.default_rng(0).random((5, 3))
    wl = np.array([450.5, 500.0, np.nan, 600.0, 650.25])
    f = write_endmembers_csv(tmp_path / "e.csv", E, ["Soil", "Tree", "Water"], wavelengths=wl,
                             bands=[1, 2, 4, 5, 7], comment="units: reflectance")
    t = read_endmembers_csv(f)
    np.testing.assert_array_equal(t.matrix, E)  # repr() keeps full precision
    assert t.names == ["Soil", "Tree", "Water"]
    np.testing.assert_array_equal(t.bands, [1, 2, 4, 5, 7])
    np.testing.assert_array_equal(np.isnan(t.wavelengths), [False, False, True, False, False])
    assert t.wavelengths[4] == 650.25
    assert t.comment == "units: reflectance"
    lines = f.read_text().splitlines()
    assert lines[0] == "# units: reflectance" and lines[1] == "band,wavelength,Soil,Tree,Water"


def test_no_wavelengths_and_whitespace(tmp_path):
    f = tmp_path / "w.csv"
    f.write_text(" band , wavelength , a , b \n 1 , , 0.1 , 0.2 \n2,,0.3,0.4\n\n")
    t = read_endmembers_csv(f)
    assert t.wavelengths is None and t.names == ["a", "b"] and t.comment is None
    np.testing.assert_allclose(t.matrix, [[0.1, 0.2], [0.3, 0.4]])


@pytest.mark.parametrize("content, match", [
    ("band,wavelength,a\n", "no data rows"),
    ("", "no header"),
    ("band,wavelength\n1,400\n", "no endmember column"),
    ("wavelength,a,b\n400,0.1,0.2\n", "header must start"),
    ("band,wavelength,a,b\n1,400,0.1\n", "line 2: 3 columns"),
    ("band,wavelength,a,b\n1,400,0.1,abc\n", "line 2, column 'b'"),
    ("band,wavelength,a\n1,400,nan\n", "not a finite"),
    ("band,wavelength,a\n1.5,400,0.3\n", "positive integer"),
    ("# c\nband,wavelength,a\n1,x,0.3\n", "line 3, column 'wavelength'"),
])
def test_malformed(tmp_path, content, match):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(ValueError, match=match):
        read_endmembers_csv(f)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_endmembers_csv(tmp_path / "nope.csv")


def test_write_validates(tmp_path):
    with pytest.raises(ValueError):
        write_endmembers_csv(tmp_path / "x.csv", np.zeros((3, 2)), ["a"])
    assert not (tmp_path / "x.csv").exists()
