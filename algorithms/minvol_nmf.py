"""deepunmix:minvol_nmf — minimum-volume NMF blind unmixing."""

from qgis.core import QgsProcessingParameterEnum

from .blind import Advanced, BlindUnmixingAlgorithm
from .inputs import INPUT_HELP

INITS = ["vca", "sivm", "random"]


class MinVolNMFUnmixing(BlindUnmixingAlgorithm):
    INIT = "INIT"
    NEEDS_TORCH = False

    NAME = "minvol_nmf"
    DISPLAY_NAME = "Minimum-volume NMF blind unmixing"
    HELP = (
        "Blind unmixing by minimum-volume non-negative matrix factorisation (Leplat, Gillis and Ang): finds "
        "non-negative endmembers and abundances (non-negative, summing to one) that reconstruct the image, with a "
        "log-determinant penalty that keeps the endmember simplex as small as possible. Unlike pure-pixel "
        "extractors (VCA, N-FINDR), it works when no pixel is pure.\n\n"
        "<b>Hyperspectral raster</b>; <b>Number of endmembers</b>; <b>Random seed</b>; <b>Initialisation</b> (VCA, "
        "SiVM or random).\nAdvanced: <b>volume weight lambda</b> (relative to the initial fit: larger gives a "
        "tighter simplex), <b>maximum iterations</b>.\n\n"
        "<b>Outputs</b>: abundance maps, endmember spectra (CSV), an HTML report. Needs no PyTorch."
    ) + INPUT_HELP
    ADVANCED = (
        Advanced("LAMBDA", "lam", "Volume weight lambda", minimum=0.0),
        Advanced("MAX_ITER", "max_iter", "Maximum iterations", integer=True, minimum=1),
    )

    def estimator_class(self):
        from ..engine.comparators.minvol_nmf import MinVolNMF

        return MinVolNMF

    def method_label(self):
        return "MinVolNMF"

    def extra_parameters(self):
        self.addParameter(
            QgsProcessingParameterEnum(
                self.INIT, self.tr("Initialisation"), options=["VCA", "SiVM", "Random"], defaultValue=0
            )
        )

    def extra_kwargs(self, parameters, context):
        return {"init": INITS[self.parameterAsEnum(parameters, self.INIT, context)]}
