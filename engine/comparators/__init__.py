"""Comparators from the DDICA paper: FastICA, extended Infomax, MISEP, MINE-ICA and minimum-volume NMF.

``ica_to_abundances`` is the single rule that turns any ICA output into abundances.
Torch is imported only inside the neural methods' ``fit``.
"""

from importlib import import_module

_LAZY = {
    "FastICA": ".fastica",
    "InfomaxICA": ".infomax",
    "MISEP": ".misep",
    "MINEICA": ".mine_ica",
    "MinVolNMF": ".minvol_nmf",
    "ica_to_abundances": ".ica_to_abundance",
    "project_simplex_columns": ".simplex",
    "simplex_lsq": ".simplex",
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
