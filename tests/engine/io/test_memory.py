"""Sizes are checked against the budget and the free memory before allocating, with what to change."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepunmix.engine.core.errors import MemoryBudgetError, ParameterError
from deepunmix.engine.ddica.memory import training_bytes
from deepunmix.engine.io.memory import available_bytes, check_allocation, check_budget, total_bytes

REPO = Path(__file__).resolve().parents[3]


def test_budget_over_machine_memory_is_refused():
    assert check_budget(1024) == 1024 * 2**20
    with pytest.raises(ParameterError, match="more than this machine"):
        check_budget(total_bytes() / 2**20 * 2)
    with pytest.raises(ParameterError):
        check_budget(0)


def test_allocation_over_budget_or_free_memory_says_what_to_change():
    with pytest.raises(MemoryBudgetError, match="over the memory budget of 10 MB.*lower BATCH_SIZE"):
        check_allocation(20 * 2**20, "DDICA training", 10 * 2**20, "lower BATCH_SIZE")
    with pytest.raises(MemoryBudgetError, match="free on this machine"):
        check_allocation(available_bytes() * 2, "a huge step", None, "crop the raster")
    check_allocation(2**20, "a small step", 10 * 2**20)


def test_ddica_training_estimate_grows_with_batch_squared_and_restarts():
    base = training_bytes(156, 9025, 3)
    assert 2**20 < base < 2**30  # the defaults on a Samson-sized scene fit a 1 GB budget
    # a 20 000-pixel fit needs more (measured: about 0.95 GB, tests/engine/ddica/test_memory_peak.py)
    assert 2**30 < training_bytes(156, 20000, 3) < 1.5 * 2**30
    # the batch 3000: restarts train in groups sized by restart_bytes, whose measured peak is far larger
    assert training_bytes(156, 20000, 3, batch_size=3000) > 4 * 2**30
    assert training_bytes(156, 20000, 3, n_restarts=100_000) > 6 * 2**30  # 100 000 restarts' maps: GBs


CAPPED = r"""
import resource, sys
from deepunmix.engine.core.errors import MemoryBudgetError
from deepunmix.engine.io.fitting import load_for_fitting
from deepunmix.engine.io.memory import available_bytes
size = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (size + 200 * 2 ** 20, resource.RLIM_INFINITY))
try:
    load_for_fitting(sys.argv[1], memory_mb=8000, allow_sample=False)
except MemoryBudgetError as exc:
    print("REFUSED", exc)
"""


def test_under_an_address_space_cap_the_check_refuses_instead_of_memory_error(tmp_path):
    """A 20 x 4000 x 4000 float32 raster (1.2 GB as a cube, a few KB on disk) in a process capped at +200 MB."""
    import rasterio

    path = tmp_path / "sparse.tif"
    sparse = dict(driver="GTiff", width=4000, height=4000, count=20, dtype="float32", tiled=True, SPARSE_OK="TRUE")
    with rasterio.open(path, "w", BIGTIFF="YES", **sparse) as ds:
        ds.write(np.ones((20, 16, 16), np.float32), window=((0, 16), (0, 16)))
    out = subprocess.run(
        [sys.executable, "-c", CAPPED, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert "REFUSED" in out.stdout, out.stdout + out.stderr
    assert "free on this machine" in out.stdout and "crop the raster" in out.stdout
