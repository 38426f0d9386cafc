import numpy as np
import pytest

from deepunmix.engine.io.endmember_csv import read_endmembers_csv, write_endmembers_csv
from deepunmix.engine.io.scaling import choose_scale, detect_scale, resolve_scale, units_comment


def test_float_used_as_is():
    assert detect_scale("float32", np.array([0.1, 5000.0])) == (1.0, "float data: used as is")


def test_reflectance_x10000():
    rng = np.random.default_rng(0)
    v = rng.integers(0, 9000, 5000)
    s, why = detect_scale(np.uint16, v)
    assert s == 1e-4 and "reflectance x 10000" in why
    v = np.r_[v, [30000] * 3]  # a few saturated outliers stay above the 99.9th percentile
    assert detect_scale(np.int16, v)[0] == 1e-4


def test_wide_range_16bit_uses_type_max():
    v = np.linspace(0, 60000, 1001)  # whole numbers
    s, why = detect_scale(np.uint16, v)
    assert s == pytest.approx(1 / 65535) and "65535" in why


def test_wider_types_use_sample_max_and_8bit():
    s, why = detect_scale(np.int32, np.array([0, 10, 50000, 200000]))
    assert s == pytest.approx(1 / 200000) and "largest sampled value" in why
    assert detect_scale(np.uint8, np.array([0, 200]))[0] == pytest.approx(1 / 255)


def test_unit_integer_and_file_scaled_and_empty():
    assert detect_scale(np.uint8, np.array([0, 1, 1]))[0] == 1.0
    s, why = detect_scale(np.int16, np.array([0.1234, 0.5]))  # file scale/offset already applied
    assert s == 1.0 and "not whole numbers" in why
    assert detect_scale(np.uint16, np.array([np.nan]))[0] == 1.0


def test_resolve_scale():
    class Info:
        dtype = "uint16"

    v = np.array([100, 4000, 8000])
    assert resolve_scale(0, Info(), v)[0] == 1e-4
    assert resolve_scale(None, "uint16", v)[0] == 1e-4
    assert resolve_scale(0.5, Info(), v) == (0.5, "scale 0.5 set by the user")
    with pytest.raises(ValueError, match="positive"):
        resolve_scale(-1, Info(), v)


def test_units_comment_roundtrip_through_csv(tmp_path):
    s, why = detect_scale(np.uint16, np.array([100, 4000]))
    c = units_comment(s, why)
    assert c.startswith("units: reflectance") and choose_scale(None, c)[0] == 1e-4
    assert "input units" in units_comment(1.0, "float data: used as is")
    path = write_endmembers_csv(tmp_path / "e.csv", np.ones((3, 2)), ["a", "b"], bands=[2, 5, 9], comment=c)
    table = read_endmembers_csv(path)
    assert choose_scale(None, table.comment)[0] == 1e-4 and list(table.bands) == [2, 5, 9]
    assert choose_scale(None, "units: whatever")[0] == choose_scale(None, None)[0] == 1.0


@pytest.mark.parametrize("comment", ["scale=-1", "scale=0", "scale=1e300", "scale=nan", "scale=inf", "scale=x"])
def test_csv_scale_is_validated(comment):
    from deepunmix.engine.core.errors import InputError
    from deepunmix.engine.io.scaling import choose_scale

    with pytest.raises(InputError, match="scale"):
        choose_scale(0, f"units: input x 1; {comment}; detected")


def test_choose_scale_order():
    from deepunmix.engine.core.errors import ParameterError
    from deepunmix.engine.io.scaling import choose_scale

    assert choose_scale(0.5, "scale=0.0001")[0] == 0.5
    assert choose_scale(0, "units: reflectance; scale=0.0001; why")[0] == 1e-4
    assert choose_scale(0, None)[0] == 1.0
    with pytest.raises(ParameterError):
        choose_scale(1e300, None)
