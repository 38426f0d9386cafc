"""deepunmix:buddip — blind unmixing with a double deep image prior."""
from qgis.core import QgsProcessingParameterBoolean, QgsProcessingParameterEnum

from .inputs import INPUT_HELP
from .blind import Advanced, BlindUnmixingAlgorithm

EXTRACTORS = ["sivm", "vca", "nfindr"]
EXTRACTOR_LABELS = ["SiVM", "VCA", "N-FINDR"]


class BUDDIPUnmixing(BlindUnmixingAlgorithm):
    EXTRACTOR = "EXTRACTOR"
    NETWORK_ABUNDANCES = "NETWORK_ABUNDANCES"

    NAME = "buddip"
    DISPLAY_NAME = "BUDDIP blind unmixing (double deep image prior)"
    HELP = (
        "Blind unmixing with BUDDIP (Zhou and Rodrigues): two deep image priors, one producing the endmember "
        "spectra (sigmoid, non-negative) and one the abundance maps (softmax, non-negative and summing to one), "
        "trained together so that the image is reconstructed by endmembers x abundances, while staying close to a "
        "classic first guess (endmembers from SiVM, VCA or N-FINDR, refined: each one averaged over its 5 % "
        "purest pixels, then moved until its near-pure pixels are fitted without residual; abundances from FCLS). "
        "No ground truth is used: the learned endmembers are an exponential moving average of the network output, "
        "and the abundance maps are the exact FCLS abundances for them (measured more accurate than the abundance "
        "network's own output except on very noisy scenes).\n\n"
        "<b>Hyperspectral raster</b>; <b>Number of endmembers</b>; <b>Random seed</b>; <b>Compute device</b>; "
        "<b>Initial endmember extractor</b>.\n"
        "Advanced: the loss weights <b>alpha1</b> (endmember prior vs FCLS abundances), <b>alpha2</b> (abundance "
        "prior vs extracted endmembers), <b>alpha3</b> (blind reconstruction), <b>iterations</b>, <b>learning rate</b>, "
        "<b>purest-pixel fraction</b> and <b>expansion steps</b> of the first-guess refinement (both 0 = the paper's "
        "plain first guess), <b>abundances from the network</b> (the abundance prior's own output, as in the paper, "
        "instead of FCLS with the learned endmembers)."
        "\n\nSize limit: the whole image is one network input, so BUDDIP refuses rasters with more valid-image pixels "
        "than its limit (the error names it); crop or subset the raster, or use DDICA or FCLS for large scenes.\n\n"
        "<b>Outputs</b>: abundance maps, endmember spectra (CSV), an HTML report. Needs PyTorch."
    ) + INPUT_HELP
    ADVANCED = (
        Advanced("ALPHA1", "alpha1", "Loss weight alpha1 (EDIP term)", minimum=0.0),
        Advanced("ALPHA2", "alpha2", "Loss weight alpha2 (ADIP term)", minimum=0.0),
        Advanced("ALPHA3", "alpha3", "Loss weight alpha3 (blind reconstruction term)", minimum=0.0),
        Advanced("ITERATIONS", "n_iter", "Iterations", integer=True, minimum=1),
        Advanced("LEARNING_RATE", "learning_rate", "Learning rate", minimum=1e-7),
        Advanced("PURIFY", "purify", "First-guess refinement: purest-pixel fraction (0 = paper)", minimum=0.0),
        Advanced("EXPAND", "expand", "First-guess refinement: expansion steps (0 = paper)", integer=True, minimum=0),
    )

    def estimator_class(self):
        from ..engine.dip.buddip import BUDDIP

        return BUDDIP

    def method_label(self):
        return "BUDDIP"

    def extra_parameters(self):
        self.addParameter(QgsProcessingParameterEnum(self.EXTRACTOR, self.tr("Initial endmember extractor"),
                                                     options=EXTRACTOR_LABELS, defaultValue=0))
        self.add_advanced(QgsProcessingParameterBoolean(self.NETWORK_ABUNDANCES,
                                                        self.tr("Abundances from the network (paper)"),
                                                        defaultValue=False, optional=True))

    def extra_kwargs(self, parameters, context):
        network = self.parameterAsBoolean(parameters, self.NETWORK_ABUNDANCES, context)
        return {"extractor": EXTRACTORS[self.parameterAsEnum(parameters, self.EXTRACTOR, context)],
                "final_abundances": "adip" if network else "fcls"}

    SAMPLES_OK = False
