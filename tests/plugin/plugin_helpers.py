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


def unmix(run_alg, alg_id, params, out_dir, name, fractions=True):
    """The abundance maps of one run of ``deepunmix:<alg_id>`` with ``params`` (outputs named ``name``);
    with ``fractions``, checked to be non-negative and to sum to one."""
    out = {"OUTPUT_ABUNDANCES": str(out_dir / f"{name}.tif"), "OUTPUT_ENDMEMBERS": str(out_dir / f"{name}.csv")}
    maps = read(run_alg(f"deepunmix:{alg_id}", {**params, **out})["OUTPUT_ABUNDANCES"])[0]
    if fractions:
        assert_sum_to_one(maps)
    return maps


def dialog_estimator(alg_id, **parameters):
    """The (unfitted) estimator a run of ``deepunmix:<alg_id>`` builds from the dialog's defaults and
    ``parameters``: the value of each dialog field as the engine receives it."""
    from qgis.core import QgsApplication, QgsProcessingContext

    alg = QgsApplication.processingRegistry().algorithmById(f"deepunmix:{alg_id}")
    dialog = {p.name(): p.defaultValue() for p in alg.parameterDefinitions() if not p.isDestination()}
    return alg.ESTIMATOR(**alg.estimator_kwargs({**dialog, "N_ENDMEMBERS": 3, **parameters}, QgsProcessingContext()))


def build_zip(out):
    """The release ZIP as ``make package`` builds it (scripts/package.py's ``build``, in this process)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("package", Path(__file__).resolve().parents[2] / "scripts/package.py")
    package = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package)
    return Path(package.build(out))
