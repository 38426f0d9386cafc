"""deepunmix:minvol_nmf — minimum-volume NMF blind unmixing."""

from .blind import BlindUnmixingAlgorithm
from .engine_parameters import Advanced, enum_parameter, enum_value

INIT_LABELS = {"vca": "VCA", "sivm": "SiVM", "random": "Random"}  # by engine value (MinVolNMF init)


class MinVolNMFUnmixing(BlindUnmixingAlgorithm):
    INIT = "INIT"
    NEEDS_TORCH = False

    NAME = "minvol_nmf"
    DISPLAY_NAME = "Minimum-volume NMF blind unmixing"
    HELP = (
        "Blind unmixing by minimum-volume non-negative matrix factorisation (Leplat, Gillis and Ang): endmembers "
        "and abundances that reconstruct the image, with the endmember simplex kept as small as possible. Unlike "
        "pure-pixel extractors (VCA, N-FINDR) it works when no pixel is pure.\n"
        "Set the hyperspectral raster and the number of endmembers; the VCA initialisation (default) suits most "
        "scenes.\n"
        "Outputs: abundance maps (one band per endmember, fractions summing to one), endmember spectra (CSV) and "
        "an optional HTML report. Needs no PyTorch."
    )
    DETAILS = (
        "Minimum-volume NMF (Leplat, Gillis and Ang) finds non-negative endmembers and abundances (non-negative, "
        "summing to one) that reconstruct the image, with a log-determinant penalty that keeps the endmember "
        "simplex as small as possible; the volume weight lambda is relative to the initial fit. Starting "
        "endmembers: VCA, SiVM or random pixels."
    )
    ADVANCED = (
        Advanced("LAMBDA", "lam", "Volume weight lambda"),
        Advanced("MAX_ITER", "max_iter", "Maximum iterations"),
    )

    def estimator_class(self):
        from ..engine.extraction.minvol_nmf import MinVolNMF

        return MinVolNMF

    def method_label(self):
        return "MinVolNMF"

    def extra_parameters(self):
        self.addParameter(
            enum_parameter(
                self, self.estimator_class(), "init", self.INIT, "Initialisation", INIT_LABELS, defaultValue=0
            )
        )

    def extra_kwargs(self, parameters, context):
        return {"init": enum_value(self, self.estimator_class(), "init", self.INIT, parameters, context)}
