"""Every benchmark script, declared once: what `benchmarks/run_all.py` runs, in this order, and where it reads the tables.

Each entry names the script, the results name its section of RESULTS.md is read from (``results/<name>.md``;
a quick run's files are ``quick/<name>``, see ``_tables.results_name``), whether it needs ``../shared/data`` (run_all skips it with a line
when the data are absent), its quick and full arguments, and its rough cost on a 2-core CPU machine with one
torch thread (full: the fit times its committed results add up to, a lower bound; quick: one run, on a
loaded machine; both are noise). A script without a quick mode says why (``full_only``). A new benchmark is added here;
``tests/engine/test_benchmark_registry.py`` fails on any ``benchmarks/*.py`` that is neither here nor in HELPERS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from _tables import results_name


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script as run_all.py runs it."""

    script: str
    results: Optional[str]  # results/<results>.md is its RESULTS.md section; None: paper_tables writes the head
    needs_data: bool  # True: nothing to measure without ../shared/data (skipped then)
    cost: str  # rough wall time, quick / full
    quick: Optional[Tuple[str, ...]] = ("--quick",)  # None: no quick mode (full_only says why)
    full: Tuple[str, ...] = ()
    full_only: str = ""
    renders_only: bool = False  # measures nothing: its quick run re-renders the same file as its full run

    def args(self, quick: bool) -> Optional[Tuple[str, ...]]:
        """The command-line arguments of this mode; None when it has no quick mode."""
        return self.quick if quick else self.full

    def results_name(self, quick: bool) -> Optional[str]:
        """The results name this mode writes (a quick run never writes the full run's files)."""
        if self.results is None or not quick or self.renders_only:
            return self.results
        return results_name(self.results, quick)


BENCHMARKS: Tuple[Benchmark, ...] = (
    # the first ten keep the order of RESULTS.md's sections; the others were added after, in the order appended
    Benchmark("ddica_pnl.py", "ddica_pnl", False, "quick ~30 s; full ~50 min"),  # Table 1 of paper_tables reads it
    Benchmark("paper_tables.py", None, False, "quick ~10 min; full ~75 min (Table 2 needs the data, skipped without)"),
    Benchmark("buddip_synthetic.py", "buddip_synthetic", True, "quick ~20 s; full ~35 min"),
    Benchmark("buddip_samson.py", "buddip_samson", True, "quick ~25 s; full ~2 min"),
    Benchmark(
        "endmember_count.py",
        "endmember_count",
        False,
        "quick ~30 s; full ~12 min (its real-scene check needs the data)",
    ),
    Benchmark("ddica_ablation.py", "ddica_ablation", True, "quick ~5 min; full ~1 h"),
    # the paper's iteration counts take days on a CPU: full runs the caps the committed results used (said in them);
    # `python benchmarks/buddip_paper.py` without --iters runs the paper's counts
    Benchmark(
        "buddip_paper.py",
        "buddip_paper",
        True,
        "quick ~1 min; full ~35 min at 10 iterations (days at the paper's)",
        full=("--iters", "10"),
    ),
    Benchmark(
        "buddip_paper_curve.py",
        "buddip_paper_curve",
        True,
        "quick ~1 min; full ~50 min",
        full=("--iters", "300", "--every", "50"),
    ),
    Benchmark("buddip_gain.py", "buddip_gain", True, "quick ~3 min; full ~30 min (reads results/buddip_paper.json)"),
    Benchmark("buddip_schedules.py", "buddip_schedules", True, "quick ~30 s; full ~25 min with 2 workers"),
    Benchmark(
        "gpu_results.py", "gpu_session", False, "seconds (renders the saved CUDA runs)", quick=(), renders_only=True
    ),
    Benchmark("buddip_ablation.py", "buddip_ablation", True, "quick ~2 min; full ~10 min"),
    Benchmark("buddip_curve.py", "buddip_curve", True, "quick ~2 min; full ~45 min"),
    Benchmark("ddica_samson.py", "ddica_samson", True, "quick ~1 min; full ~2 min"),
    Benchmark("ddica_samson_ablation.py", "ddica_samson_ablation", True, "quick ~3 min; full ~30 min"),
    Benchmark("ddica_speed.py", "ddica_speed", False, "quick ~1 min; full ~25 min (its accuracy part needs the data)"),
    Benchmark("fcls_speed.py", "fcls_speed", False, "quick ~10 s; full ~2 min"),
    Benchmark("blockwise_memory.py", "blockwise_memory", False, "quick ~30 s; full ~3 min"),
    Benchmark("cancel_latency.py", "cancel_latency", False, "quick ~1 s; full ~10 s"),
    Benchmark(
        "large_scene.py", "large_scene", False, "quick ~2.5 min; full ~30 min and a 1.8 GiB scene in the temp folder"
    ),
    Benchmark("dip_tile_memory.py", "dip_tile_memory", False, "quick ~4 min; full ~8 min (3.5 GB peak)"),
    Benchmark(
        "fit_warning.py", "fit_warning", True, "full ~10 s", quick=None, full_only="a few seconds: nothing to shorten"
    ),
    Benchmark("ddica_default.py", "ddica_default", True, "quick ~2 min; full ~40 min with 2 workers"),
)

# benchmarks/*.py that are not benchmarks run by run_all.py, and why
HELPERS: Dict[str, str] = {
    "run_all.py": "the runner itself",
    "buddip_common.py": "helpers of the buddip_* scripts (data path, compared methods, scores)",
    "gpu_session.py": "needs a lent GPU (CUDA); gpu_results.py renders what it saved",
}


def by_script() -> Dict[str, Benchmark]:
    """The registry keyed by script file name."""
    return {b.script: b for b in BENCHMARKS}
