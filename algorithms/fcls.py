"""deepunmix:fcls — fully constrained least squares abundances from an endmember CSV."""
import numpy as np
from qgis.core import QgsProcessingParameterFile, QgsProcessingParameterRasterDestination

from ..engine.fcls import fcls
from ..engine.io.blockwise import apply_blockwise
from ..engine.io.endmember_csv import read_endmembers_csv
from ..engine.io.raster import raster_info
from .base import DeepUnmixAlgorithm


class FullyConstrainedLeastSquares(DeepUnmixAlgorithm):
    OUTPUT_ERROR = "OUTPUT_ERROR"

    NAME = "fcls"
    DISPLAY_NAME = "Fully constrained least squares (FCLS)"
    GROUP = "Abundances"
    GROUP_ID = "abundances"
    HELP = (
        "Computes abundance maps from a hyperspectral raster and known endmember spectra: for every pixel, the "
        "non-negative fractions summing to one that best reconstruct its spectrum (exact fully constrained least "
        "squares).\n\n"
        "<b>Hyperspectral raster</b>: any GDAL-readable multiband raster; nodata and NaN pixels stay nodata.\n"
        "<b>Endmembers (CSV)</b>: a CSV as written by 'Extract endmembers' or any DeepUnmix algorithm: columns "
        "band, wavelength, then one column per endmember; one row per raster band.\n\n"
        "<b>Abundance maps</b>: one float32 band per endmember (named after it), values 0..1 summing to one, same "
        "georeferencing as the input. <b>Reconstruction error</b> (optional): per-pixel RMSE between the pixel and "
        "its reconstruction, in the raster's units.\n\n"
        "The raster is processed in blocks, so rasters larger than memory work."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_input_raster()
        self.addParameter(QgsProcessingParameterFile(self.ENDMEMBERS, self.tr("Endmembers (CSV)"), extension="csv"))
        self.add_abundance_output()
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_ERROR, self.tr("Reconstruction error (RMSE per pixel)"), optional=True, createByDefault=False))

    def execute(self, parameters, context, feedback):
        path = self.raster_path(parameters, context)
        table = read_endmembers_csv(self.parameterAsFile(parameters, self.ENDMEMBERS, context))
        n_bands = raster_info(path).count
        if table.matrix.shape[0] != n_bands:
            raise ValueError(
                f"the endmember CSV has {table.matrix.shape[0]} bands but the raster has {n_bands}"
            )
        E = np.asarray(table.matrix, dtype=np.float64)
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT_ABUNDANCES, context)
        err_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_ERROR, context)
        self.check_output_folder(out)
        self.check_output_folder(err_out)
        feedback.pushInfo(self.tr(f"FCLS with {E.shape[1]} endmembers: {', '.join(table.names)}"))

        last = 100.0 if not err_out else 50.0
        apply_blockwise(path, out, lambda Y: fcls(Y, E), E.shape[1], table.names,
                        progress=self.progress_callback(feedback, 0, last))
        results = {self.OUTPUT_ABUNDANCES: out}
        if err_out:
            def error(Y):
                A = fcls(Y, E)
                return np.sqrt(np.mean((Y - E @ A) ** 2, axis=0, keepdims=True))

            apply_blockwise(path, err_out, error, 1, ["rmse"], progress=self.progress_callback(feedback, 50, 100))
            results[self.OUTPUT_ERROR] = err_out
        return results
