"""One-file HTML reports: an unmixing run (spectra, abundance thumbnails, settings, error, time) and an
endmember-count estimate (its criterion's curve)."""

from __future__ import annotations

import base64
import html
import io
import time
from typing import Mapping, Optional, Sequence

import numpy as np


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figure_png(draw, size=(6, 3.5)) -> str:
    """Base64 PNG of a one-axes figure drawn by ``draw(ax)``."""
    from matplotlib.figure import Figure  # no pyplot: safe outside the main thread

    fig = Figure(figsize=size)
    draw(fig.add_subplot())
    return _png(fig)


#: Longest name drawn in a figure (a legend or title wider than the figure fails to render).
LABEL_CHARS = 60


def figure_label(name) -> str:
    """A name as matplotlib draws it literally: cut to ``LABEL_CHARS``, ``$`` escaped (no mathtext), and a
    leading ``_`` kept visible (matplotlib leaves such labels out of legends)."""
    text = " ".join(str(name).split())
    if len(text) > LABEL_CHARS:
        text = text[: LABEL_CHARS - 1] + "\u2026"
    text = text.replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def _figures(
    endmembers: np.ndarray, names: Sequence[str], wavelengths: Optional[np.ndarray], abundances: Optional[np.ndarray]
):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # no pyplot: safe outside the main thread

    x = wavelengths if wavelengths is not None else np.arange(1, endmembers.shape[0] + 1)
    fig = Figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    for k, name in enumerate(names):
        ax.plot(x, endmembers[:, k], lw=1.4, label=figure_label(name))
    ax.set_xlabel("wavelength (nm)" if wavelengths is not None else "band")
    ax.set_ylabel("value")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    spectra = _png(fig)

    maps = None
    if abundances is not None:
        p = abundances.shape[0]
        cols = min(p, 4)
        rows = int(np.ceil(p / cols))
        fig = Figure(figsize=(2.6 * cols, 2.5 * rows))
        for k in range(p):
            ax = fig.add_subplot(rows, cols, k + 1)
            im = ax.imshow(np.ma.masked_invalid(abundances[k]), vmin=0, vmax=1, cmap="viridis")
            ax.set_title(figure_label(names[k]), fontsize=9)
            ax.set_xticks([]), ax.set_yticks([])
        fig.colorbar(im, ax=fig.axes, shrink=0.8, label="fraction")
        maps = _png(fig)
    return spectra, maps


def render_report(
    title: str,
    endmembers: np.ndarray,
    names: Sequence[str],
    wavelengths: Optional[np.ndarray] = None,
    abundances: Optional[np.ndarray] = None,
    parameters: Optional[Mapping[str, object]] = None,
    reconstruction_rmse: Optional[float] = None,
    seconds: Optional[float] = None,
    notes: Sequence[str] = (),
    started: Optional[float] = None,
    warnings: Sequence[str] = (),
) -> str:
    """The report as HTML with PNG figures; ``started`` (``perf_counter``) times the run including the report."""
    spectra, maps = _figures(np.asarray(endmembers), list(names), wavelengths, abundances)
    if started is not None:
        seconds = time.perf_counter() - started
    e = html.escape
    rows = "".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in (parameters or {}).items())
    facts = []
    if reconstruction_rmse is not None:
        facts.append(f"<li>Reconstruction RMSE (data vs endmembers &times; abundances): {reconstruction_rmse:.5g}</li>")
    if seconds is not None:
        facts.append(f"<li>Run time: {seconds:.1f} s</li>")
    facts += [f"<li>{e(n)}</li>" for n in notes]
    facts = [f"<li><b>Warning: {e(w)}</b></li>" for w in warnings] + facts
    summary = ""
    if abundances is not None:
        A = np.asarray(abundances, dtype=float).reshape(len(names), -1)
        A = A[:, np.all(np.isfinite(A), axis=0)]
        dominant = np.bincount(np.argmax(A, axis=0), minlength=len(names)) / max(A.shape[1], 1)
        summary = (
            "<table><tr><th>endmember</th><th>mean fraction</th><th>dominant in</th></tr>"
            + "".join(
                f"<tr><td>{e(n)}</td><td>{A[k].mean():.3f}</td><td>{100 * dominant[k]:.1f} % of pixels</td></tr>"
                for k, n in enumerate(names)
            )
            + "</table>"
        )
    parts = [
        _head(title),
        f"<h1>{e(title)}</h1><ul>{''.join(facts)}</ul>",
        "<h2>Endmember spectra</h2>",
        f"<img alt='endmember spectra' src='data:image/png;base64,{spectra}'>",
    ]
    if maps:
        parts += ["<h2>Abundance maps</h2>", summary, f"<img alt='abundance maps' src='data:image/png;base64,{maps}'>"]
    if rows:
        parts += ["<h2>Parameters</h2>", f"<table>{rows}</table>"]
    parts.append("</body></html>")
    return "\n".join(parts)


def _head(title: str) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><meta name='generator' content='DeepUnmix'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em;max-width:60em}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}img{max-width:100%}</style></head><body>"
    )


def _write(path: str, text: str) -> str:
    from ..io.transaction import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_report(path: str, *args, **kwargs) -> str:
    """Render the report and write it atomically to ``path``; returns ``path``."""
    return _write(path, render_report(*args, **kwargs))


def render_count_report(
    source: str,
    method: str,
    count: int,
    false_alarm_rate: Optional[float] = None,
    cost: Optional[Sequence[float]] = None,
    errors: Optional[Mapping[int, float]] = None,
    noise: Optional[float] = None,
) -> str:
    """The endmember-count report: the estimate, the method, and its criterion (the FCLS reconstruction error
    per count, with the noise level; or HySime's sorted cost)."""
    e = html.escape
    body = [
        f"<h1>Number of endmembers: {count}</h1>",
        f"<p>Raster: {e(source)}<br>Method: {e(method)}"
        + (f"<br>False-alarm rate: {false_alarm_rate:g}" if false_alarm_rate is not None else "")
        + "</p>",
    ]
    if errors is not None:

        def draw_errors(ax):
            ks = list(range(2, len(errors)))
            ax.plot(ks, [errors[i] for i in ks], "o-", label="FCLS reconstruction RMSE")
            if noise is not None:
                ax.axhline(float(noise), color="k", lw=0.8, ls=":", label="noise RMS (regression estimate)")
            ax.axvline(count, color="r", ls="--", label=f"estimate: {count}")
            ax.set_xlabel("number of endmembers (SiVM)")
            ax.set_ylabel("RMSE")
            ax.legend()

        body.append(f"<img alt='reconstruction error' src='data:image/png;base64,{figure_png(draw_errors)}'>")
    if cost is not None:

        def draw(ax):
            n = min(len(cost), max(3 * count, 15))
            ax.plot(range(1, n + 1), sorted(cost)[:n], "o-")
            ax.axhline(0, color="k", lw=0.8)
            ax.axvline(count, color="r", ls="--", label=f"estimate: {count}")
            ax.set_xlabel("eigenvector (sorted by cost)")
            ax.set_ylabel("HySime cost (-signal + 2 noise power)")
            ax.legend()

        body.append(f"<img alt='HySime cost' src='data:image/png;base64,{figure_png(draw)}'>")
    return _head(f"Endmember count report ({source})") + "".join(body) + "</body></html>"


def write_count_report(path: str, *args, **kwargs) -> str:
    """Render the endmember-count report and write it atomically to ``path``; returns ``path``."""
    return _write(path, render_count_report(*args, **kwargs))
