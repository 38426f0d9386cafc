"""The evaluation table: each reference material, its matched estimate, abundance RMSE and spectral angle.

One row per reference material and nothing else (the averages are the algorithm's number outputs), with a
``.csvt`` beside it so QGIS and OGR load the scores as numbers.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Mapping, Sequence

from .endmember_csv import spreadsheet_safe
from .transaction import atomic_output

COLUMNS = (("reference", "String"), ("estimate", "String"), ("abundance_rmse", "Real"), ("sad_degrees", "Real"))


def write_score_table(path, scores: Mapping, ref_names: Sequence[str], est_names: Sequence[str]) -> None:
    """Write ``engine.reporting.metrics.score_unmixing``'s per-material result as CSV (one row per reference) and its
    ``.csvt``, atomically; names are made spreadsheet-safe; SAD is empty without endmembers."""
    perm = list(scores["perm"])
    sad = scores.get("sad")
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([name for name, _ in COLUMNS])
        for i, name in enumerate(ref_names):
            angle = "" if sad is None else f"{sad[i]:.4f}"
            writer.writerow(
                [spreadsheet_safe(name), spreadsheet_safe(est_names[perm[i]]), f"{scores['rmse'][i]:.6f}", angle]
            )
    with atomic_output(Path(path).with_suffix(".csvt")) as tmp:
        tmp.write_text(",".join(f'"{kind}"' for _, kind in COLUMNS) + "\n", encoding="utf-8")
