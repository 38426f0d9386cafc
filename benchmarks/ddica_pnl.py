"""The DDICA paper's Table 1 PNL experiment: its deep ICA beside this project's PNL model and baselines.

Two non-stationary speech-like sources (harmonic carriers with a wandering pitch, amplitude
modulated by syllable-like bursts and silences) and one uniform noise source are mixed by a
random 3x3 matrix, then passed through tanh(x), (x + x^3)/2 and exp(x), one per channel
(the DDICA paper's PNL set-up; its speech recordings are not available here). Score: mean
|Pearson rho| between each true source and its Hungarian-matched estimate (matching for
scoring only). A new mixture per seed; mean (the paper averages 10 repeats), median and range.

Rows: DeepICA(variant='paper') (the paper's network, batch 2000: one step eigendecomposes four
2000x2000 Gram matrices, so the step count is what the CPU allows, see --paper-steps), the same
untrained (0 steps), the default PNL model trained and untrained (0 steps: Gaussianisation +
FastICA start), the PNL model from a random start, FastICA on Gaussianised inputs
(scikit-learn QuantileTransformer + FastICA, independent of DeepICA) and FastICA on the raw
mixtures. Torch and BLAS 1 thread.

    nice -n 10 .venv/bin/python benchmarks/ddica_pnl.py [--quick] [--seeds 5] [--paper-steps 60]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from _machine import canonical, machine, one_thread
from _tables import RESULTS, results_name, table, write

from deepunmix.engine.reporting.metrics import matched_abs_corr

ROOT = Path(__file__).resolve().parents[1]
# the compared methods (the tables' rows, in this order; labels and fits in rows_for), each run on every seed
CASES = ("paper", "paper_untrained", "pnl", "pnl_untrained", "pnl_random_init", "gauss_fastica", "fastica")


def speech_like(n: int, rng: np.random.Generator, f0: float, rate: int = 16000) -> np.ndarray:
    """Harmonic carrier with vibrato, gated by smoothed random syllables and silences."""
    t = np.arange(n) / rate
    env = np.zeros(n)
    pos = 0
    while pos < n:
        length = int(rng.integers(rate // 20, rate // 5))
        env[pos : pos + length] = 0.0 if rng.random() < 0.3 else rng.uniform(0.3, 1.0)
        pos += length
    win = np.hanning(rate // 40)
    env = np.convolve(env, win / win.sum(), mode="same")
    pitch = f0 * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 2 * np.pi)))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    carrier = sum(np.sin(h * phase + rng.uniform(0, 2 * np.pi)) / h for h in range(1, 6))
    return env * carrier + 0.05 * env * rng.laplace(size=n)


def make_pnl(n: int, seed: int):
    """Sources S (n, 3) and PNL mixtures X (n, 3)."""
    rng = np.random.default_rng(seed)
    S = np.stack([speech_like(n, rng, 120.0), speech_like(n, rng, 210.0), rng.uniform(-1, 1, n)], 1)
    S = (S - S.mean(0)) / S.std(0)
    A = rng.uniform(-1, 1, (3, 3)) + np.eye(3)
    Z = S @ A.T
    Z = Z / Z.std(0)
    X = np.stack([np.tanh(Z[:, 0]), (Z[:, 1] + Z[:, 1] ** 3) / 2, np.exp(Z[:, 2])], 1)
    return S, X


def gaussianised_fastica(X: np.ndarray, seed: int) -> np.ndarray:
    """Classical PNL recipe: per-channel Gaussianisation (empirical CDF -> normal quantile), then FastICA."""
    from sklearn.decomposition import FastICA
    from sklearn.preprocessing import QuantileTransformer

    G = QuantileTransformer(n_quantiles=1000, output_distribution="normal", random_state=seed).fit_transform(X)
    return FastICA(3, whiten="unit-variance", random_state=seed, max_iter=1000).fit_transform(G)


def rows_for(args):
    """(key, label, fit(X, seed) -> (estimate, model or None))."""
    from sklearn.decomposition import FastICA

    from deepunmix.engine.ddica import DeepICA

    def deep(**kw):
        def fit(X, seed):
            model = DeepICA.build(3, random_state=seed, **kw)
            return model.fit_transform(X), model

        return fit

    pnl_steps = 50 if args.quick else None
    fits = [
        (
            "paper",
            f"DDICA paper variant (DeepICA variant='paper', {args.paper_steps} steps)",
            deep(variant="paper", n_steps=args.paper_steps),
        ),
        ("paper_untrained", "DDICA paper variant, untrained (0 steps)", deep(variant="paper", n_steps=0)),
        ("pnl", "PNL model, default (DeepICA variant='pnl')", deep(variant="pnl", n_steps=pnl_steps)),
        (
            "pnl_untrained",
            "PNL model, untrained (0 steps: Gaussianise + FastICA start)",
            deep(variant="pnl", n_steps=0),
        ),
        (
            "pnl_random_init",
            "PNL model, init='random' (no FastICA start)",
            deep(variant="pnl", init="random", n_steps=pnl_steps),
        ),
        (
            "gauss_fastica",
            "FastICA on Gaussianised inputs (sklearn, no DeepICA)",
            lambda X, seed: (gaussianised_fastica(X, seed), None),
        ),
        (
            "fastica",
            "FastICA on raw mixtures (sklearn)",
            lambda X, seed: (
                FastICA(3, whiten="unit-variance", random_state=seed, max_iter=1000).fit_transform(X),
                None,
            ),
        ),
    ]
    fits = {key: (label, fit) for key, label, fit in fits}
    return [(key, *fits[key]) for key in CASES]


def summary(vals):
    v = np.asarray(vals, dtype=float)
    return dict(
        mean=float(v.mean()),
        median=float(np.median(v)),
        std=float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        min=float(v.min()),
        max=float(v.max()),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2 seeds, 3 paper steps, 50 PNL steps")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument(
        "--paper-steps",
        type=int,
        default=50,
        help="training steps of the paper variant (its preset is 100; batch 2000 costs ~5 s a step on 1 CPU thread)",
    )
    ap.add_argument("--out", default=None, help="results name (default ddica_pnl, quick/ddica_pnl with --quick)")
    ap.add_argument("--render-only", action="store_true", help="rewrite the .md from the last .json; run nothing")
    args = ap.parse_args()
    if args.render_only:
        name = args.out or results_name("ddica_pnl", args.quick)
        data = json.loads((RESULTS / f"{name}.json").read_text())
        write(name, render(data), None)
        return
    from threadpoolctl import threadpool_limits

    one_thread()
    if args.quick:
        args.seeds, args.paper_steps = 2, 3
    seeds = list(range(args.seeds))
    rows = rows_for(args)
    runs = {key: [] for key, _, _ in rows}
    with threadpool_limits(1):
        for seed in seeds:
            S, X = make_pnl(args.n, seed)
            for key, _, fit in rows:
                load = os.getloadavg()[0]
                t0 = time.perf_counter()
                est, model = fit(X, seed)
                run = dict(
                    seed=seed,
                    mean_abs_rho=float(matched_abs_corr(S, est).mean()),
                    seconds=time.perf_counter() - t0,
                    load_1min=load,
                )
                if model is not None:
                    run.update(
                        n_steps=int(model.n_iter_),
                        restart_choice=model.restart_choice_,
                        restart_tc=[round(float(v), 4) for v in model.restart_tc_],
                        final_train_tc=float(model.loss_curve_[-1]) if len(model.loss_curve_) else None,
                        first_train_tc=float(model.loss_curve_[0]) if len(model.loss_curve_) else None,
                    )
                runs[key].append(run)
                print(key, {k: v for k, v in run.items() if k != "restart_tc"}, flush=True)
            save(args, seeds[: seed + 1], rows, runs)  # after every seed: a cut-short run keeps what it measured


def save(args, seeds, rows, runs) -> None:
    from deepunmix.engine.ddica.ica import VARIANTS

    stats = {key: summary([r["mean_abs_rho"] for r in runs[key]]) for key in runs}
    meta = dict(
        machine(),
        mode="quick" if args.quick else "full",
        n_samples=args.n,
        seeds=seeds,
        seeds_planned=args.seeds,
        paper_steps=args.paper_steps,
        variants={
            k: {kk: (list(vv) if isinstance(vv, tuple) else vv) for kk, vv in v.items()} for k, v in VARIANTS.items()
        },
        labels={key: label for key, label, _ in rows},
        paper_table1={"DDICA": 0.9527, "FastICA": 0.7132},
    )
    payload = dict(meta=meta, runs=runs, stats=stats)
    write(args.out or results_name("ddica_pnl", args.quick), render(payload), payload)
    print(f"({len(seeds)} of {args.seeds} seeds)", flush=True)


def findings(runs, stats) -> list:
    """Plain statements computed from the runs (trained against untrained, the PNL model against its front end)."""

    def gain(a, b):
        return [x["mean_abs_rho"] - y["mean_abs_rho"] for x, y in zip(runs[a], runs[b])]

    paper, pnl = gain("paper", "paper_untrained"), gain("pnl", "pnl_untrained")
    tc_down = sum(
        r["final_train_tc"] < r["first_train_tc"] for r in runs["paper"] if r.get("first_train_tc") is not None
    )
    return [
        f"- Paper variant: training lowered the TC in {tc_down} of {len(runs['paper'])} runs and changed mean |rho| "
        f"by {', '.join(f'{g:+.3f}' for g in paper)} against the same network untrained (mean "
        f"{stats['paper']['mean']:.4f} trained, {stats['paper_untrained']['mean']:.4f} untrained).",
        f"- PNL model: trained minus untrained (Gaussianise + FastICA start) per seed "
        f"{', '.join(f'{g:+.3f}' for g in pnl)}; FastICA on Gaussianised inputs alone has mean "
        f"{stats['gauss_fastica']['mean']:.4f} (median {stats['gauss_fastica']['median']:.4f}) against the trained "
        f"model's {stats['pnl']['mean']:.4f} ({stats['pnl']['median']:.4f}).",
    ]


def render(payload) -> str:
    """The Markdown page of a run, from its results payload (meta, runs, stats)."""
    meta, runs, stats = payload["meta"], payload["runs"], payload["stats"]
    m = canonical(meta)  # saved results name the machine facts as they did when written
    labels, seeds = meta["labels"], meta["seeds"]
    paper = runs["paper"]
    per_step = [r["seconds"] / max(r["n_steps"], 1) for r in paper if r["n_steps"]]
    lines = [
        f"# Deep ICA on the paper's PNL experiment (Table 1){' (quick)' if meta['mode'] == 'quick' else ''}",
        "",
        f"{m['date_utc']}, {m['host']} ({m['logical_cpus']} cores, shared; torch and BLAS 1 thread), "
        f"{meta['n_samples']} samples, seeds {seeds} (a new mixture per seed"
        + (
            f"; {len(seeds)} of {meta['seeds_planned']} planned seeds done when this was written"
            if len(seeds) < meta["seeds_planned"]
            else ""
        )
        + "). Written by `benchmarks/ddica_pnl.py`.",
        "Sources: two speech-like signals + uniform noise (the paper's recordings are not available); "
        "3x3 mix, then tanh(x), (x+x^3)/2, exp(x). Score: mean |rho| of Hungarian-matched outputs "
        "(higher is better); the paper reports the mean of 10 repeats.",
        "",
    ]
    paper_ref = {"paper": "0.9527", "fastica": "0.7132"}
    lines.append(
        table(
            ("method", "paper", "mean", "median", "std", "min..max"),
            [
                (labels[key], paper_ref.get(key, ""), st["mean"], st["median"], st["std"])
                + (f"{st['min']:.3f}..{st['max']:.3f}",)
                for key, st in stats.items()
            ],
            (None, None, ".4f", ".4f", ".4f", None),
        )
    )
    per_seed = [
        [s]
        + [
            f"{runs[k][i]['mean_abs_rho']:.4f} ({runs[k][i]['seconds']:.0f} s, load {runs[k][i]['load_1min']:.1f})"
            for k in runs
        ]
        for i, s in enumerate(seeds)
    ]
    lines += [
        "",
        "Per seed (mean |rho|; fit seconds; 1-min load when the fit started; noisy shared machine):",
        "",
        table(("seed", *runs), per_seed),
    ]
    tc = [(r["first_train_tc"], r["final_train_tc"]) for r in paper if r.get("first_train_tc") is not None]
    lines += [
        "",
        f"Paper variant: {meta['paper_steps']} Adam steps per run (its preset is "
        f"{meta['variants']['paper']['n_steps']}; the paper gives no step count), chosen for this CPU: one step "
        f"took {np.median(per_step) if per_step else float('nan'):.1f} s (median; batch 2000, four 2000x2000 "
        "eigendecompositions with gradients).",
        "Training TC of the paper variant, first -> last step per seed: "
        + ", ".join(f"{a:.2f} -> {b:.2f}" for a, b in tc)
        + ".",
        "",
        *findings(runs, stats),
        "",
        "Settings of the two variants (`engine.ddica.ica.VARIANTS`; explicit keywords override):",
        "",
    ]
    for v, cfg in meta["variants"].items():
        lines.append(f"- `{v}`: " + ", ".join(f"{k}={val}" for k, val in cfg.items()))
    pnl_choice = runs["pnl"][0].get("restart_choice", "")
    lines += ["", f"PNL model restart choice: lowest mean TC on {pnl_choice} (samples never used in training).", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
