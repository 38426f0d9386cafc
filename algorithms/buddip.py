"""deepunmix:buddip — blind unmixing with a double deep image prior."""

from qgis.core import QgsProcessingParameterBoolean

from ..engine.dip.buddip import BUDDIP
from .blind import ImagePriorAlgorithm
from .engine_parameters import ChoiceOption, NumberOption

VARIANT_LABELS = {
    "default": "Default (light, CPU): refined guidance, small residual networks",
    "paper": "Paper (Zhou and Rodrigues 2022): noise inputs, U-Nets",
    "authors_code": "Authors' code: guidance inputs, U-Nets",
}


class BUDDIPUnmixing(ImagePriorAlgorithm):
    ESTIMATOR = BUDDIP
    LABEL = "BUDDIP"
    NETWORK_ABUNDANCES = "NETWORK_ABUNDANCES"

    NAME = "buddip"
    CHOICES = (
        ChoiceOption("EXTRACTOR", "extractor", "Initial endmember extractor", ImagePriorAlgorithm.EXTRACTORS),
        ChoiceOption("VARIANT", "variant", "Variant", VARIANT_LABELS),
    )
    OPTIONS = (
        NumberOption("ALPHA1", "alpha1", "Loss weight alpha1 (EDIP term)"),
        NumberOption("ALPHA2", "alpha2", "Loss weight alpha2 (ADIP term)"),
        NumberOption("ALPHA3", "alpha3", "Loss weight alpha3 (blind reconstruction term)"),
        NumberOption("ITERATIONS", "n_iter", "Iterations"),
        NumberOption("LEARNING_RATE", "learning_rate", "Learning rate"),
        NumberOption("PURIFY", "purify", "First-guess refinement: purest-pixel fraction"),
        NumberOption("EXPAND", "expand", "First-guess refinement: expansion steps"),
        NumberOption("MIN_VOLUME", "min_volume", "Minimum-volume weight (0 = off; not in the paper)"),
    )

    def extra_parameters(self):
        self.add_advanced(
            QgsProcessingParameterBoolean(
                self.NETWORK_ABUNDANCES,
                self.tr("Abundances from the network (off = the variant's choice)"),
                defaultValue=False,
                optional=True,
            )
        )

    def estimator_kwargs(self, parameters, context):
        kwargs = super().estimator_kwargs(parameters, context)
        if self.parameterAsBoolean(parameters, self.NETWORK_ABUNDANCES, context):
            kwargs["final_abundances"] = "adip"
        return kwargs
