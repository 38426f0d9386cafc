"""deepunmix:evaluate — score estimated abundances/endmembers against reference ones."""

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
)

from ..engine.core.errors import InputError, ParameterError
from ..engine.io.endmember_csv import read_endmembers_csv
from ..engine.io.matching import align_tables
from ..engine.io.memory import check_allocation
from ..engine.io.raster import raster_info, read_raster
from ..engine.io.score_table import write_score_table
from ..engine.reporting.metrics import score_unmixing
from .base import DeepUnmixAlgorithm
from .errors import progress_callback
from .inputs import add_memory_option, memory_budget
from .loaded_tables import load_output


class EvaluateUnmixing(DeepUnmixAlgorithm):
    ABUNDANCES = "ABUNDANCES"
    REFERENCE_ABUNDANCES = "REFERENCE_ABUNDANCES"
    REFERENCE_ENDMEMBERS = "REFERENCE_ENDMEMBERS"
    OUTPUT_TABLE = "OUTPUT_TABLE"
    ARMSE = "ARMSE"
    MEAN_RMSE = "MEAN_RMSE"
    ASAD = "ASAD"

    NAME = "evaluate"

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterRasterLayer(self.ABUNDANCES, self.tr("Estimated abundances")))
        self.addParameter(QgsProcessingParameterRasterLayer(self.REFERENCE_ABUNDANCES, self.tr("Reference abundances")))
        self.addParameter(
            QgsProcessingParameterFile(
                self.ENDMEMBERS, self.tr("Estimated endmembers (CSV)"), extension="csv", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.REFERENCE_ENDMEMBERS, self.tr("Reference endmembers (CSV)"), extension="csv", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_TABLE, self.tr("Scores (CSV)"), self.tr("CSV files (*.csv)")
            )
        )
        add_memory_option(self)
        self.addOutput(QgsProcessingOutputNumber(self.ARMSE, self.tr("aRMSE")))
        self.addOutput(QgsProcessingOutputNumber(self.MEAN_RMSE, self.tr("Mean per-endmember RMSE")))
        self.addOutput(QgsProcessingOutputNumber(self.ASAD, self.tr("Mean SAD (degrees)")))

    def execute(self, parameters, context, feedback):
        est_path = self.raster_path(parameters, context, self.ABUNDANCES)
        ref_path = self.raster_path(parameters, context, self.REFERENCE_ABUNDANCES)
        shapes = [(i.count, i.height, i.width) for i in (raster_info(est_path), raster_info(ref_path))]
        if shapes[0] != shapes[1]:
            raise InputError(
                f"estimated abundances {shapes[0]} and reference {shapes[1]} differ in shape (bands, rows, cols)"
            )
        count, height, width = shapes[0]
        # both rasters as float32, their valid pixels as float64 and the scores' float64 working copies
        check_allocation(
            count * height * width * (2 * 4 + 4 * 8),
            "Reading and scoring these abundance rasters",
            memory_budget(self, parameters, context),
            "raise MEMORY_MB, or crop both rasters to a smaller area",
        )
        step = progress_callback(feedback)  # raises Cancelled between the steps
        step(0.0, "reading the estimated abundances")
        est = read_raster(est_path)
        step(0.4, "reading the reference abundances")
        ref = read_raster(ref_path)
        step(0.8, "scoring")
        est_csv = self.parameterAsFile(parameters, self.ENDMEMBERS, context)
        ref_csv = self.parameterAsFile(parameters, self.REFERENCE_ENDMEMBERS, context)
        if bool(est_csv) != bool(ref_csv):
            raise ParameterError("give both endmember CSVs (estimated and reference) or neither")
        E_est = E_ref = None
        if est_csv:
            est_table, ref_table = read_endmembers_csv(est_csv), read_endmembers_csv(ref_csv)
            if est_table.matrix.shape[1] != ref_table.matrix.shape[1]:
                raise InputError(
                    f"the estimated endmember CSV has {est_table.matrix.shape[1]} endmembers, the "
                    f"reference {ref_table.matrix.shape[1]}"
                )
            E_est, E_ref = align_tables(est_table, ref_table)  # rows by wavelength/band number, never position

        valid = est.mask & ref.mask
        A_est, A_ref = est.cube[:, valid], ref.cube[:, valid]
        scores = score_unmixing(E_ref, A_ref, E_est, A_est)
        step(0.95, "writing the table")
        table = self.parameterAsFileOutput(parameters, self.OUTPUT_TABLE, context)
        self.check_output_folder(table)
        ref_names = ref.band_names or [f"reference_{i + 1}" for i in range(A_ref.shape[0])]
        est_names = est.band_names or [f"estimate_{i + 1}" for i in range(A_est.shape[0])]
        write_score_table(table, scores, ref_names, est_names)
        load_output(context, table, f"Scores ({self.input_label(parameters, context, self.ABUNDANCES)})")

        asad = float(scores["asad"]) if E_est is not None else float("nan")
        feedback.pushInfo(f"aRMSE {scores['armse']:.4f}, mean RMSE {scores['mean_rmse']:.4f}, aSAD {asad:.2f} deg")
        return {
            self.OUTPUT_TABLE: table,
            self.ARMSE: float(scores["armse"]),
            self.MEAN_RMSE: float(scores["mean_rmse"]),
            self.ASAD: asad,
        }
