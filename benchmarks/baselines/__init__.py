"""Comparators from the DDICA paper, used by the benchmarks only: FastICA, extended Infomax, MISEP, MINE-ICA.

``ica_to_abundances`` is the single rule that turns any ICA output into abundances.
Torch is imported only inside the neural methods' ``fit``.
"""

from .fastica import FastICA
from .ica_to_abundance import ica_to_abundances
from .infomax import InfomaxICA
from .mine_ica import MINEICA
from .misep import MISEP

__all__ = ["MINEICA", "MISEP", "FastICA", "InfomaxICA", "ica_to_abundances"]
