"""What every benchmark records about the machine it ran on, and how it runs torch (one thread).

The benchmark scripts import this module as ``_machine``: run as ``python benchmarks/<script>.py`` (or by
``benchmarks/run_all.py``), Python puts ``benchmarks/`` first on ``sys.path``, so no script edits the path.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

# The names earlier results files gave these facts; ``canonical`` reads them under today's names.
_OLD_NAMES = {
    "machine": "host",
    "cpu_count": "logical_cpus",
    "cores": "logical_cpus",
    "loadavg_start": "load_average_at_start",
    "loadavg_end": "load_average_at_end",
    "date": "date_utc",
}


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what platform reports."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> List[float]:
    """The 1, 5 and 15 minute load averages, rounded to two decimals."""
    return [round(x, 2) for x in os.getloadavg()]


def _memory_gib() -> float:
    try:
        with open("/proc/meminfo") as fh:
            kib = next((line.split()[1] for line in fh if line.startswith("MemTotal")), "0")
    except OSError:
        kib = "0"
    return int(kib) / 2**20


def _blas() -> List[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)" for i in threadpool_info()]


def machine(with_torch: bool = True) -> Dict[str, object]:
    """The machine, its software and its load now: the ``machine`` record of every benchmark's results.

    ``with_torch=False`` leaves torch unimported (its version and threads then read None), for the benchmarks that
    measure memory or run without it.
    """
    import numpy as np

    info: Dict[str, object] = {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "mem_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "torch": None,
        "torch_threads": None,
        "load_average_at_start": load_average(),
    }
    if not with_torch:
        return info
    try:
        import torch
    except ImportError:
        return info
    info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    return info


def canonical(info: Dict[str, object]) -> Dict[str, object]:
    """A machine record from a results file of any age, with the facts under the names ``machine`` uses."""
    out = dict(info)
    for old, new in _OLD_NAMES.items():
        if old in out and new not in out:
            out[new] = out.pop(old)
    return out


def status_kib(key: str) -> int:
    """A ``/proc/self/status`` entry in KiB (VmRSS, VmHWM, VmSize, VmPeak): Linux only (KeyError if absent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def run_child(script: str, case: str, *args: object) -> dict:
    """``script --case case --child args...`` in a fresh process with one BLAS and OpenMP thread: the last JSON line it prints."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.check_output(
        [sys.executable, script, "--case", case, "--child", *map(str, args)], env=env, text=True
    )
    return json.loads(out.strip().splitlines()[-1])


def one_thread() -> None:
    """Torch on one thread, as every CPU benchmark runs (BLAS threads are each script's own choice)."""
    import torch

    torch.set_num_threads(1)
