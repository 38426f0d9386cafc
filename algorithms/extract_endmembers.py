"""deepunmix:extract_endmembers — VCA, SiVM or N-FINDR endmembers to CSV."""

from qgis.core import QgsProcessingParameterEnum

from ..engine.extraction.nfindr import NFINDR
from ..engine.extraction.sivm import SiVM
from ..engine.extraction.vca import VCA
from ..engine.io.endmember_csv import write_endmembers_csv
from .base import DeepUnmixAlgorithm
from .errors import progress_callback
from .inputs import add_input_options, input_options, load_for_fitting
from .loaded_tables import load_endmember_table

METHODS = [("VCA", VCA), ("SiVM", SiVM), ("N-FINDR", NFINDR)]


class ExtractEndmembers(DeepUnmixAlgorithm):
    METHOD = "METHOD"

    NAME = "extract_endmembers"

    def initAlgorithm(self, config=None):
        self.add_input_raster()
        self.add_n_endmembers()
        self.addParameter(
            QgsProcessingParameterEnum(self.METHOD, self.tr("Method"), options=[m for m, _ in METHODS], defaultValue=0)
        )
        self.add_seed()
        add_input_options(self)
        self.add_endmember_output()

    def execute(self, parameters, context, feedback):
        n = self.parameterAsInt(parameters, self.N_ENDMEMBERS, context)
        method, cls = METHODS[self.parameterAsEnum(parameters, self.METHOD, context)]
        seed = self.parameterAsInt(parameters, self.SEED, context)
        out_csv = self.parameterAsFileOutput(parameters, self.OUTPUT_ENDMEMBERS, context)
        self.check_output_folder(out_csv)

        data = load_for_fitting(
            self.raster_path(parameters, context), feedback, input_options(self, parameters, context)
        )
        feedback.pushInfo(self.tr("Extracting {n} endmembers with {method}").format(n=n, method=method))
        model = cls(n_endmembers=n, random_state=seed, progress=progress_callback(feedback, 0, 95))
        model.fit(data.cube, data.mask)
        names = [f"{method}_{i + 1}" for i in range(n)]
        write_endmembers_csv(
            out_csv, model.endmembers_, names, wavelengths=data.wavelengths, bands=data.bands, comment=data.csv_comment
        )
        load_endmember_table(context, out_csv, f"{method} endmembers ({self.input_label(parameters, context)})")
        feedback.setProgress(100)
        return {self.OUTPUT_ENDMEMBERS: out_csv}
