"""DDICA: deep deterministic ICA (matrix-based Rényi total correlation) for unmixing and for nonlinear ICA."""

from .ica import DeepICA
from .unmixing import DDICA

__all__ = ["DDICA", "DeepICA"]
