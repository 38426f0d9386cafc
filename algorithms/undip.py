"""deepunmix:undip — abundances by a deep image prior with fixed endmembers (UnDIP)."""

from qgis.core import QgsProcessingParameterFile

from ..engine.dip.undip import UnDIP
from ..engine.io.endmember_csv import read_endmembers_csv
from ..engine.io.matching import align_to_bands
from ..engine.io.raster import raster_info
from .blind import ImagePriorAlgorithm, Run
from .engine_parameters import ChoiceOption, NumberOption

VARIANT_LABELS = {"default": "Light (CPU): small network", "paper": "Paper (Rasti et al.)"}


class UnDIPUnmixing(ImagePriorAlgorithm):
    ESTIMATOR = UnDIP
    LABEL = "UnDIP"

    NAME = "undip"
    CHOICES = (
        ChoiceOption("EXTRACTOR", "extractor", "Endmember extractor (without a CSV)", ImagePriorAlgorithm.EXTRACTORS),
        ChoiceOption("VARIANT", "variant", "Variant", VARIANT_LABELS),
    )
    OPTIONS = (
        NumberOption("ITERATIONS", "n_iter", "Iterations"),
        NumberOption("LEARNING_RATE", "learning_rate", "Learning rate"),
    )

    def extra_parameters(self):
        self.addParameter(
            QgsProcessingParameterFile(self.ENDMEMBERS, self.tr("Endmembers (CSV)"), extension="csv", optional=True)
        )

    def before_fit(self, run: Run) -> None:
        csv_path = self.parameterAsFile(run.parameters, self.ENDMEMBERS, run.context)
        if not csv_path:
            return super().before_fit(run)
        table = read_endmembers_csv(csv_path)
        info = raster_info(run.data.path)
        E = align_to_bands(table, run.data.bands, info.wavelengths, info.count)  # by wavelength/band, not position
        run.estimator.set_params(endmembers=E, n_endmembers=None)
        run.feedback.pushInfo(
            self.tr("UnDIP with the {n} endmembers of {path}").format(n=table.matrix.shape[1], path=csv_path)
        )
