"""deepunmix:minvol_nmf — minimum-volume NMF blind unmixing."""

from ..engine.extraction.minvol_nmf import MinVolNMF
from .blind import BlindUnmixingAlgorithm
from .engine_parameters import ChoiceOption, NumberOption

INIT_LABELS = {"vca": "VCA", "sivm": "SiVM", "random": "Random"}  # by engine value (MinVolNMF init)


class MinVolNMFUnmixing(BlindUnmixingAlgorithm):
    ESTIMATOR = MinVolNMF
    LABEL = "MinVolNMF"
    NEEDS_TORCH = False
    INIT = "INIT"

    NAME = "minvol_nmf"
    CHOICES = (ChoiceOption(INIT, "init", "Initialisation", INIT_LABELS),)
    OPTIONS = (
        NumberOption("LAMBDA", "lam", "Volume weight lambda"),
        NumberOption("MAX_ITER", "max_iter", "Maximum iterations"),
    )
