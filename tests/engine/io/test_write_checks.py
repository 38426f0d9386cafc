"""An output is complete or absent: every writer on a full disk, long names, concurrent temporaries, stale
temporaries, Erdas Imagine spill files. The full disk is a 2 MB tmpfs (needs root; skipped otherwise)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepunmix.engine.core.errors import OutputError

sys.path.insert(0, str(Path(__file__).parent))
import small_disk as disk

small_disk, fill = disk.small_disk, disk.fill  # a fixture shared with tests/plugin/test_fault_injection.py


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _abundances(path, size=600):
    from deepunmix.engine.io.raster import write_abundances

    rng = np.random.default_rng(0)
    return write_abundances(path, rng.random((3, size, size), dtype=np.float32), ["a", "b", "c"])


def _cube(path):
    from deepunmix.engine.io.raster import write_cube

    rng = np.random.default_rng(1)
    return write_cube(path, rng.random((4, 500, 500), dtype=np.float32), wavelengths=[400, 500, 600, 700])


def _streamed(path):
    from deepunmix.engine.io.blockwise import apply_blockwise
    from deepunmix.engine.io.raster import write_cube

    src = Path(path).parent.parent / "src.tif"
    if not src.exists():
        write_cube(src, np.random.default_rng(2).random((4, 500, 500), dtype=np.float32), compress=None)
    return apply_blockwise(src, path, lambda Y: Y[:3] * 1.5, 3, ["a", "b", "c"], max_block_bytes=2**20)


def _dask(path):
    pytest.importorskip("dask")
    from deepunmix.engine.io.distributed import apply_distributed
    from deepunmix.engine.io.raster import write_cube

    src = Path(path).parent.parent / "src.tif"
    if not src.exists():
        write_cube(src, np.random.default_rng(2).random((4, 500, 500), dtype=np.float32), compress=None)
    return apply_distributed(src, path, np.sqrt, 4, list("abcd"), chunk_rows=100)


def _csv(path):
    from deepunmix.engine.io.endmember_csv import write_endmembers_csv

    rng = np.random.default_rng(3)
    return write_endmembers_csv(path, rng.random((20000, 8)), list("abcdefgh"), comment="units: made up")


def _report(path):
    from deepunmix.engine.reporting.report import write_report

    rng = np.random.default_rng(4)
    return write_report(str(path), "run", rng.random((50, 3)), list("abc"), abundances=rng.random((3, 200, 200)))


def _count_report(path):
    from deepunmix.engine.reporting.report import write_count_report

    return write_count_report(str(path), "scene.tif", "hysime", 3, cost=list(np.linspace(-1, 1, 40)))


def _scores(path):
    from deepunmix.engine.io.score_table import write_score_table

    n = 20000
    scores = {"perm": np.arange(n), "rmse": np.full(n, 0.1), "sad": np.full(n, 3.0), "mean_rmse": 0.1, "armse": 0.1}
    names = [f"material {k} " + "x" * 100 for k in range(n)]
    return write_score_table(path, scores, names, names)


WRITERS = {
    "GeoTIFF in memory": ("a.tif", _abundances),
    "Erdas Imagine in memory": ("a.img", _abundances),
    "GeoTIFF cube": ("c.tif", _cube),
    "GeoTIFF streamed": ("s.tif", _streamed),
    "Erdas Imagine streamed": ("s.img", _streamed),
    "Dask route": ("d.tif", _dask),
    "endmember CSV": ("e.csv", _csv),
    "HTML report": ("r.html", _report),
    "count report": ("n.html", _count_report),
    "score table": ("t.csv", _scores),
}


@pytest.mark.parametrize("half", [False, True], ids=["no byte free", "half the output's size free"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_full_disk_keeps_the_previous_output_and_says_so(writer, half, small_disk, tmp_path):
    """A good previous output, then the disk fills (to nothing, or to half of what the output needs): the writer
    raises, the previous file is byte for byte the same, and no temporary is left."""
    name, write = WRITERS[writer]
    leave = 0
    if half:
        (tmp_path / "measure").mkdir()
        write(tmp_path / "measure" / name)
        leave = (tmp_path / "measure" / name).stat().st_size // 2
    out = small_disk / name
    out.write_bytes(b"previous good output")
    before = _digest(small_disk)
    fill(small_disk, leave)
    with pytest.raises((OutputError, OSError)) as err:
        write(out)
    assert "space" in str(err.value).lower() or "could not be written" in str(err.value)
    after = _digest(small_disk)
    after.pop("filler")
    assert after == before, "the previous output changed or a temporary was left"


def test_a_legal_long_name_is_written(tmp_path):
    """A name of 250 bytes (legal on a 255-byte file system): the temporary name fits too."""
    out = tmp_path / ("x" * 246 + ".tif")
    _abundances(out, size=20)
    assert out.is_file() and [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_long_multibyte_name_is_written(tmp_path):
    out = tmp_path / ("é" * 120 + ".tif")  # 244 bytes in UTF-8
    _abundances(out, size=20)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_csv_name_too_long_for_its_sidecar_is_refused_up_front(tmp_path):
    from deepunmix.engine.io.paths import check_output_paths

    with pytest.raises(OutputError, match="longer than the 255"):
        check_output_paths({"OUTPUT_ENDMEMBERS": str(tmp_path / ("x" * 246 + ".csv"))}, {})
    check_output_paths({"OUTPUT_ENDMEMBERS": str(tmp_path / ("x" * 243 + ".csv"))}, {})
    from deepunmix.engine.io.endmember_csv import write_endmembers_csv

    with pytest.raises(OutputError, match="with its units sidecar"):  # the engine's writer alone, too
        write_endmembers_csv(tmp_path / ("x" * 246 + ".csv"), np.ones((2, 1)), ["a"], comment="units")
    assert not list(tmp_path.iterdir())
    write_endmembers_csv(tmp_path / ("x" * 243 + ".csv"), np.ones((2, 1)), ["a"], comment="units")
    assert len(list(tmp_path.iterdir())) == 3  # the table, its .csvt and its .aux.xml


def test_temporaries_are_unique_per_process_and_call(tmp_path):
    from deepunmix.engine.io.write_checks import temp_path

    out = tmp_path / "a.tif"
    names = {temp_path(out).name for _ in range(50)}
    assert len(names) == 50 and all(f"~{os.getpid()}-" in n for n in names)


KILLED = r"""
import os, sys
from deepunmix.engine.io.raster import atomic_output
with atomic_output(sys.argv[1]) as tmp:
    tmp.write_text("half")
    os._exit(9)  # as a kill -9: nothing cleans up
"""


def test_a_killed_runs_temporary_is_removed_by_the_next_write_but_a_live_ones_is_kept(tmp_path):
    from deepunmix.engine.io.raster import atomic_output

    out = tmp_path / "a.tif"
    subprocess.run([sys.executable, "-c", KILLED, str(out)], check=False)
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].endswith(".partial"), left
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:  # a temporary of a process that is still running (a concurrent run) stays
        alive = tmp_path / f".a.tif~{live.pid}-{_host()}0123abcd.partial"
        alive.write_text("running")
        with atomic_output(out) as tmp:
            tmp.write_text("new")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a.tif", alive.name])
    finally:
        live.kill()
        live.wait()


def _host():
    from deepunmix.engine.io.write_checks import _HOST

    return _HOST


def test_an_old_style_temporary_is_removed_after_a_day(tmp_path):
    from deepunmix.engine.io.raster import atomic_output

    old, young = tmp_path / ".a.tif.0123abcd.partial", tmp_path / ".a.tif.4567abcd.partial"
    old.write_text("x")
    young.write_text("x")
    os.utime(old, (0, 0))
    with atomic_output(tmp_path / "a.tif") as tmp:
        tmp.write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a.tif", young.name])


def test_erdas_imagine_over_its_one_file_size_is_refused_before_writing(tmp_path):
    from deepunmix.engine.io.raster import output_profile

    with pytest.raises(OutputError, match=r"write it as \.tif"):
        output_profile(3, 20000, 20000, driver="HFA")
    output_profile(1, 16256, 32768, driver="HFA")


@pytest.mark.parametrize("rows,spills", [(16256, False), (16320, True)])
def test_the_erdas_imagine_limit_is_where_gdal_starts_a_spill_file(rows, spills, tmp_path):
    """GDAL's own behaviour at the stated limit (sparse files: nothing is really written)."""
    import rasterio

    from deepunmix.engine.io.write_checks import HFA_MAX_BYTES, hfa_bytes

    assert (hfa_bytes(1, rows, 32768, 4) > HFA_MAX_BYTES) == spills
    with rasterio.open(tmp_path / "t.img", "w", driver="HFA", width=32768, height=rows, count=1, dtype="float32"):
        pass
    assert (tmp_path / "t.ige").exists() == spills


def test_a_gdal_failure_inside_the_block_is_raised_not_printed(tmp_path):
    """The handler is GDAL's per-thread one: a failure reported inside the block becomes an OutputError."""

    from deepunmix.engine.io.write_checks import gdal_errors

    with pytest.raises(OutputError, match="x.tif could not be written completely: made-up failure"):
        with gdal_errors(tmp_path / "x.tif"):
            raise_gdal_failure()
    with gdal_errors(tmp_path / "x.tif"):  # warnings are not failures
        raise_gdal_failure(2)


def raise_gdal_failure(err_class=3):
    """Make GDAL report an error of ``err_class`` (3: CE_Failure) through its handler."""
    import ctypes

    from deepunmix.engine.io.write_checks import _gdal_library

    lib = _gdal_library()
    lib.CPLError.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
    lib.CPLError(err_class, 1, b"made-up failure")
