"""The fit warning's two factors on real scenes: ordinary fits against endmembers that do not match the data.

RMSE / noise RMS (``engine.reporting.fit_quality``) of FCLS on Samson and Jasper Ridge (Y / maxValue):

* ordinary fits: endmembers extracted from the scene itself (VCA, SiVM, N-FINDR) with the reference count and
  one fewer or more: what spectral variability and a missing or extra material give;
* mismatched fits: the same SiVM endmembers applied to the scene in other units (the cube x 10000 or x maxValue,
  i.e. raw counts against a CSV in 0..1, and the reverse) or to other bands (rows shifted by 5 or 20 bands,
  in reverse order).

CHOSEN here (the run says whether the engine's constants match): ``VARIABILITY_FACTOR``, the largest RMSE /
noise of an ordinary fit (reference count or one more) rounded up to a multiple of 5; ``SCALE_MISMATCH``, the
geometric mean of the farthest brightness of an ordinary fit and the nearest of a scale mismatch (one significant
digit). Band mismatches and a missing material are only reported: some stay below the variability factor. The
reference counts are used (which fits are ordinary); the reference endmembers and abundances are not.

Usage: .venv/bin/python benchmarks/fit_warning.py [--out fit_warning]  (no quick mode: ~1 min)
Writes benchmarks/results/<out>.md and .json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _machine import load_average, machine, one_thread
from _tables import table, write
from buddip_common import shared_data

from deepunmix.engine.abundances.fcls import fcls
from deepunmix.engine.extraction.nfindr import NFINDR
from deepunmix.engine.extraction.sivm import SiVM
from deepunmix.engine.extraction.vca import VCA
from deepunmix.engine.reporting.fit_quality import SCALE_MISMATCH, VARIABILITY_FACTOR, brightness, noise_level

EXTRACTORS = {"VCA": VCA, "SiVM": SiVM, "N-FINDR": NFINDR}
CASES = {
    "ordinary and missing one": tuple(f"{m}, reference count {d:+d}" for m in EXTRACTORS for d in (-1, 0, 1)),
    "scale": ("cube x 10000", "endmembers x 10000", "cube x maxValue", "endmembers x maxValue"),
    "bands": ("shifted by 5", "shifted by 20", "reverse order"),
}


def scenes():
    from deepunmix.engine.io.matfile import load_mat_dataset, samson

    data = shared_data()
    out = []
    if (data / "samson" / "samson_1.mat").is_file():
        out.append(("Samson", 3, samson(data).cube, None))
    jr = data / "jasper_ridge"
    if (jr / "jasperRidge2_R198.mat").is_file():
        ds = load_mat_dataset(jr / "jasperRidge2_R198.mat")
        out.append(("Jasper Ridge", 4, ds.cube / ds.max_value, ds.max_value))
    return out


def fit(scene, kind, case, Y, E, noise):
    """RMSE / noise of the FCLS fit, and the pixels' brightness against their reconstruction."""
    Yhat = E @ fcls(Y, E)
    rmse = float(np.sqrt(np.mean((Y - Yhat) ** 2)))
    return {"scene": scene, "kind": kind, "case": case, "ratio": rmse / noise, "brightness": brightness(Y, Yhat)}


def measure(name, p, cube, max_value):
    Y = np.asarray(cube, dtype=np.float64).reshape(cube.shape[0], -1)
    noise = noise_level(Y)
    rows = []
    for method, cls in EXTRACTORS.items():
        for k in (p - 1, p, p + 1):
            E = cls(n_endmembers=k, random_state=0).fit(cube).endmembers_
            kind = "missing one" if k < p else "ordinary"
            rows.append(fit(name, kind, f"{method}, {k} endmembers", Y, E, noise))
    E = SiVM(n_endmembers=p, random_state=0).fit(cube).endmembers_
    for f in [10000.0] + ([max_value] if max_value else []):
        rows.append(fit(name, "scale", f"cube x {f:g}, CSV in 0..1", Y * f, E, noise * f))
        rows.append(fit(name, "scale", f"cube in 0..1, CSV x {f:g}", Y, E * f, noise))
    L = E.shape[0]
    for shift in (5, 20):
        rows.append(fit(name, "bands", f"bands shifted by {shift}", Y[shift:], E[: L - shift], noise))
    rows.append(fit(name, "bands", "bands in reverse order", Y, E[::-1], noise))
    return rows


def choose(rows):
    """The scale test's factor and the ratio above which ordinary fits end (see the module docstring)."""
    log_b = {k: [abs(np.log(r["brightness"])) for r in rows if r["kind"] == k] for k in ("ordinary", "scale")}
    scale = float(np.exp(np.sqrt(max(log_b["ordinary"]) * min(log_b["scale"]))))
    ordinary = max(r["ratio"] for r in rows if r["kind"] == "ordinary")
    return {
        "largest_ordinary_ratio": ordinary,
        "variability_factor": float(5 * np.ceil(ordinary / 5)),
        "largest_ordinary_brightness_factor": float(np.exp(max(log_b["ordinary"]))),
        "smallest_scale_mismatch_factor": float(np.exp(min(log_b["scale"]))),
        "scale_factor": float(f"{scale:.1g}"),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="fit_warning")
    args = ap.parse_args(argv)
    one_thread()
    info = machine(with_torch=False)
    started = time.perf_counter()
    rows = [r for s in scenes() for r in measure(*s)]
    if not rows:
        print("shared data absent: nothing measured")
        return 0
    result = {
        "machine": info,
        "rows": rows,
        "chosen": choose(rows),
        "engine_default": {"variability_factor": VARIABILITY_FACTOR, "scale_factor": SCALE_MISMATCH},
        "seconds": round(time.perf_counter() - started, 1),
    }
    info["load_average_at_end"] = load_average()
    print(write(args.out, render(result), result).read_text())
    return 0


def render(r) -> str:
    c, e, m = r["chosen"], r["engine_default"], r["machine"]
    same = c["variability_factor"] == e["variability_factor"] and c["scale_factor"] == e["scale_factor"]
    rows = [(x["scene"], x["kind"], x["case"], f"{x['ratio']:.1f}", f"{x['brightness']:.4g}") for x in r["rows"]]
    return "\n".join(
        [
            "# Fit warning: ordinary fits of real scenes against mismatched endmembers",
            "",
            f"Written by `benchmarks/fit_warning.py` on {m['date_utc']} ({r['seconds']} s).",
            "",
            "FCLS on Samson and Jasper Ridge (Y / maxValue). RMSE / noise: the reconstruction RMSE over the "
            "estimated noise RMS; brightness: how many times the pixels are as bright as their reconstruction. "
            "Ordinary: endmembers extracted from the scene with the reference count or one more; missing one: one "
            "fewer; scale: SiVM endmembers in other units; bands: SiVM endmembers on other bands.",
            "",
            table(("scene", "kind", "case", "RMSE / noise", "brightness"), rows),
            "",
            f"Ordinary fits reach RMSE / noise {c['largest_ordinary_ratio']:.1f}: variability factor (rounded up "
            f"to a multiple of 5) **{c['variability_factor']:g}**. Brightness of ordinary fits within "
            f"{c['largest_ordinary_brightness_factor']:.3g}x of 1, of scale mismatches at least "
            f"{c['smallest_scale_mismatch_factor']:.4g}x away: scale factor (geometric mean, one digit) "
            f"**{c['scale_factor']:g}**. Engine (`VARIABILITY_FACTOR` {e['variability_factor']:g}, "
            f"`SCALE_MISMATCH` {e['scale_factor']:g}): {'matches' if same else 'DOES NOT MATCH'}.",
            "",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
