"""The README's Dask route as a user runs it: `dask scheduler`, two `dask worker` processes and a client
process, each importing the engine as the installed package `deepunmix` (not from the checkout's root).

Loopback only; every process is ours, bounded in time and killed in `finally`.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.array", reason="dask is not installed (pip install 'dask[array]' distributed)")
pytest.importorskip("distributed", reason="dask.distributed is not installed")

from deepunmix.engine.io.blockwise import apply_blockwise
from deepunmix.engine.io.distributed import fcls_func
from deepunmix.engine.io.endmember_csv import write_endmembers_csv
from deepunmix.engine.io.raster import open_raster
from deepunmix.engine.io.scaling import units_comment

REPO = Path(__file__).resolve().parents[2]
START_S = 60  # scheduler start and both workers registered
CLIENT_S = 120


def readme_dask_snippet() -> str:
    """The Python block of README.md's section 'Beyond one machine (Dask)'."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Beyond one machine (Dask)", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def _scene(folder: Path, reflectance_geotiff):
    """20-band int16 'reflectance x 10000' raster with a nodata border; endmember CSV in reflectance."""
    src = folder / "scene.tif"
    E = reflectance_geotiff(src, 3, 50, 40, nodata_rows=3)
    csv = write_endmembers_csv(
        folder / "endmembers.csv", E, ["soil", "tree", "water"], comment=units_comment(1e-4, "test scene")
    )
    return src, csv, E


def _wait(predicate, deadline: float, procs, what: str):
    while not predicate():
        dead = [p.args for p in procs if p.poll() is not None]
        if dead:
            raise AssertionError(f"{what}: a process exited early: {dead}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not ready after {START_S} s")
        time.sleep(0.2)


def _logs(folder: Path) -> str:
    return "".join(f"\n--- {p.name}\n" + p.read_text()[-3000:] for p in sorted(folder.glob("*.log")))


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


# run before the README's snippet: wait until both workers have joined
WAIT_FOR_WORKERS = f"""
import time
from dask.distributed import Client
with Client(ADDRESS, timeout=30) as c:
    end = time.monotonic() + {START_S}
    while len(c.nthreads()) < 2 and time.monotonic() < end:
        time.sleep(0.2)
    assert len(c.nthreads()) == 2, c.nthreads()
"""
# run after it: which engine the client used, and how many tasks each worker process executed
REPORT = """
import sys
print("ENGINE", apply_distributed.__module__)
print("BARE", "engine" in sys.modules)
print("TASKS", *sorted(client.run(lambda dask_worker: dask_worker.state.executed_count).values()))
"""


def readme_client_script(address: str, src: Path, dst: Path, csv: Path) -> str:
    code = readme_dask_snippet()
    for placeholder, value in [
        ("tcp://scheduler:8786", address),
        ("/shared/scene.tif", str(src)),
        ("/shared/abundances.tif", str(dst)),
        ('"endmembers.csv"', repr(str(csv))),
        ("client=client,", "client=client, chunk_rows=5,"),  # 10 tasks, not 1
    ]:
        assert placeholder in code, f"README's Dask snippet no longer names {placeholder}"
        code = code.replace(placeholder, value)
    return WAIT_FOR_WORKERS.replace("ADDRESS", repr(address)) + code + REPORT


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_readme_fcls_on_scheduler_and_two_worker_processes(tmp_path, package_site, reflectance_geotiff):
    src, csv, E = _scene(tmp_path, reflectance_geotiff)
    ref = apply_blockwise(src, tmp_path / "in_process.tif", fcls_func(E), 3, ["soil", "tree", "water"], scale=1e-4)

    env = dict(os.environ, PYTHONPATH=str(package_site), OMP_NUM_THREADS="1")
    work = tmp_path / "cwd"  # not the checkout: the bare `engine` is not importable there
    work.mkdir()
    dask = [sys.executable, "-m", "dask"]
    sched_file = tmp_path / "scheduler.json"
    logs, procs = [], []

    def spawn(args, name):
        log = open(tmp_path / f"{name}.log", "w")
        logs.append(log)
        return subprocess.Popen(args, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    try:
        scheduler = [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        procs.append(spawn([*scheduler, "--scheduler-file", str(sched_file)], "scheduler"))
        deadline = time.monotonic() + START_S
        _wait(lambda: sched_file.is_file() and sched_file.stat().st_size > 0, deadline, procs, "scheduler")
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = [*dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard"]
        for i in range(2):
            procs.append(spawn([*worker, "--name", f"w{i}"], f"worker{i}"))
        script = readme_client_script(address, src, tmp_path / "dask.tif", csv)
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=CLIENT_S
        )
        assert out.returncode == 0, out.stdout + out.stderr + _logs(tmp_path)
    finally:
        _stop(procs)
        for log in logs:
            log.close()

    assert "ENGINE deepunmix.engine.io.distributed" in out.stdout
    assert "BARE False" in out.stdout  # the client used the package, not the checkout's bare `engine`
    tasks = [int(v) for v in re.search(r"^TASKS (.*)$", out.stdout, re.M).group(1).split()]
    assert len(tasks) == 2 and min(tasks) > 0, tasks  # both worker processes computed chunks
    with open_raster(ref) as a, open_raster(tmp_path / "dask.tif") as b:
        want, got = a.read(), b.read()
        assert list(b.descriptions) == ["soil", "tree", "water"] and b.crs == a.crs
    assert (got == -9999).sum() == 3 * 3 * 40
    np.testing.assert_array_equal(got, want)  # per-pixel FCLS: the chunking does not change a bit
