"""PNL blind source separation: DeepICA vs scikit-learn FastICA on generated speech-like sources.

Two non-stationary speech-like sources (harmonic carriers with a wandering pitch, amplitude
modulated by syllable-like bursts and silences) and one uniform noise source are mixed by a
random 3x3 matrix, then passed through tanh(x), (x + x^3)/2 and exp(x), one per channel
(the DDICA paper's PNL set-up). Score: mean |Pearson rho| between each true source and its
Hungarian-matched estimate (matching for scoring only). Median over seeds.

    .venv/bin/python benchmarks/ddica_pnl.py [--quick]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parents[1]


def speech_like(n: int, rng: np.random.Generator, f0: float, rate: int = 16000) -> np.ndarray:
    """Harmonic carrier with vibrato, gated by smoothed random syllables and silences."""
    t = np.arange(n) / rate
    env = np.zeros(n)
    pos = 0
    while pos < n:
        length = int(rng.integers(rate // 20, rate // 5))
        env[pos:pos + length] = 0.0 if rng.random() < 0.3 else rng.uniform(0.3, 1.0)
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


def mean_abs_rho(S: np.ndarray, S_est: np.ndarray) -> float:
    k = S.shape[1]
    C = np.abs(np.corrcoef(S.T, S_est.T)[:k, k:])
    r, c = linear_sum_assignment(-C)
    return float(C[r, c].mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    import torch
    from sklearn.decomposition import FastICA

    from deepunmix.engine.ddica import DeepICA

    torch.set_num_threads(1)
    seeds = list(range(2 if args.quick else args.seeds))
    settings = dict(n_steps=100 if args.quick else 400)
    rows = []
    for seed in seeds:
        S, X = make_pnl(args.n, seed)
        t0 = time.perf_counter()
        model = DeepICA(3, random_state=seed, **settings)
        est = model.fit_transform(X)
        dt = time.perf_counter() - t0
        fast = FastICA(3, whiten="unit-variance", random_state=seed, max_iter=1000).fit_transform(X)
        cold = DeepICA(3, random_state=seed, init="random", **settings).fit_transform(X)
        rows.append(dict(seed=seed, deepica=mean_abs_rho(S, est), fastica=mean_abs_rho(S, fast),
                         deepica_cold=mean_abs_rho(S, cold), seconds=dt,
                         load=os.getloadavg()[0], restart_tc=[round(float(v), 4) for v in model.restart_tc_]))
        print(rows[-1], flush=True)
    med = {k: float(np.median([r[k] for r in rows])) for k in ("deepica", "fastica", "deepica_cold", "seconds")}
    meta = dict(machine=platform.node(), cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                torch_threads=1, n_samples=args.n, seeds=seeds, settings={**DeepICA(3).get_params(), **settings})
    meta["settings"].pop("progress", None)
    out = ROOT / "benchmarks" / "results" / ("ddica_pnl_quick" if args.quick else "ddica_pnl")
    out.with_suffix(".json").write_text(json.dumps(dict(meta=meta, runs=rows, median=med), indent=1, default=str))
    lines = [f"# DeepICA on a post-nonlinear mixture ({'quick' if args.quick else 'full'})", "",
             f"{meta['date']}, {meta['machine']} ({meta['cores']} cores, torch threads 1), {args.n} samples, seeds {seeds}.",
             "Sources: two speech-like signals + uniform noise; 3x3 mix, then tanh(x), (x+x^3)/2, exp(x).",
             f"DeepICA settings: {meta['settings']}", "",
             "| seed | DeepICA mean abs rho | FastICA (raw mixtures) | DeepICA, init='random' | DeepICA fit s | load (1 min) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['seed']} | {r['deepica']:.4f} | {r['fastica']:.4f} | {r['deepica_cold']:.4f} | {r['seconds']:.1f} | {r['load']:.1f} |" for r in rows]
    lines += [f"| **median** | **{med['deepica']:.4f}** | **{med['fastica']:.4f}** | {med['deepica_cold']:.4f} | {med['seconds']:.1f} | |", "",
              "DeepICA defaults: inputs Gaussianized per channel, monotone per-channel maps + linear layer,",
              "linear layer warm-started from FastICA on the Gaussianized inputs, then TC-refined; restart chosen by lowest TC.",
              "Paper (Li et al. 2022, real speech): DDICA 0.9527, FastICA 0.7132."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
