"""engine.io.fitting.load_for_fitting: the input policy of every fitting algorithm, without QGIS."""

import numpy as np
import pytest

from deepunmix.engine.core.errors import InputError, MemoryBudgetError, ParameterError
from deepunmix.engine.core.progress import Cancelled
from deepunmix.engine.io.fitting import load_for_fitting


def _write(tmp_path, cube, name="c.tif"):
    """The cube as given (write_cube would spread one band's NaN to every band)."""
    import rasterio

    path = tmp_path / name
    with rasterio.open(
        path, "w", driver="GTiff", width=cube.shape[2], height=cube.shape[1], count=cube.shape[0], dtype="float32"
    ) as ds:
        ds.write(cube)
    return str(path)


def _cube(L=6, H=10, W=12, seed=0):
    return np.random.default_rng(seed).random((L, H, W)).astype(np.float32)


def test_reads_whole_cube_with_log(tmp_path):
    lines = []
    data = load_for_fitting(_write(tmp_path, _cube()), log=lines.append)
    assert data.cube.shape == (6, 10, 12) and not data.sampled and list(data.bands) == [1, 2, 3, 4, 5, 6]
    assert any("valid pixels" in line for line in lines)


def test_one_all_nan_band_is_named(tmp_path):
    cube = _cube()
    cube[3] = np.nan
    with pytest.raises(InputError, match=r"band\(s\) 4 hold no value anywhere"):
        load_for_fitting(_write(tmp_path, cube))
    data = load_for_fitting(_write(tmp_path, cube, "d.tif"), drop_text="4")  # dropping it works
    assert list(data.bands) == [1, 2, 3, 5, 6] and data.mask.all()


def test_one_valid_pixel_is_not_called_constant(tmp_path):
    cube = np.full((6, 5, 5), np.nan, np.float32)
    cube[:, 2, 2] = np.arange(6)
    with pytest.raises(InputError, match="only 1 valid pixel"):
        load_for_fitting(_write(tmp_path, cube))


def test_memory_budget_above_machine_memory_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="more than this machine"):
        load_for_fitting(_write(tmp_path, _cube()), memory_mb=10**9)


def test_whole_image_methods_refuse_over_budget(tmp_path):
    path = _write(tmp_path, _cube(L=64, H=200, W=200))  # 4 copies x 10 MB > 32 MB
    with pytest.raises(MemoryBudgetError, match="MEMORY_MB"):
        load_for_fitting(path, memory_mb=32, allow_sample=False)


def test_sampling_pass_reports_progress_and_honours_cancel(tmp_path):
    path = _write(tmp_path, _cube(L=64, H=200, W=200))
    seen = []
    data = load_for_fitting(path, memory_mb=32, progress=lambda f, m="": seen.append(f))
    assert data.sampled and seen[-1] == 1.0 and len(seen) > 2

    def cancel(fraction, message=""):
        if fraction > 0:
            raise Cancelled()

    with pytest.raises(Cancelled):
        load_for_fitting(path, memory_mb=32, progress=cancel)


def test_the_log_says_what_a_sample_is_for(tmp_path):
    path = _write(tmp_path, _cube(L=64, H=200, W=200))
    lines = []
    load_for_fitting(path, memory_mb=32, log=lines.append)
    assert any("valid pixels for fitting, then streaming all pixels" in line for line in lines), lines
    lines = []
    load_for_fitting(path, memory_mb=32, log=lines.append, sample_use="for the first guess, then tiles")
    assert any(line.endswith("valid pixels for the first guess, then tiles") for line in lines), lines
    assert not any("for fitting" in line for line in lines)
