"""Endmember spectra and one pixel's unmixing drawn on a matplotlib Figure (no Qt, no QGIS here).

x is the wavelength in nm when known, else the band number; lines break at dropped (bad) bands.
"""

from __future__ import annotations

import os
from typing import Optional

import numpy as np

from ..engine.io.endmember_csv import EndmemberTable
from ..engine.io.scaling import units_from_comment
from ..engine.reporting.pixel_spectrum import PixelExplanation
from ..engine.reporting.report import figure_label

PIXEL_COLOUR = "black"
RECONSTRUCTION_COLOUR = "#d62728"


def endmember_colours(n: int) -> list:
    """One distinct colour per endmember, the same in the spectra and the abundance bars."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    # red is the reconstruction's: skip tab10's red (index 3)
    indices = [i for i in range(cmap.N) if not (cmap.N == 10 and i == 3)]
    return [cmap(indices[k % len(indices)]) for k in range(n)]


def y_label(comment: Optional[str]) -> str:
    """Axis label from the CSV's stated units: 'Reflectance (raster value / 10000)', 'Value (raster units)', ..."""
    units = units_from_comment(comment)
    if units is None:
        return "Value (units of the raster)"
    units = units.replace("input units", "raster units").replace("input", "raster value")
    if units.lower().startswith("reflectance"):
        return "Reflectance" + units[len("reflectance") :]
    return f"Value ({units})"


def x_values(wavelengths: Optional[np.ndarray], bands: np.ndarray):
    """(x, label): wavelengths in nm where all are known, else band numbers."""
    if wavelengths is not None and np.all(np.isfinite(wavelengths)):
        return np.asarray(wavelengths, dtype=float), "Wavelength (nm)"
    return np.asarray(bands, dtype=float), "Band number"


def _with_gaps(x: np.ndarray, bands: np.ndarray, y: np.ndarray):
    """x and y with a NaN inserted wherever the band numbers jump (dropped bands): the line breaks there."""
    order = np.argsort(x, kind="stable")
    x, y, b = x[order], np.asarray(y, dtype=float)[order], np.asarray(bands)[order]
    breaks = np.flatnonzero(np.abs(np.diff(b)) > 1) + 1
    return np.insert(x, breaks, np.nan), np.insert(y, breaks, np.nan)


def draw_endmembers(fig, table: EndmemberTable, source: str = "") -> None:
    """The table's spectra against wavelength (or band), one named line per endmember."""
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    x, xlabel = x_values(table.wavelengths, table.bands)
    for name, colour, column in zip(table.names, endmember_colours(len(table.names)), table.matrix.T):
        ax.plot(*_with_gaps(x, table.bands, column), color=colour, lw=1.6, label=figure_label(name))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(y_label(table.comment))
    title = f"Endmembers: {os.path.basename(source)}" if source else "Endmembers"
    ax.set_title(title.replace("$", r"\$"), fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncol=2 if len(table.names) > 6 else 1, loc="best")
    fig.tight_layout()


def draw_pixel(fig, pixel: PixelExplanation, layer_name: str = "", comment: Optional[str] = None) -> None:
    """The pixel's spectrum, its reconstruction and the endmembers (left), its abundances (right)."""
    fig.clear()
    unmixed = pixel.abundances is not None
    if unmixed:
        grid = fig.add_gridspec(1, 2, width_ratios=[3, 1.2])
        ax, bars = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    else:
        ax, bars = fig.add_subplot(1, 1, 1), None
    x, xlabel = x_values(pixel.wavelengths, pixel.bands)
    colours = endmember_colours(len(pixel.names)) if pixel.endmembers is not None else []
    if pixel.endmembers is not None:
        for name, colour, column in zip(pixel.names, colours, pixel.endmembers.T):
            ax.plot(*_with_gaps(x, pixel.bands, column), color=colour, lw=1.0, alpha=0.6, label=figure_label(name))
    if pixel.valid:
        ax.plot(*_with_gaps(x, pixel.bands, pixel.spectrum), color=PIXEL_COLOUR, lw=2.2, label="Pixel")
    if unmixed:
        ax.plot(
            *_with_gaps(x, pixel.bands, pixel.reconstruction),
            color=RECONSTRUCTION_COLOUR,
            lw=1.8,
            ls="--",
            label="Reconstruction (FCLS)",
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(y_label(comment) if pixel.endmembers is not None else "Value (units of the raster)")
    ax.set_title(_pixel_title(pixel, layer_name).replace("$", r"\$"), fontsize="medium")
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="best")
    if unmixed:
        _draw_abundance_bars(bars, pixel, colours)
    fig.tight_layout()


def _pixel_title(pixel: PixelExplanation, layer_name: str) -> str:
    where = f"{layer_name}, " if layer_name else ""
    where += f"row {pixel.row + 1}, column {pixel.col + 1}"
    if not pixel.valid:
        return f"{where}: no data"
    if pixel.abundances is not None:
        return f"{where}: reconstruction RMSE {pixel.rmse:.3g}"
    return f"{where} (open an endmember CSV to unmix it)"


def _draw_abundance_bars(bars, pixel: PixelExplanation, colours) -> None:
    positions = np.arange(len(pixel.names))[::-1]  # first endmember on top, as in the legend
    bars.barh(positions, pixel.abundances, color=colours, height=0.6)
    bars.set_yticks(positions)
    bars.set_yticklabels([figure_label(n) for n in pixel.names], fontsize="small")
    bars.set_xlim(0, 1.18)
    bars.set_xticks([0, 0.5, 1])
    bars.set_xlabel("Abundance (fraction)")
    bars.set_title("Abundances (FCLS)", fontsize="medium")
    for pos, value in zip(positions, pixel.abundances):
        bars.text(value + 0.02, pos, f"{value:.2f}", va="center", fontsize="small")
    bars.grid(True, axis="x", alpha=0.3)


def summary_text(pixel: PixelExplanation, layer_name: str = "") -> str:
    """The numbers under the plot, as plain text a user can copy."""
    name = f"{layer_name}: " if layer_name else ""
    where = f"{name}row {pixel.row + 1}, column {pixel.col + 1} ({len(pixel.bands)} bands)"
    if not pixel.valid:
        return f"{where}: no data at this pixel"
    if pixel.abundances is None:
        return f"{where}: open an endmember CSV to unmix this pixel"
    shares = ", ".join(f"{n} {a:.3f}" for n, a in zip(pixel.names, pixel.abundances))
    return f"{where}. Abundances: {shares}. Reconstruction RMSE {pixel.rmse:.4g}"
