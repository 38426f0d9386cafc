"""Reproduce the DDICA paper's Tables 1 and 2 with this project's comparators (one process).

Table 1: post-nonlinear (PNL) separation, mean |rho| between each source and its matched output
(Hungarian on |corr|), for FastICA, Infomax, MISEP and MINE-ICA (run here) and the deep ICA rows
read from benchmarks/ddica.py --case pnl's results (results/ddica_pnl.json; run it first, same seeds):
"DDICA" is DeepICA(variant='paper'), the paper's network, beside the untrained paper network,
the default PNL model (Gaussianise + FastICA start, TC-refined), the same untrained, and FastICA
on Gaussianised inputs. Data: benchmarks/ddica.py make_pnl (speech-like stand-ins; the paper's recordings are
not available), n = 20000 samples, a new mixture per seed.
Table 2: Samson (Zhu reference, end3.mat), per-endmember abundance RMSE for FastICA, Infomax,
min-vol NMF, MINE-ICA and DDICA (default output and network maps), each also scored in the
reference's own abundance convention (shares of peak-normalised endmembers). ICA outputs become abundances with
engine.comparators.ica_to_abundances (the same rule for every ICA method). Every method's maps are
matched to the reference by Hungarian on map RMSE (ground truth is used only to score).

Per cell: median over seeds of the score, wall time, and peak RSS increase over the cell (a
10 ms sampling thread; includes torch). BLAS and torch run single-threaded.

Usage: .venv/bin/python benchmarks/paper_tables.py --case tables [--quick] [--seeds N] [--table1-only]
(--table1-only re-runs Table 1 and reuses Table 2 from the last results/paper_tables.json, saying so.)
Writes benchmarks/results/paper_tables.md, .json (run_all.py puts the page at the head of RESULTS.md) and
the figures results/paper_tables/*.png (--quick: under results/quick/).
"""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import _harness as h
import numpy as np
from _harness import Case, main
from _machine import machine, one_thread
from _tables import RESULTS, results_name, table, write
from baselines import MINEICA, MISEP, FastICA, InfomaxICA
from threadpoolctl import threadpool_limits

from deepunmix.engine.extraction.minvol_nmf import MinVolNMF
from deepunmix.engine.io.matfile import default_data_dir
from deepunmix.engine.reporting.metrics import matched_abs_corr, score_unmixing

ROOT = Path(__file__).resolve().parents[1]

PAPER_T1 = {"FastICA": 0.7132, "Infomax": 0.6646, "MISEP": 0.9133, "MINE": 0.7690, "DDICA": 0.9527}
PAPER_T2 = {  # Soil, Tree, Water, Average
    "FastICA": [0.2942, 0.4632, 0.4704, 0.4093],
    "Infomax": [0.4198, 0.4426, 0.4913, 0.4512],
    "min-vol NMF": [0.1945, 0.2248, 0.1528, 0.1907],
    "MINE": [0.3319, 0.3828, 0.3911, 0.3686],
    "DDICA": [0.1524, 0.1948, 0.2401, 0.1958],
}
ASSEMBLE = "benchmarks/run_all.py --assemble-only puts it at the head of RESULTS.md (make bench does)"
SAMSON_NAMES = ("Soil", "Tree", "Water")
# the methods run for each table, in row order, each on every seed of the mode; Table 1's deep ICA rows come from
# results/ddica_pnl.json (DEEP_ICA_ROWS), Table 2 adds a row for the paper variant (its label gives T and width)
TABLES = {
    "table1": ("FastICA", "Infomax", "MISEP", "MINE"),
    "table2": ("FastICA", "Infomax", "min-vol NMF", "MINE", "DDICA"),
}
N_PNL = 20000  # samples per PNL mixture (as in benchmarks/ddica.py --case pnl)
SETTINGS = {
    "full": {
        "seeds": 5,
        "misep_iter": 1500,
        "mine_iter": 2000,
        "mine_iter_samson": 1000,
        "ddica": {},
        "paper_restarts": 8,
        "paper_width": 256,
    },
    "quick": {
        "seeds": 2,
        "misep_iter": 300,
        "mine_iter": 300,
        "mine_iter_samson": 200,
        "ddica": {"n_steps": 60, "n_restarts": 4},
        "paper_restarts": 2,
        "paper_width": 32,
    },
}


# ---------------------------------------------------------------- measurement
class PeakRSS:
    """Peak resident-set increase (MiB) while the block runs, sampled every 10 ms from /proc."""

    def __enter__(self):
        self._page = os.sysconf("SC_PAGE_SIZE")
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _poll(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())
        self.mib = (self.peak - self.start) / 2**20
        return False


def run_cell(fn):
    """(result or None, wall seconds, peak RSS increase MiB, error text or None)."""
    t0 = time.perf_counter()
    try:
        with PeakRSS() as mem:
            result = fn()
        return result, time.perf_counter() - t0, mem.mib, None
    except Exception as exc:  # noqa: BLE001 - a failing method must not stop the table
        return None, time.perf_counter() - t0, float("nan"), f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------- methods
DEEP_ICA_ROWS = {  # Table 1 row -> key in results/ddica_pnl.json (written by benchmarks/ddica.py --case pnl)
    "DDICA": "paper",
    "DDICA untrained (paper network, 0 steps)": "paper_untrained",
    "DeepICA PNL model (default)": "pnl",
    "PNL model untrained (Gaussianise + FastICA start)": "pnl_untrained",
    "FastICA on Gaussianised inputs": "gauss_fastica",
}


def deep_ica_rows(quick, seeds):
    """Table 1 deep ICA rows from benchmarks/ddica.py --case pnl's last results, or an error cell per seed."""
    path = RESULTS / f"{results_name('ddica_pnl', quick)}.json"
    runs, why = {}, None
    if not path.is_file():
        why = f"{path.name} absent: run benchmarks/ddica.py --case pnl{' --quick' if quick else ''} first"
    else:
        data = json.loads(path.read_text())
        if data["meta"]["n_samples"] != N_PNL:
            why = f"{path.name} has n={data['meta']['n_samples']}; need n={N_PNL}"
        else:
            runs, date = data["runs"], data["meta"]["date"]
    rows = {}
    for name, key in DEEP_ICA_ROWS.items():
        if why:
            rows[name] = [{"seed": s, "error": why} for s in seeds]
            continue
        by_seed = {r["seed"]: r for r in runs[key]}
        rows[name] = [
            {
                "seed": s,
                "mean_abs_rho": by_seed[s]["mean_abs_rho"],
                "wall_s": by_seed[s]["seconds"],
                "peak_rss_mib": float("nan"),
                "from": f"results/{path.name} ({date})",
            }
            if s in by_seed
            else {"seed": s, "error": f"seed {s} not in {path.name}"}
            for s in seeds
        ]
    return rows, (why or f"results/{path.name} ({date})")


def paper_variant_settings(cfg) -> dict:
    """DDICA(variant='paper') with T and the hidden width this CPU allows (the paper: T = 1000, the authors: 4096)."""
    return dict(variant="paper", n_restarts=cfg["paper_restarts"], hidden_units=(cfg["paper_width"],) * 6)


def paper_variant_label(cfg) -> str:
    return f"DDICA (paper variant, T={cfg['paper_restarts']}, width {cfg['paper_width']})"


def ddica_factory(cfg):
    try:
        from deepunmix.engine.ddica.unmixing import DDICA
    except ImportError as exc:
        return None, f"engine.ddica.unmixing unavailable ({exc})"
    return (lambda seed: DDICA.build(n_endmembers=3, random_state=seed, device="cpu", **cfg["ddica"])), None


def pnl_generator():
    """(make(n, seed) -> (S, X), description): the generator of ``ddica.py --case pnl``."""
    from ddica import make_pnl

    return make_pnl, "benchmarks/ddica.py make_pnl (harmonic speech-like sources with syllable bursts)"


def table1(cfg, seeds, log):
    make_pnl, _ = pnl_generator()

    makers = {
        "FastICA": lambda s: FastICA(3, random_state=s),
        "Infomax": lambda s: InfomaxICA(3, random_state=s),
        "MISEP": lambda s: MISEP(3, max_iter=cfg["misep_iter"], batch_size=2000, random_state=s),
        "MINE": lambda s: MINEICA(3, encoder="mlp", max_iter=cfg["mine_iter"], random_state=s),
    }
    rows = {}
    for name in TABLES["table1"]:
        make = makers[name]
        cells = []
        for s in seeds:
            S, X = make_pnl(N_PNL, s)

            def go(make=make, s=s, S=S, X=X):
                out = make(s).fit(X).transform(X)
                return matched_abs_corr(S, np.asarray(out)[:, :3])

            res, wall, mib, err = run_cell(go)
            cell = {"seed": s, "wall_s": wall, "peak_rss_mib": mib}
            if err:
                cell["error"] = err
            else:
                cell["abs_rho"] = [float(v) for v in res]
                cell["mean_abs_rho"] = float(np.mean(res))
            cells.append(cell)
            log(f"T1 {name} seed {s}: {cell.get('mean_abs_rho', cell.get('error'))} ({wall:.1f} s)")
        rows[name] = cells
    deep, source = deep_ica_rows(cfg is SETTINGS["quick"], seeds)
    log(f"T1 deep ICA rows from {source}")
    return {**rows, **deep}


def table2(cfg, seeds, log, maps_out, only=None):
    """Per method and seed: maps scored as they are, and in the Zhu reference's own convention.

    Zhu's reference abundances are shares of peak-normalised endmembers (see
    engine/abundances/convention.py). For the second score every method's endmembers (its own, or
    NNLS endmembers from its maps for the ICA methods) are turned into such shares with the same
    label-free rule. DDICA's fit also yields its network maps (the paper's output), reported as a
    row of their own.
    """
    from deepunmix.engine.abundances.convention import peak_normalised_abundances
    from deepunmix.engine.ddica.clustering import nnls_endmembers
    from deepunmix.engine.io.matfile import samson

    ds = samson()
    cube, A_ref = ds.cube, ds.abundances
    Y = cube.reshape(cube.shape[0], -1).astype(np.float64)

    def ica(make):
        return lambda s: {"maps": make(s).unmix_cube(cube)}

    def est(make):
        def fit(s):
            model = make(s).fit(cube)
            out = {"maps": model.abundances_, "E": model.endmembers_}
            if hasattr(model, "network_abundances_"):
                out["network"] = model.network_abundances_
            return out

        return fit

    def score(maps, E):
        A = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
        sc = score_unmixing(None, A_ref, None, maps, match_on="abundance")
        E = nnls_endmembers(Y, A) if E is None else E
        pk = score_unmixing(None, A_ref, None, peak_normalised_abundances(Y, E)[0], match_on="abundance")
        return sc, {
            "rmse": [float(v) for v in sc["rmse"]],
            "mean_rmse": float(sc["mean_rmse"]),
            "peak_rmse": [float(v) for v in pk["rmse"]],
            "peak_mean_rmse": float(pk["mean_rmse"]),
        }

    methods = {
        "FastICA": ica(lambda s: FastICA(3, random_state=s)),
        "Infomax": ica(lambda s: InfomaxICA(3, random_state=s)),
        "min-vol NMF": est(lambda s: MinVolNMF(3, random_state=s)),
        "MINE": ica(lambda s: MINEICA(3, encoder="mlp", max_iter=cfg["mine_iter_samson"], random_state=s)),
    }
    ddica, why = ddica_factory(cfg)
    methods["DDICA"] = est(ddica) if ddica else None
    if ddica:
        from deepunmix.engine.ddica.unmixing import DDICA

        def paper_fit(s):  # the variant's output is its network maps; endmembers (for the convention score) by NNLS
            return {
                "maps": DDICA.build(3, random_state=s, device="cpu", **paper_variant_settings(cfg))
                .fit(cube)
                .abundances_
            }

        methods[paper_variant_label(cfg)] = paper_fit
    rows = {}
    for name in [*TABLES["table2"], *(m for m in methods if m not in TABLES["table2"])]:
        fit = methods[name]
        if only is not None and name not in only:
            continue
        cells, network_cells = [], []
        for s in seeds:
            if fit is None:
                cells.append({"seed": s, "error": why})
                continue
            res, wall, mib, err = run_cell(lambda fit=fit, s=s: fit(s))
            cell = {"seed": s, "wall_s": wall, "peak_rss_mib": mib}
            if err:
                cell["error"] = err
            else:
                sc, scores = score(res["maps"], res.get("E"))
                cell.update(scores)
                if s == seeds[0]:
                    maps_out[name] = np.asarray(res["maps"])[sc["perm"]]
                if "network" in res:  # the network maps of the same fit; endmembers by NNLS from them
                    network_cells.append(
                        {"seed": s, "wall_s": wall, "peak_rss_mib": mib, **score(res["network"], None)[1]}
                    )
            cells.append(cell)
            log(
                f"T2 {name} seed {s}: {cell.get('mean_rmse', cell.get('error'))}, reference's convention "
                f"{cell.get('peak_mean_rmse')} ({wall:.1f} s)"
            )
        rows[name] = cells
        if network_cells:
            rows[f"{name} (network maps)"] = network_cells
    return rows, A_ref, ds.names


# ---------------------------------------------------------------- reporting
def med(cells, key, idx=None):
    vals = [c[key] if idx is None else c[key][idx] for c in cells if key in c]
    return float(np.median(vals)) if vals else None


def fmt(v, digits=4):
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def errors_of(cells):
    errs = sorted({c["error"] for c in cells if "error" in c})
    return "; ".join(errs)


def save(meta, t1, t2, quick: bool) -> Path:
    """results/paper_tables.md and .json (results/quick/ with --quick); run_all.py puts the page at RESULTS.md's head."""
    payload = {"meta": meta, "table1": t1, "table2": t2}
    return write(results_name("paper_tables", quick), render(payload), payload)


DDICA_DEFAULT_CHANGED = "2026-12-06"  # DDICA rows run before this measured an earlier default


def render(payload, names=SAMSON_NAMES) -> str:
    """RESULTS.md's head (the paper's Tables 1 and 2), from paper_tables.json's payload (meta, table1, table2)."""
    meta, t1, t2 = payload["meta"], payload["table1"], payload["table2"]
    n_ok = lambda cells: sum("error" not in c for c in cells)  # noqa: E731
    lines = [
        "# DDICA paper tables, reproduced with DeepUnmix",
        "",
        f"Generated by `benchmarks/paper_tables.py{' --quick' if meta['mode'] == 'quick' else ''}` on "
        f"{meta['date']} ({meta['mode']} mode, seeds {meta['seeds']}; medians over seeds)"
        + (
            f"; Table 2's DDICA rows re-run alone on {meta['paper_variant_run']} (`--ddica-only`)"
            if meta.get("paper_variant_run")
            else ""
        )
        + ".",
        "",
        f"Machine: {meta['machine']['cpu']}, {meta['machine']['logical_cpus']} logical CPUs, "
        f"load average at start {', '.join(f'{x:.1f}' for x in meta['machine']['load_average_at_start'])} "
        f"(shared machine: times are indicative), Python {meta['machine']['python']}, numpy "
        f"{meta['machine']['numpy']}, torch {meta['machine']['torch']}, BLAS and torch 1 thread.",
        "",
        "Memory: peak resident-set increase during the cell (10 ms sampling), MiB; memory already "
        "held by the allocator from earlier cells is not counted again.",
        "",
        "## Table 1: PNL separation, mean |rho| (higher is better)",
        "",
        f"Data: {meta['pnl_data']}: two speech-like sources and uniform noise, 3x3 mix, then tanh, "
        f"(x+x^3)/2, exp; n = {N_PNL}; seed s draws the mixture and initialises the method. The paper "
        "used two speech recordings, so its numbers are a reference point, not a like-for-like target. "
        "**DDICA** is the paper's deep ICA (`DeepICA(variant='paper')`); the paper reports the mean of 10 "
        "repeats. The deep ICA rows come from `benchmarks/ddica.py --case pnl` "
        f"({meta.get('deep_ica_source', 'results/ddica_pnl.json')}; its section below has the per-seed numbers "
        'and the step count the CPU allowed); the other rows are run here. "DeepICA PNL model" is this '
        "project's default (Gaussianise + FastICA-initialised PNL model refined by TC), not the paper's network.",
        "",
        *(
            [f"FastICA, Infomax, MISEP and MINE rows not re-run in this run: from {meta['table1_from']}.", ""]
            if meta.get("table1_from")
            else []
        ),
    ]
    body1 = []
    for name, cells in t1.items():
        vals = [c["mean_abs_rho"] for c in cells if "mean_abs_rho" in c]
        rng = f"{min(vals):.3f}..{max(vals):.3f}" if vals else "n/a"
        paper = f"{PAPER_T1[name]:.4f}" if name in PAPER_T1 else ""
        body1.append(
            (name, paper, fmt(med(cells, "mean_abs_rho")), fmt(float(np.mean(vals)) if vals else None), rng)
            + (f"{n_ok(cells)}/{len(cells)}", fmt(med(cells, "wall_s"), 1), fmt(med(cells, "peak_rss_mib"), 0))
            + (meta["settings_t1"].get(name, "see benchmarks/ddica.py --case pnl"),)
        )
    header1 = ("Method", "paper", "ours (median)", "ours (mean)", "min..max", "runs", "wall s (median)")
    lines += [
        table((*header1, "peak MiB (median)", "settings"), body1),
        "",
        "## Table 2: Samson, per-endmember abundance RMSE (lower is better)",
        "",
        *(
            [f"Table 2 not re-run in this run: reused from {meta['table2_from']}.", ""]
            if meta.get("table2_from")
            else []
        ),
        'Reference: Zhu `end3.mat`. Maps matched to the reference by Hungarian on map RMSE. "ours": each '
        "method's maps as it outputs them (DDICA: the default variant's output; \"DDICA (network maps)\": the "
        "same fits' network maps, renormalised, not the paper's configuration; \"DDICA (paper variant, ...)\": "
        "`DDICA(variant='paper')`, the paper's configuration and output (min-max network maps), with the "
        "restarts T and hidden width this CPU allows, as the row says; the paper used T = 1000 and the "
        "authors' code 4096 units). \"ref. "
        "convention\": the same endmembers (the method's own, or NNLS from its maps) expressed as shares of "
        "peak-normalised endmembers, the convention Zhu's reference was made in "
        "(`engine/abundances/convention.py`). The paper's DDICA numbers are shown on every DDICA row. Each "
        "material column is the median over seeds; Average is the mean of those columns (the median of the "
        "per-seed averages is in paper_tables.json as `mean_rmse`). The DDICA default's settings were chosen on "
        "this scene's ground truth (benchmarks/results/ddica_ablation.md, ddica_default.md); the other methods run "
        "at their defaults, so Samson is not an unseen scene for DDICA.",
        "",
    ]
    body2 = []
    for name, cells in t2.items():
        paper = PAPER_T2.get(name.split(" (")[0])
        ours = [med(cells, "rmse", i) for i in range(len(names))]
        ours.append(None if None in ours else float(np.mean(ours)))  # the Average of the columns shown
        pairs = [c for i in range(len(names) + 1) for c in (f"{paper[i]:.4f}", fmt(ours[i]))]
        body2.append(
            (name, *pairs, fmt(med(cells, "peak_mean_rmse")), f"{n_ok(cells)}/{len(cells)}")
            + (fmt(med(cells, "wall_s"), 1), fmt(med(cells, "peak_rss_mib"), 0))
        )
    header2 = ("Method", *(f"{n} {what}" for n in [*names, "Average"] for what in ("paper", "ours")))
    lines.append(table((*header2, "Average, ref. convention", "runs", "wall s", "peak MiB"), body2))
    lines += ["", "Settings (Table 2): " + "; ".join(f"{k}: {v}" for k, v in meta["settings_t2"].items()), ""]
    ddica_run = meta.get("paper_variant_run") or meta["date"]
    if ddica_run < DDICA_DEFAULT_CHANGED:
        lines += [
            f"**Superseded DDICA rows**: run on {ddica_run}, before DDICA's default changed on "
            f"{DDICA_DEFAULT_CHANGED} (issue 23: every restart kept, endmembers from the maps' 1 % purest pixels). "
            "Today's default on Samson, beside the extractors, BUDDIP and its untrained row: "
            "`results/ddica_default.md`.",
            "",
        ]
    errs = [
        f"- {t} {name}: {errors_of(cells)}"
        for t, tab in (("T1", t1), ("T2", t2))
        for name, cells in tab.items()
        if errors_of(cells)
    ]
    if errs:
        lines += ["## Methods that did not run", "", *errs, ""]
    lines += [
        "Figures (`results/paper_tables/`): `paper_table1.png`, `paper_table2.png`, `paper_table2_maps.png` (first seed)"
        + (
            f"; from the full run of {meta['date']}: **superseded**, their DDICA bars and maps show the default "
            "of that date, not the DDICA rows above"
            if meta.get("paper_variant_run")
            else ""
        )
        + ".",
        "Raw per-seed numbers: `results/paper_tables.json`.",
        "",
    ]
    return "\n".join(lines)


def figures(out_dir, t1, t2, maps, A_ref, names):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    m = list(t1)
    x = np.arange(len(m))
    ax.bar(x - 0.2, [PAPER_T1.get(k, 0) for k in m], 0.4, label="paper")
    ax.bar(x + 0.2, [med(t1[k], "mean_abs_rho") or 0 for k in m], 0.4, label="ours (median)")
    ax.set_xticks(x, [k.replace(" (", "\n(") for k in m], fontsize=6, rotation=30, ha="right")
    ax.set_ylabel("|rho|")
    ax.set_title("Table 1: PNL separation (DDICA = DeepICA variant='paper')")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "paper_table1.png", dpi=110)
    plt.close(fig)
    if A_ref is None:  # Table 2 not re-run: its figures stay as they are
        return

    fig, ax = plt.subplots(figsize=(7, 3.5))
    m = list(t2)
    x = np.arange(len(m))
    ax.bar(x - 0.27, [PAPER_T2[k.split(" (")[0]][-1] for k in m], 0.27, label="paper")
    ax.bar(x, [med(t2[k], "mean_rmse") or 0 for k in m], 0.27, label="ours (median)")
    ax.bar(x + 0.27, [med(t2[k], "peak_mean_rmse") or 0 for k in m], 0.27, label="ours, reference's convention")
    ax.set_xticks(x, [k.replace(" (", "\n(") for k in m], fontsize=8)
    ax.set_ylabel("mean RMSE")
    ax.set_title("Table 2: Samson abundance RMSE")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "paper_table2.png", dpi=110)
    plt.close(fig)

    rows = [("reference", A_ref), *maps.items()]
    fig, axes = plt.subplots(len(rows), len(names), figsize=(2.2 * len(names), 2.1 * len(rows)), squeeze=False)
    for r, (label, A) in enumerate(rows):
        for c in range(len(names)):
            axes[r, c].imshow(A[c], vmin=0, vmax=1, cmap="viridis")
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(names[c])
        axes[r, 0].set_ylabel(label)
    fig.tight_layout()
    fig.savefig(out_dir / "paper_table2_maps.png", dpi=90)
    plt.close(fig)


def rerun_paper_variant(cfg, mode, args) -> None:
    """Table 2's DDICA rows alone (default, its network maps, paper variant), merged into the saved results."""
    one_thread()
    quick = mode == "quick"
    saved_path = RESULTS / f"{results_name('paper_tables', quick)}.json"
    saved = json.loads(saved_path.read_text())
    meta, t1, t2 = saved["meta"], saved["table1"], saved["table2"]
    seeds = list(range(args.seeds or len(meta["seeds"])))
    t_start = time.perf_counter()
    log = lambda msg: print(f"[{time.perf_counter() - t_start:7.1f}s] {msg}", flush=True)  # noqa: E731
    label = paper_variant_label(cfg)
    with threadpool_limits(1):
        rows, _, _ = table2(cfg, seeds, log, {}, only={label, "DDICA"})
    t2 = {k: v for k, v in t2.items() if not k.startswith("DDICA")}
    t2.update(rows)
    meta["settings_t2"] = {k: v for k, v in meta["settings_t2"].items() if not k.startswith("DDICA (paper variant")}
    meta["settings_t2"][label] = f"engine.ddica.unmixing.DDICA {paper_variant_settings(cfg)}"
    meta["settings_t2"]["DDICA"] = f"engine.ddica.unmixing.DDICA {cfg['ddica'] or 'defaults'}"
    meta["paper_variant_run"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    save(meta, t1, t2, quick)
    log(f"DDICA rows written ({label}); {ASSEMBLE}")


def tables_main() -> None:
    ap = h.parser(__doc__)
    ap.add_argument("--quick", action="store_true", help="2 seeds, short training (< 10 min)")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5, quick 2)")
    ap.add_argument(
        "--table1-only",
        action="store_true",
        help="re-run Table 1; reuse Table 2 from the last results/paper_tables*.json (said in the output)",
    )
    ap.add_argument(
        "--deep-ica-only",
        action="store_true",
        help="run nothing: re-read Table 1's deep ICA rows from results/ddica_pnl*.json, reuse the rest "
        "of the last results/paper_tables*.json (said in the output)",
    )
    ap.add_argument("--paper-restarts", type=int, default=None, help="T of the DDICA paper-variant row")
    ap.add_argument("--paper-width", type=int, default=None, help="hidden width of the DDICA paper-variant row")
    ap.add_argument(
        "--paper-variant-only",
        "--ddica-only",
        action="store_true",
        help="run only Table 2's DDICA rows (default variant, its network maps, paper variant); keep every "
        "other number from the saved JSON",
    )
    ap.add_argument("--rewrite-only", action="store_true", help="rewrite the markdown from the saved JSON; run nothing")
    args = ap.parse_args()
    mode = "quick" if args.quick else "full"
    cfg = dict(SETTINGS[mode])
    cfg["paper_restarts"] = args.paper_restarts or cfg["paper_restarts"]
    cfg["paper_width"] = args.paper_width or cfg["paper_width"]
    if args.rewrite_only:
        saved = json.loads((RESULTS / f"{results_name('paper_tables', args.quick)}.json").read_text())
        save(saved["meta"], saved["table1"], saved["table2"], args.quick)
        print(ASSEMBLE)
        return
    if args.paper_variant_only:
        rerun_paper_variant(cfg, mode, args)
        return
    seeds = list(range(args.seeds or cfg["seeds"]))
    data = default_data_dir()
    one_thread()
    t_start = time.perf_counter()
    log = lambda msg: print(f"[{time.perf_counter() - t_start:7.1f}s] {msg}", flush=True)  # noqa: E731
    meta = {
        "mode": mode,
        "seeds": seeds,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": dict(machine(), threads="BLAS 1, torch 1"),
        "pnl_data": pnl_generator()[1],
        "n_pnl": N_PNL,
        "settings_t1": {
            "FastICA": "sklearn, logcosh",
            "Infomax": "extended, defaults",
            "MISEP": f"{cfg['misep_iter']} steps, batch 2000",
            "MINE": f"mlp encoder, {cfg['mine_iter']} steps, batch 512",
            "DDICA": "DeepICA(variant='paper'), from benchmarks/ddica.py --case pnl",
        },
        "settings_t2": {
            "FastICA": "ica_to_abundances",
            "Infomax": "ica_to_abundances",
            "min-vol NMF": "MinVolNMF defaults (VCA init, lam 0.1, delta 0.1)",
            "MINE": f"mlp encoder, {cfg['mine_iter_samson']} steps, ica_to_abundances",
            "DDICA": f"engine.ddica.unmixing.DDICA {cfg['ddica'] or 'defaults'}",
            paper_variant_label(cfg): f"engine.ddica.unmixing.DDICA {paper_variant_settings(cfg)}",
        },
    }
    quick = mode == "quick"
    last = RESULTS / f"{results_name('paper_tables', quick)}.json"
    with threadpool_limits(1):
        if args.deep_ica_only:
            old = json.loads(last.read_text())
            deep, _ = deep_ica_rows(quick, seeds)
            t1 = {**{k: v for k, v in old["table1"].items() if k not in DEEP_ICA_ROWS}, **deep}
            meta["machine"]["load_average_at_start"] = old["meta"]["machine"]["load_average_at_start"]
            meta["table1_from"] = (
                f"{last.name} of {old['meta'].get('table1_date', old['meta']['date'])} "
                "(not re-run; deep ICA rows re-read)"
            )
            meta["table1_date"] = old["meta"].get("table1_date", old["meta"]["date"])
        else:
            t1 = table1(cfg, seeds, log)
        meta["deep_ica_source"] = next((c["from"] for c in t1["DDICA"] if "from" in c), "results/ddica_pnl.json absent")
        maps = {}
        if args.table1_only or args.deep_ica_only:
            old = json.loads(last.read_text())
            t2, A_ref = old["table2"], None
            meta["settings_t2"] = old["meta"]["settings_t2"]
            meta["table2_date"] = old["meta"].get("table2_date", old["meta"]["date"])  # when Table 2 was really run
            meta["table2_from"] = f"{last.name} of {meta['table2_date']} (not re-run; seeds {old['meta']['seeds']})"
            log(f"Table 2 reused from {meta['table2_from']}")
        elif (data / "samson" / "samson_1.mat").is_file():
            os.environ.setdefault("DEEPUNMIX_SHARED_DATA", str(data))
            t2, A_ref, _ = table2(cfg, seeds, log, maps)
        else:
            print("Table 2 skipped: data absent")
            t2, A_ref = {}, None
    names = list(SAMSON_NAMES)
    meta["total_wall_s"] = time.perf_counter() - t_start
    # the full run owns the figures beside RESULTS.md; --quick writes its own without overwriting them
    fig_dir = RESULTS / results_name("paper_tables", quick)
    fig_dir.mkdir(parents=True, exist_ok=True)
    md = save(meta, t1, t2, quick)
    try:
        if t2:
            figures(fig_dir, t1, t2, maps, A_ref, names)
    except Exception:  # noqa: BLE001 - figures are a bonus; never lose the tables for them
        traceback.print_exc()
    log(f"wrote {md}; {ASSEMBLE}")


CASES = {"tables": Case("paper_tables", tables_main, render, TABLES)}

if __name__ == "__main__":
    main(CASES)
