"""Fixtures shared by every test folder."""

import pytest


@pytest.fixture
def torch_one_thread():
    """Torch on one thread for the test (two threads on a shared 2-core machine are far slower)."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def package_site(tmp_path):
    """A folder in which `deepunmix` is this checkout, as `pip install -e .` makes it importable: put it alone
    on PYTHONPATH (and run from elsewhere) to use the installed-package route, not the checkout root."""
    from pathlib import Path

    site = tmp_path / "package-site"
    site.mkdir()
    (site / "deepunmix").symlink_to(Path(__file__).resolve().parents[1], target_is_directory=True)
    return site


def _reflectance_geotiff(path, seed: int, height: int, width: int, nodata_rows: int = 0, nodata_cols: int = 0):
    """Write a 20-band int16 'reflectance x 10000' GeoTIFF (UTM, 30 m) mixing 3 random endmembers, with a
    nodata (-1) border of ``nodata_rows`` top rows and ``nodata_cols`` right columns; return E (20, 3)."""
    import numpy as np
    from rasterio.transform import from_origin

    from deepunmix.engine.io.raster import open_raster

    rng = np.random.default_rng(seed)
    E = rng.uniform(0.05, 0.6, (20, 3))
    A = rng.dirichlet(np.ones(3), height * width).T
    cube = np.round((E @ A).T.reshape(height, width, 20).transpose(2, 0, 1) * 10000)
    cube[:, :nodata_rows, :] = -1
    cube[:, :, width - nodata_cols :] = -1
    profile = dict(driver="GTiff", width=width, height=height, count=20, dtype="int16", nodata=-1)
    with open_raster(path, "w", transform=from_origin(500000, 4000000, 30, 30), crs="EPSG:32633", **profile) as ds:
        ds.write(cube.astype(np.int16))
    return E


@pytest.fixture(scope="session")
def reflectance_geotiff():
    """``reflectance_geotiff(path, seed, height, width, nodata_rows=0, nodata_cols=0) -> E``: a test scene."""
    return _reflectance_geotiff
