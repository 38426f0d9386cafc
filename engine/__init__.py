"""DeepUnmix engine: hyperspectral unmixing with a scikit-learn style API.

Pure Python (numpy, scipy, scikit-learn, rasterio; torch only for the deep
methods, imported lazily). Never imports qgis.

Cubes are (bands, rows, cols) float32. Estimators take their parameters in
``__init__``, ``fit(cube, mask=None)`` returns ``self`` and learned attributes
end in ``_`` (``endmembers_`` (L, p), ``abundances_`` (p, rows, cols)).
"""

from importlib import import_module

from .core.progress import Cancelled

# public name -> submodule; resolved on first access so `import engine` stays light
_LAZY = {
    # classic chain
    "VCA": ".extraction.vca",
    "SiVM": ".extraction.sivm",
    "NFINDR": ".extraction.nfindr",
    "FCLS": ".abundances.fcls",
    "fcls": ".abundances.fcls",
    "MinVolNMF": ".extraction.minvol_nmf",
    "EndmemberCountEstimator": ".count.estimate",
    # deep methods (torch imported inside fit)
    "DDICA": ".ddica.unmixing",
    "DeepICA": ".ddica.ica",
    "BUDDIP": ".dip.buddip",
    "UnDIP": ".dip.undip",
    # data and scores
    "read_raster": ".io.read",
    "write_abundances": ".io.write",
    "write_cube": ".io.write",
    "read_endmembers_csv": ".io.endmember_csv",
    "write_endmembers_csv": ".io.endmember_csv",
    "load_mat_dataset": ".io.matfile",
    "score_unmixing": ".reporting.metrics",
    "apply_blockwise": ".io.blockwise",
    "apply_distributed": ".io.distributed",
}

__all__ = ["Cancelled", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
