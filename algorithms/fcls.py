"""deepunmix:fcls — fully constrained least squares abundances from an endmember CSV."""

import time

import numpy as np
from qgis.core import QgsProcessingParameterFile, QgsProcessingParameterRasterDestination

from ..engine.abundances.fcls import RasterFCLS
from ..engine.io.endmember_csv import read_endmembers_csv
from ..engine.io.matching import match_bands
from ..engine.io.raster import central_values, raster_info, read_thumbnails
from ..engine.io.scaling import choose_scale
from ..engine.reporting.report import write_report
from .base import DeepUnmixAlgorithm
from .errors import progress_callback
from .inputs import add_input_options, input_options
from .styling import style_outputs


class FullyConstrainedLeastSquares(DeepUnmixAlgorithm):
    OUTPUT_ERROR = "OUTPUT_ERROR"

    NAME = "fcls"

    def initAlgorithm(self, config=None):
        self.add_input_raster()
        self.addParameter(QgsProcessingParameterFile(self.ENDMEMBERS, self.tr("Endmembers (CSV)"), extension="csv"))
        self.add_abundance_output()
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT_ERROR,
                self.tr("Reconstruction error (RMSE per pixel)"),
                optional=True,
                createByDefault=False,
            )
        )
        add_input_options(self, bad_bands=False)
        self.add_abundance_convention_option()
        self.add_report_output()

    def execute(self, parameters, context, feedback):
        started = time.perf_counter()
        path = self.raster_path(parameters, context)
        table = read_endmembers_csv(self.parameterAsFile(parameters, self.ENDMEMBERS, context))
        info = raster_info(path)
        match = match_bands(table, info.wavelengths, info.count, info.bad_bands)
        feedback.pushInfo(self.tr(match.describe(table.matrix.shape[0], info.count)))
        options = input_options(self, parameters, context)
        E = np.asarray(table.matrix, dtype=np.float64)[match.rows]
        scale, reason = choose_scale(options.scale, table.comment, E, central_values(path, match.bands))
        model = RasterFCLS(E, self.abundance_convention(parameters, context))
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT_ABUNDANCES, context)
        err_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_ERROR, context)
        report = self.report_path(parameters, context)
        for path_out in (out, err_out):
            self.check_output_folder(path_out)
        method = "Peak-normalised shares" if model.peak else "FCLS"
        feedback.pushInfo(
            self.tr(
                "{method} with {n} endmembers ({names}) on {used} of {count} bands; scale {scale:g} ({reason})"
            ).format(
                method=method,
                n=E.shape[1],
                names=", ".join(table.names),
                used=len(match.bands),
                count=info.count,
                scale=scale,
                reason=reason,
            )
        )
        model.run(
            path,
            out,
            table.names,
            error_path=err_out or None,
            progress=progress_callback(feedback),
            bands=match.bands,
            scale=scale,
            max_block_bytes=options.block_bytes,
        )
        results = {self.OUTPUT_ABUNDANCES: out}
        if err_out:
            results[self.OUTPUT_ERROR] = err_out
        source = self.input_label(parameters, context)
        style_outputs(context, out, f"{method} abundances ({source})")
        feedback.pushInfo(self.tr("Reconstruction RMSE (every 16th pixel): {rmse:.5g}").format(rmse=model.rmse_))
        warnings = self.fit_warnings(feedback, model.rmse_, model.sample_, model.brightness_)
        if report:
            wavelengths = None if table.wavelengths is None else table.wavelengths[match.rows]
            write_report(
                report,
                f"{method} report ({source})",
                model.endmembers_,
                table.names,
                wavelengths,
                read_thumbnails(out),
                self.parameter_summary(parameters, context),
                reconstruction_rmse=model.rmse_,
                started=started,
                warnings=warnings,
            )
            results[self.OUTPUT_REPORT] = report
        return results
