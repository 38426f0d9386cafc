"""DDICA on Samson (Zhu reference end3.mat): per-endmember abundance RMSE, aRMSE, SAD, wall time.

Ground truth is used only to score (Hungarian matching on abundance RMSE, as the paper's
table). Median over seeds; the 1-minute load average is recorded next to each timing because
other processes share the CPUs.

Zhu's reference abundances are shares of peak-normalised endmembers (NNLS with its ``M``, whose
columns peak at 1, then normalised to sum to one: that reproduces its ``A`` to ~0.002), not
linear-mixing fractions. Every fit is therefore scored three ways against it: in the reference's
own convention (DDICA's ``abundance_convention='peak_normalised'``, computed from the same fit's
endmembers), as fractions (the default output) and with the network's own maps (the kind of
output the paper reports, from the default variant's fit: not the paper's configuration). Fractions are also scored against Rasti's reference, which is in that convention.

    .venv/bin/python benchmarks/ddica_samson.py [--quick] [--seeds 5]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from _machine import canonical, machine, one_thread
from _tables import results_name, table, write

from deepunmix.engine.io.matfile import default_data_dir

ROOT = Path(__file__).resolve().parents[1]
PAPER = {
    "DDICA": [0.1524, 0.1948, 0.2401, 0.1958],
    "min-vol NMF": [0.1945, 0.2248, 0.1528, 0.1907],
    "FastICA": [0.2942, 0.4632, 0.4704, 0.4093],
}


SAMSON_ORDER = ("Soil", "Tree", "Water")  # Zhu's end3.mat order: the names of results saved without them
KEEP_FRACTIONS = (1.0, 0.5, 0.25, 0.125)  # --sweep-keep's cases (keep_fraction), each on every seed
KEEP_SWEEP = "ddica_samson_keep_fraction"  # the results name of --sweep-keep
# the default settings (100 steps with --quick) on each of --seeds seeds; --sweep-keep: each keep_fraction instead
CASES = {"configuration": ("DDICA defaults",), "keep_fraction (--sweep-keep)": KEEP_FRACTIONS}


def data_dir() -> Path:
    return default_data_dir()


def load_samson():
    """(cube (156, 95, 95) float32, A_ref (3, 95, 95), M_ref (156, 3), names) or None when absent."""
    folder = data_dir() / "samson"
    if not (folder / "samson_1.mat").exists() or not (folder / "end3.mat").exists():
        return None
    from deepunmix.engine.io.matfile import samson

    ds = samson(data_dir())
    return ds.cube, ds.abundances, ds.endmembers, ds.names


def load_rasti():
    """Rasti et al.'s Samson reference (abundances (3, 95, 95), endmembers (156, 3)) or None."""
    from deepunmix.engine.io.matfile import samson_rasti

    try:
        ds = samson_rasti(data_dir())
    except (FileNotFoundError, OSError):
        return None
    return ds.abundances, ds.endmembers


def reference_facts(data, rasti) -> dict:
    """How the two Samson references relate: as published, in one convention, and how well each fits the data."""
    from deepunmix.engine.abundances.convention import peak_normalised_abundances
    from deepunmix.engine.ddica.clustering import reconstruction_rmse
    from deepunmix.engine.reporting.metrics import score_unmixing

    cube, A_ref, M_ref, _ = data
    Y = cube.reshape(cube.shape[0], -1).astype(np.float64)
    A_zhu = A_ref.reshape(3, -1)
    facts = dict(
        recon_zhu=reconstruction_rmse(Y, A_zhu),
        zhu_from_its_M=score_unmixing(None, A_zhu, None, peak_normalised_abundances(Y, M_ref)[0], match_on="abundance")[
            "mean_rmse"
        ],
    )
    if rasti is not None:
        facts["zhu_vs_rasti"] = score_unmixing(M_ref, A_ref, rasti[1], rasti[0], match_on="abundance")["mean_rmse"]
        facts["recon_rasti"] = reconstruction_rmse(Y, rasti[0].reshape(3, -1))
        facts["rasti_peak_vs_zhu"] = score_unmixing(
            None, A_zhu, None, peak_normalised_abundances(Y, rasti[1])[0], match_on="abundance"
        )["mean_rmse"]
    return facts


def run_samson(settings: dict, seeds, data=None, log=print) -> list:
    """Fit DDICA(**settings) once per seed; one dict of scores per run."""
    from deepunmix.engine.abundances.convention import peak_normalised_abundances
    from deepunmix.engine.ddica import DDICA
    from deepunmix.engine.reporting.metrics import score_unmixing

    one_thread()
    cube, A_ref, M_ref, names = data if data is not None else load_samson()
    Y = cube.reshape(cube.shape[0], -1).astype(np.float64)
    rasti = load_rasti()
    rows = []
    for seed in seeds:
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        model = DDICA.build(3, random_state=seed, **settings).fit(cube)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        A_peak = peak_normalised_abundances(Y, model.endmembers_)[0]
        sc = score_unmixing(M_ref, A_ref, model.endmembers_, A_peak, Y=None, match_on="abundance")
        frac = score_unmixing(M_ref, A_ref, model.endmembers_, model.abundances_, Y=Y, match_on="abundance")
        net = score_unmixing(M_ref, A_ref, model.endmembers_, model.network_abundances_, match_on="abundance")
        ras = (
            score_unmixing(rasti[1], rasti[0], model.endmembers_, model.abundances_, match_on="abundance")
            if rasti is not None
            else None
        )
        rows.append(
            dict(
                seed=seed,
                seconds=dt,
                cpu_seconds=cpu,
                load_before=load0,
                load_after=os.getloadavg()[0],
                rmse=[float(v) for v in sc["rmse"]],
                mean_rmse=sc["mean_rmse"],
                armse=sc["armse"],
                sad=[float(v) for v in sc["sad"]],
                asad=sc["asad"],
                recon_rmse=frac["recon_rmse"],
                fractions_mean_rmse=frac["mean_rmse"],
                fractions_armse=frac["armse"],
                network_mean_rmse=net["mean_rmse"],
                network_armse=net["armse"],
                rasti_mean_rmse=ras["mean_rmse"] if ras else None,
                rasti_armse=ras["armse"] if ras else None,
                rasti_asad=ras["asad"] if ras else None,
                final_tc=float(model.loss_curve_[-1]),
                kept=model.kept_restarts_.tolist(),
            )
        )
        log(
            f"  seed {seed}: peak-normalised mean RMSE {sc['mean_rmse']:.4f} per-em {np.round(sc['rmse'], 4)} "
            f"aRMSE {sc['armse']:.4f} SAD {np.round(sc['sad'], 2)} | fractions {frac['mean_rmse']:.4f} | network "
            f"{net['mean_rmse']:.4f} | Rasti {ras['mean_rmse'] if ras else float('nan'):.4f} | time {dt:.1f}s "
            f"(CPU {cpu:.1f}s) load {load0:.1f}->{rows[-1]['load_after']:.1f}"
        )
    return rows


def summary(rows: list) -> dict:
    med = lambda k: None if rows[0].get(k) is None else float(np.median([r[k] for r in rows]))  # noqa: E731
    return dict(
        mean_rmse=med("mean_rmse"),
        armse=med("armse"),
        asad=med("asad"),
        seconds=med("seconds"),
        cpu_seconds=med("cpu_seconds"),
        fractions_mean_rmse=med("fractions_mean_rmse"),
        fractions_armse=med("fractions_armse"),
        network_mean_rmse=med("network_mean_rmse"),
        network_armse=med("network_armse"),
        rasti_mean_rmse=med("rasti_mean_rmse"),
        rasti_armse=med("rasti_armse"),
        rasti_asad=med("rasti_asad"),
        rmse=np.median([r["rmse"] for r in rows], 0).tolist(),
        sad=np.median([r["sad"] for r in rows], 0).tolist(),
    )


def sweep_keep(data, seeds, fractions=KEEP_FRACTIONS) -> None:
    """Median Samson scores for several keep_fraction values (restarts kept by reconstruction error)."""
    from deepunmix.engine.ddica.unmixing import DDICA

    n_restarts = DDICA().resolved_settings()["n_restarts"]
    res = []
    for kf in fractions:
        print(f"keep_fraction={kf}", flush=True)
        rows = run_samson(dict(keep_fraction=kf), seeds, data)
        res.append(dict(keep_fraction=kf, runs=rows, median=summary(rows)))
    payload = dict(meta=dict(machine(), seeds=seeds, n_restarts=n_restarts), sweep=res)
    print(write(KEEP_SWEEP, render_keep(payload), payload).read_text())


def render_keep(payload) -> str:
    """The Markdown page of a --sweep-keep run, from its results payload (meta, sweep)."""
    meta, res = canonical(payload["meta"]), payload["sweep"]
    n_restarts = meta["n_restarts"]
    body = [
        (r["keep_fraction"], max(1, round(n_restarts * r["keep_fraction"])), f"{r['median']['mean_rmse']:.4f}")
        + (", ".join(f"{x['mean_rmse']:.4f}" for x in r["runs"]), f"{r['median']['armse']:.4f}")
        + (f"{r['median']['cpu_seconds']:.1f}",)
        for r in res
    ]
    lines = [
        "# DDICA on Samson: label-free restart filtering",
        "",
        f"{meta['date_utc']}, {n_restarts} restarts, other settings default, seeds {meta['seeds']}. The kept restarts are those with the",
        "lowest reconstruction error (data vs. abundances x NNLS endmembers); no ground truth is used to choose.",
        "",
        table(("keep_fraction", "restarts kept", "median mean RMSE", "per seed", "median aRMSE", "median CPU s"), body),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2 seeds, 100 steps")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sweep-keep", action="store_true", help="also sweep keep_fraction (label-free restart filtering)")
    args = ap.parse_args()
    data = load_samson()
    if data is None:
        print("skipped: data absent (../shared/data/samson)")
        return
    if args.sweep_keep:
        sweep_keep(data, list(range(args.seeds)))
        return
    from deepunmix.engine.ddica import DDICA

    settings = dict(n_steps=100) if args.quick else {}
    seeds = list(range(2 if args.quick else args.seeds))
    print(f"DDICA on Samson, settings {settings or 'defaults'}, seeds {seeds}")
    rows = run_samson(settings, seeds, data)
    med = summary(rows)
    params = {k: v for k, v in DDICA(3).get_params().items() if k != "progress"}
    params.update(DDICA(3).resolved_settings())
    params.update(settings)
    meta = dict(
        machine(),
        seeds=seeds,
        settings=params,
        reference="samson/end3.mat (Zhu)",
        **reference_facts(data, load_rasti()),
    )
    meta.update(mode="quick" if args.quick else "full", endmembers=list(data[3]))
    payload = dict(meta=meta, runs=rows, median=med)
    print(write(results_name("ddica_samson", args.quick), render(payload), payload).read_text())


def superseded(settings: dict) -> list:
    """A banner line when the recorded settings are not today's default's (computed, so it goes stale by itself)."""
    from deepunmix.engine.ddica import DDICA

    today = DDICA(3).resolved_settings()
    diff = [
        f"{k} {settings[k]!r} (today {today[k]!r})"
        for k in today
        if k in settings
        and (list(settings[k]) if isinstance(settings[k], (list, tuple)) else settings[k])
        != (list(today[k]) if isinstance(today[k], (list, tuple)) else today[k])
    ]
    diff += [f"{k} not recorded (today {today[k]!r})" for k in today if k not in settings]
    if not diff:
        return []
    return [
        f"**Superseded**: these settings are not today's default ({'; '.join(diff)}); today's default is measured "
        "in `results/ddica_default.md`."
    ]


def render(payload) -> str:
    """The Markdown page of a run, from its results payload (meta, runs, median).

    The settings line prints the settings as Python writes them (tuples), as the fits saw them; a page rendered
    again from the JSON shows its lists instead.
    """
    meta, rows, med = canonical(payload["meta"]), payload["runs"], payload["median"]
    names = meta.get("endmembers", SAMSON_ORDER)
    f = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
    header = ("seed", *(f"RMSE {n}" for n in names), "mean RMSE", "aRMSE", *(f"SAD {n} (deg)" for n in names))
    header += ("fit s (wall)", "CPU s", "load 1-min before/after")
    formats = (None, *[".4f"] * len(names), ".4f", ".4f", *[".2f"] * len(names), ".1f", ".1f", None)
    body = [
        (r["seed"], *r["rmse"], r["mean_rmse"], r["armse"], *r["sad"], r["seconds"], r["cpu_seconds"])
        + (f"{r['load_before']:.1f}/{r['load_after']:.1f}",)
        for r in rows
    ]
    body.append(
        ("**median**", *med["rmse"], f"**{med['mean_rmse']:.4f}**", med["armse"], *med["sad"], med["seconds"])
        + (med["cpu_seconds"], "")
    )
    others = [
        ("peak-normalised shares", "Zhu", "mean_rmse", "armse"),
        ("fractions (default output)", "Zhu", "fractions_mean_rmse", "fractions_armse"),
        ("network maps of the same fits (not the paper variant)", "Zhu", "network_mean_rmse", "network_armse"),
    ]
    other_rows = [
        (output, ref, f(med[mean]), f(med[a]), ", ".join(f"{r[mean]:.3f}" for r in rows))
        for output, ref, mean, a in others
    ]
    other_rows.append(
        ("fractions (default output)", "Rasti", f(med["rasti_mean_rmse"]), f(med["rasti_armse"]))
        + (", ".join(f(r["rasti_mean_rmse"]) for r in rows),)
    )
    lines = [
        f"# DDICA on Samson ({meta.get('mode', 'full')})",
        "",
        f"{meta['date_utc']}, host {meta['host']} ({meta['logical_cpus']} cores, shared; torch threads 1), seeds {meta['seeds']}.",
        f"Settings: `{meta['settings']}`.",
        *superseded(meta["settings"]),
        "Reference: Zhu `end3.mat`; Hungarian matching on abundance RMSE for scoring only.",
        "Scored in the reference's own convention (shares of peak-normalised endmembers, DDICA option "
        "`abundance_convention='peak_normalised'`; see the module docstring).",
        "",
        table(header, body, formats),
        "",
        "The same fits, other outputs and references (medians; mean per-endmember RMSE / aRMSE):",
        "",
        table(("output", "reference", "mean RMSE", "aRMSE", "per seed (mean RMSE)"), other_rows),
        "",
        f"SAD against Rasti's endmembers, median of the mean: {f(med['rasti_asad'])} deg.",
        "",
        "The references themselves (no DDICA involved): NNLS with Zhu's own `M` (peak 1) then normalised to sum to "
        f"one reproduces Zhu's `A` to {f(meta.get('zhu_from_its_M'))} mean RMSE; Zhu vs Rasti as published "
        f"{f(meta.get('zhu_vs_rasti'))}; Rasti's reference expressed the same way with its own endmembers "
        f"{f(meta.get('rasti_peak_vs_zhu'))} from Zhu's. Reconstruction RMSE with NNLS endmembers: Zhu "
        f"{f(meta.get('recon_zhu'))}, Rasti {f(meta.get('recon_rasti'))}.",
        "",
        "CPU s is the process CPU time (one torch thread): about the wall time on an otherwise idle core.",
        "",
        "Paper (Li et al. 2022, Table 2; 1000 restarts, outputs matched to the truth, network maps scored "
        "against Zhu's reference): " + "; ".join(f"{k} {v[-1]}" for k, v in PAPER.items()) + ".",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
