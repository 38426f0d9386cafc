"""Every benchmark, declared once as study x case: what `benchmarks/run_all.py` runs, in this order, and where it reads the tables.

Each entry names the study (``benchmarks/<study>.py``) and its case (``--case``), the results name its section of
RESULTS.md is read from (``results/<name>.md``; a quick run's files are ``quick/<name>``, git-ignored, see
``_tables.results_name``), whether it needs ``../shared/data`` (run_all skips it with a line when the data are
absent), its quick and full arguments, and its rough cost on a 2-core CPU machine with one torch thread (full: the
fit times its committed results add up to, a lower bound; quick: one run, on a loaded machine; both are noise). A
case without a quick mode says why (``full_only``); a side case (``section=False``) writes a page another section
cites and runs only when named (``run_all.py --only``). A new case is added to its study's ``CASES`` and here;
``tests/engine/test_benchmark_registry.py`` fails on a study, case or results page that is not declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

from _tables import results_name


@dataclass(frozen=True)
class Benchmark:
    """One case of a study as run_all.py runs it."""

    study: str  # benchmarks/<study>
    case: str  # its --case
    results: Optional[str]  # results/<results>.md is its RESULTS.md section; None: paper_tables writes the head
    needs_data: bool  # True: nothing to measure without ../shared/data (skipped then)
    cost: str  # rough wall time, quick / full
    quick: Optional[Tuple[str, ...]] = ("--quick",)  # None: no quick mode (full_only says why)
    full: Tuple[str, ...] = ()
    full_only: str = ""
    renders_only: bool = False  # measures nothing: its quick run re-renders the same file as its full run
    section: bool = True  # False: a side page cited from another section; run only when named

    @property
    def script(self) -> str:
        """The command that runs it (after ``python benchmarks/``), as RESULTS.md names it."""
        return f"{self.study} --case {self.case}"

    @property
    def key(self) -> str:
        """Its name on run_all.py's command line (``--only``, ``--splice``): ``study:case``."""
        return f"{Path(self.study).stem}:{self.case}"

    def args(self, quick: bool) -> Optional[Tuple[str, ...]]:
        """The command-line arguments of this mode (after ``--case``); None when it has no quick mode."""
        return self.quick if quick else self.full

    def results_name(self, quick: bool) -> Optional[str]:
        """The results name this mode writes (a quick run never writes the full run's files)."""
        if self.results is None or not quick or self.renders_only:
            return self.results
        return results_name(self.results, quick)


B = Benchmark
BENCHMARKS: Tuple[Benchmark, ...] = (
    # the first ten keep the order of RESULTS.md's sections; the others were added after, in the order appended
    B("ddica.py", "pnl", "ddica_pnl", False, "quick ~30 s; full ~50 min"),  # Table 1 of paper_tables reads it
    B(
        "paper_tables.py",
        "tables",
        None,
        False,
        "quick ~10 min; full ~75 min (Table 2 needs the data, skipped without)",
    ),
    B("buddip.py", "synthetic", "buddip_synthetic", True, "quick ~20 s; full ~35 min"),
    B("buddip.py", "samson", "buddip_samson", True, "quick ~25 s; full ~2 min"),
    B("count.py", "endmember_count", "endmember_count", False, "quick ~30 s; full ~12 min (real scenes need the data)"),
    B("ddica.py", "ablation", "ddica_ablation", True, "quick ~5 min; full ~1 h"),
    # the paper's iteration counts take days on a CPU: full runs the caps the committed results used (said in them);
    # `python benchmarks/buddip.py --case paper` without --iters runs the paper's counts
    B(
        "buddip.py",
        "paper",
        "buddip_paper",
        True,
        "quick ~1 min; full ~35 min at 10 iterations",
        full=("--iters", "10"),
    ),
    B(
        "buddip.py",
        "paper_curve",
        "buddip_paper_curve",
        True,
        "quick ~1 min; full ~50 min",
        full=("--iters", "300", "--every", "50"),
    ),
    B("buddip.py", "gain", "buddip_gain", True, "quick ~3 min; full ~30 min (reads results/buddip_paper.json)"),
    B("buddip.py", "schedules", "buddip_schedules", True, "quick ~30 s; full ~25 min with 2 workers"),
    B("gpu.py", "tables", "gpu_session", False, "seconds (renders the saved CUDA runs)", quick=(), renders_only=True),
    B("buddip.py", "ablation", "buddip_ablation", True, "quick ~2 min; full ~10 min"),
    B("buddip.py", "curve", "buddip_curve", True, "quick ~2 min; full ~45 min"),
    B("ddica.py", "samson", "ddica_samson", True, "quick ~1 min; full ~2 min"),
    B("ddica.py", "samson_ablation", "ddica_samson_ablation", True, "quick ~3 min; full ~30 min"),
    B("ddica.py", "speed", "ddica_speed", False, "quick ~1 min; full ~25 min (its accuracy part needs the data)"),
    B("fcls.py", "speed", "fcls_speed", False, "quick ~10 s; full ~2 min"),
    B("resources.py", "blockwise_memory", "blockwise_memory", False, "quick ~30 s; full ~3 min"),
    B("resources.py", "cancel_latency", "cancel_latency", False, "quick ~1 s; full ~10 s"),
    B("fcls.py", "large_scene", "large_scene", False, "quick ~2.5 min; full ~30 min and a 1.8 GiB scene in /tmp"),
    B("resources.py", "dip_tile_memory", "dip_tile_memory", False, "quick ~4 min; full ~8 min (3.5 GB peak)"),
    B("fcls.py", "fit_warning", "fit_warning", True, "full ~10 s", quick=None, full_only="a few seconds"),
    B("ddica.py", "default", "ddica_default", True, "quick ~2 min; full ~40 min with 2 workers"),
    # side pages: cited from the ddica_speed section (keep_fraction) or measured beside it (Jasper Ridge fit times)
    B(
        "ddica.py",
        "samson_keep",
        "ddica_samson_keep_fraction",
        True,
        "full ~15 min",
        quick=None,
        full_only="a sweep",
        section=False,
    ),
    B(
        "ddica.py",
        "speed_jasper",
        "ddica_speed_jasper",
        True,
        "full ~5 min",
        quick=None,
        full_only="two fits",
        section=False,
    ),
)

# benchmarks/*.py (not _*.py) that are not studies, and cases no run_all.py run can make, and why
HELPERS: Dict[str, str] = {
    "run_all.py": "the runner itself",
    "synthetic.py": "the synthetic scenes (USGS library spectra) of the studies, the tests and the demo",
}
NOT_RUN: Dict[str, str] = {
    "gpu:session": "needs a lent GPU (CUDA): it writes gpu_session.json and its log to --out, saved as "
    "results/gpu_session_h100_run*.json; gpu.py --case tables renders them",
}


def by_key() -> Dict[str, Benchmark]:
    """The registry keyed by ``study:case``."""
    return {b.key: b for b in BENCHMARKS}
