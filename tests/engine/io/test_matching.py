"""CSV rows are matched to raster bands by wavelength or band number, never by position; bad bands dropped."""

import numpy as np
import pytest

from deepunmix.engine.core.errors import InputError
from deepunmix.engine.io.endmember_csv import EndmemberTable
from deepunmix.engine.io.matching import align_tables, align_to_bands, match_bands

WL = np.linspace(400.0, 1000.0, 7)


def _table(rows, wavelengths=True, p=2):
    rows = np.asarray(rows)
    E = np.stack([rows * 10.0 + k for k in range(p)], axis=1)
    return EndmemberTable(E, [f"m{k}" for k in range(p)], WL[rows - 1] if wavelengths else None, rows)


def test_reversed_csv_matches_by_wavelength():
    t = _table([7, 6, 5, 4, 3, 2, 1])
    m = match_bands(t, WL, 7)
    assert m.bands == [7, 6, 5, 4, 3, 2, 1] and m.by == "wavelength"


def test_reversed_csv_matches_by_band_number_without_wavelengths():
    t = _table([7, 6, 5, 4, 3, 2, 1], wavelengths=False)
    assert match_bands(t, WL, 7).bands == [7, 6, 5, 4, 3, 2, 1]
    assert match_bands(t, None, 7).by == "band number"


def test_never_by_position_when_counts_agree():
    t = _table([1, 2, 3, 4, 5, 6, 9], wavelengths=False)  # band 9 is not in a 7-band raster
    with pytest.raises(InputError, match="bands 9"):
        match_bands(t, None, 7)


def test_wavelength_off_grid_refused():
    t = _table([1, 2, 3])
    t.wavelengths = t.wavelengths + 1000.0  # beyond the raster's range by more than half the 100 nm spacing
    with pytest.raises(InputError, match="match no band"):
        match_bands(t, WL, 7)


def test_bad_band_list_drops_rows():
    bad = np.zeros(7, dtype=bool)
    bad[[1, 5]] = True
    m = match_bands(_table([1, 2, 3, 4, 5, 6, 7]), WL, 7, bad)
    assert m.bands == [1, 3, 4, 5, 7] and m.rows == [0, 2, 3, 4, 6] and m.dropped == [2, 6]
    assert "bad-band list" in m.describe(7, 7)


def test_align_to_bands_for_a_band_subset():
    t = _table([7, 6, 5, 4, 3, 2, 1])
    E = align_to_bands(t, [1, 3, 4], WL, 7)
    np.testing.assert_array_equal(E[:, 0], [10.0, 30.0, 40.0])
    with pytest.raises(InputError, match="no row for raster band"):
        align_to_bands(_table([1, 2, 3]), [1, 2, 3, 4], WL, 7)


def test_align_tables_identical_spectra_in_reverse_order():
    a, b = _table([1, 2, 3, 4, 5]), _table([5, 4, 3, 2, 1])
    Ea, Eb = align_tables(a, b)
    np.testing.assert_array_equal(Ea, Eb)
    Ea, Eb = align_tables(_table([1, 2, 3], False), _table([3, 2, 1], False))
    np.testing.assert_array_equal(Ea, Eb)
    with pytest.raises(InputError, match="same bands"):
        align_tables(_table([1, 2, 3], False), _table([1, 2, 4], False))
