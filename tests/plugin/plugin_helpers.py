"""Small helpers shared by the plugin tests."""

import numpy as np


def read(path):
    import rasterio

    with rasterio.open(path) as ds:
        return ds.read(), ds.transform, ds.crs, ds.nodata, [ds.descriptions[i] for i in range(ds.count)]


def assert_sum_to_one(abundances, nodata=-9999.0, atol=1e-4):
    valid = np.all(abundances != nodata, axis=0)
    assert valid.any()
    np.testing.assert_allclose(abundances[:, valid].sum(axis=0), 1.0, atol=atol)
    assert (abundances[:, valid] >= -1e-6).all()


def csv_rows(path):
    """CSV rows without '#' comment lines."""
    import csv

    with open(path, newline="") as fh:
        return [row for row in csv.reader(fh) if row and not row[0].startswith("#")]
