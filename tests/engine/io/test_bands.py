import numpy as np
import pytest

from deepunmix.engine.io.bands import describe_band_selection, format_band_ranges, parse_band_ranges, select_bands


def test_parse_issue_example():
    drop = parse_band_ranges("1-3,108-112,154-166,220-224", 224)
    assert drop[:3] == [1, 2, 3]
    assert len(drop) == 3 + 5 + 13 + 5
    assert drop == sorted(set(drop)) and drop[-1] == 224


def test_parse_separators_singles_overlaps():
    assert parse_band_ranges(" 5 ; 1 - 3  2,3 ", 10) == [1, 2, 3, 5]
    assert parse_band_ranges("", 10) == [] and parse_band_ranges(None, 10) == []


@pytest.mark.parametrize(
    "text, word",
    [
        ("1-3,abc", "'abc'"),
        ("5-2", "backwards"),
        ("0-2", "start at 1"),
        ("8-12", "beyond the last band"),
        ("1--3", "'1--3'"),
        ("-3", "'-3'"),
        ("2.5", "'2.5'"),
    ],
)
def test_parse_errors_name_the_problem(text, word):
    with pytest.raises(ValueError, match=word):
        parse_band_ranges(text, 10)


def test_select_bands_user_and_bbl():
    bbl = np.zeros(10, bool)
    bbl[[0, 9]] = True
    kept = select_bands(10, "4-5", bbl)
    assert kept == [2, 3, 6, 7, 8, 9]
    assert select_bands(4) == [1, 2, 3, 4]


def test_select_bands_errors():
    with pytest.raises(ValueError, match="only 1 of 5 bands"):
        select_bands(5, "1-4")
    with pytest.raises(ValueError, match="3 entries for 5 bands"):
        select_bands(5, None, [True, False, False])


def test_format_roundtrip_and_description():
    drop = parse_band_ranges("1-3,108-112,154-166,220-224", 224)
    assert format_band_ranges(drop) == "1-3,108-112,154-166,220-224"
    assert parse_band_ranges(format_band_ranges(drop), 224) == drop
    bbl = np.zeros(224, bool)
    bbl[200:202] = True
    line = describe_band_selection(224, "1-3", bbl)
    assert "using 219 of 224 bands" in line and "201-202 (bad-band list" in line and "1-3 (requested)" in line
    assert describe_band_selection(5) == "using all 5 bands"
