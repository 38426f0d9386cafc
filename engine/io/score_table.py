"""The evaluation table: each reference material, its matched estimate, abundance RMSE and spectral angle."""

from __future__ import annotations

import csv
from typing import Mapping, Sequence

import numpy as np

from .endmember_csv import spreadsheet_safe
from .raster import atomic_output


def write_score_table(path, scores: Mapping, ref_names: Sequence[str], est_names: Sequence[str]) -> None:
    """Write ``engine.metrics.score_unmixing``'s result as CSV (one row per reference, then mean and aRMSE),
    atomically; names are made spreadsheet-safe."""
    perm = list(scores["perm"])
    sad = scores.get("sad")
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["reference", "estimate", "abundance_rmse", "sad_degrees"])
        for i, name in enumerate(ref_names):
            angle = "" if sad is None else f"{sad[i]:.4f}"
            writer.writerow(
                [spreadsheet_safe(name), spreadsheet_safe(est_names[perm[i]]), f"{scores['rmse'][i]:.6f}", angle]
            )
        asad = "" if sad is None else f"{np.mean(sad):.4f}"
        writer.writerow(["mean", "", f"{scores['mean_rmse']:.6f}", asad])
        writer.writerow(["aRMSE", "", f"{scores['armse']:.6f}", ""])
