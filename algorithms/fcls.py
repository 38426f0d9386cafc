"""deepunmix:fcls — fully constrained least squares abundances from an endmember CSV."""

import time

import numpy as np
from qgis.core import QgsProcessingParameterFile, QgsProcessingParameterRasterDestination

from ..engine.abundances.convention import peak_normalise, peak_normalised_abundances
from ..engine.abundances.fcls import fcls
from ..engine.io.blockwise import apply_blockwise
from ..engine.io.endmember_csv import read_endmembers_csv
from ..engine.io.matching import match_bands
from ..engine.io.raster import central_values, raster_info, read_thumbnails
from ..engine.io.scaling import choose_scale
from ..engine.reporting.metrics import per_pixel_rmse, pooled_rmse
from ..engine.reporting.report import write_report
from .base import DeepUnmixAlgorithm
from .inputs import add_input_options, input_options
from .styling import style_outputs

MAX_NOISE_PIXELS = 20_000  # pixels kept for the poor-fit warning's noise estimate


class FullyConstrainedLeastSquares(DeepUnmixAlgorithm):
    OUTPUT_ERROR = "OUTPUT_ERROR"

    NAME = "fcls"
    DISPLAY_NAME = "Fully constrained least squares (FCLS)"
    GROUP = "Abundances"
    GROUP_ID = "abundances"
    HELP = (
        "Abundance maps from a hyperspectral raster and known endmember spectra: for every pixel, the "
        "non-negative fractions summing to one that best reconstruct it (fully constrained least squares).\n"
        "Set the raster and an endmember CSV (from 'Extract endmembers', a blind method or the import). The CSV's "
        "bands are matched to the raster's by wavelength, else by band number; its stated units set the scale.\n"
        "Outputs: abundance maps (one band per endmember, same georeferencing as the input), optionally the "
        "per-pixel reconstruction error and an HTML report. The log says when the fit points at a scale "
        "mismatch or a missing material."
    )
    DETAILS = (
        "The raster is processed in blocks within the memory budget, so rasters larger than memory work; nodata "
        "and NaN pixels stay nodata. The CSV's rows select the raster bands (by wavelength when both carry "
        "wavelengths, else by the CSV's band numbers; never by position), so endmembers extracted with bad bands "
        "dropped apply directly; bands in the file's ENVI bad-band list are left out. The scale factor defaults "
        "to the one the CSV states (e.g. integer reflectance x 10000 scaled to 0..1), else the raster's units.\n"
        "The fit check compares the reconstruction with the data: pixels thousands of times brighter or darker "
        "than their reconstruction mean the endmembers are in other units (a scale mismatch); an error far "
        "above what spectral variability leaves on real scenes means a material may be missing or the bands do "
        "not match (factors chosen on Samson and Jasper Ridge: benchmarks/results/fit_warning.md on the "
        "project's home page).\n"
        "The <b>Peak-normalised shares</b> convention scales each endmember to a peak of 1 and solves for "
        "non-negative shares summing to one, as Zhu's published Samson, Jasper Ridge and Urban references were "
        "made."
    )

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
        bands = match.bands
        options = input_options(self, parameters, context)
        E = np.asarray(table.matrix, dtype=np.float64)[match.rows]
        scale, reason = choose_scale(options.scale, table.comment, E, central_values(path, bands))
        peak = self.abundance_convention(parameters, context) == "peak_normalised"
        if peak:
            E = peak_normalise(E)

        def solve(Y):
            """Abundances (p, n) in the chosen convention and each pixel's brightness (n,): Y ~ E (A * brightness)."""
            return peak_normalised_abundances(Y, E) if peak else (fcls(Y, E), np.ones(Y.shape[1]))

        out = self.parameterAsOutputLayer(parameters, self.OUTPUT_ABUNDANCES, context)
        err_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_ERROR, context)
        report = self.report_path(parameters, context)
        for path_out in (out, err_out):
            self.check_output_folder(path_out)
        method = "Peak-normalised shares" if peak else "FCLS"
        feedback.pushInfo(
            self.tr(
                "{method} with {n} endmembers ({names}) on {used} of {count} bands; scale {scale:g} ({reason})"
            ).format(
                method=method,
                n=E.shape[1],
                names=", ".join(table.names),
                used=len(bands),
                count=info.count,
                scale=scale,
                reason=reason,
            )
        )

        # per-pixel RMSEs of every 16th pixel; pixels for the noise estimate; <Y, E A> and <E A, E A> (brightness)
        fit = {"rmse": [], "sample": [], "dot": 0.0, "norm": 0.0}

        def abundances(Y):
            A, brightness = solve(Y)
            # the report's RMSE from every 16th pixel: a full residual would cost as much as FCLS itself
            Ys = Y[:, ::16]
            As = A[:, ::16] * brightness[::16]
            fit["rmse"].append(per_pixel_rmse(Ys, E, As))
            Yhat = E @ As
            fit["dot"] += float(np.sum(Ys * Yhat))
            fit["norm"] += float(np.sum(Yhat * Yhat))
            if sum(b.shape[1] for b in fit["sample"]) < MAX_NOISE_PIXELS:
                fit["sample"].append(np.asarray(Ys, dtype=np.float64))
            return A

        stream = dict(bands=bands, scale=scale, max_block_bytes=options.block_bytes)
        last = 100.0 if not err_out else 50.0
        apply_blockwise(
            path, out, abundances, E.shape[1], table.names, progress=self.progress_callback(feedback, 0, last), **stream
        )
        results = {self.OUTPUT_ABUNDANCES: out}
        if err_out:

            def error(Y):
                A, brightness = solve(Y)
                return per_pixel_rmse(Y, E, A * brightness)[None]

            apply_blockwise(
                path, err_out, error, 1, ["rmse"], progress=self.progress_callback(feedback, 50, 100), **stream
            )
            results[self.OUTPUT_ERROR] = err_out
        source = self.input_label(parameters, context)
        style_outputs(context, out, f"{method} abundances ({source})")
        rmse = pooled_rmse(np.concatenate(fit["rmse"])) if fit["rmse"] else 0.0
        feedback.pushInfo(self.tr("Reconstruction RMSE (every 16th pixel): {rmse:.5g}").format(rmse=rmse))
        sample = np.hstack(fit["sample"]) if fit["sample"] else np.empty((len(bands), 0))
        warnings = self.fit_warnings(feedback, rmse, sample, fit["dot"] / fit["norm"] if fit["norm"] > 0 else None)
        if report:
            wavelengths = None if table.wavelengths is None else table.wavelengths[match.rows]
            write_report(
                report,
                f"{method} report ({source})",
                E,
                table.names,
                wavelengths,
                read_thumbnails(out),
                self.parameter_summary(parameters, context),
                reconstruction_rmse=rmse,
                started=started,
                warnings=warnings,
            )
            results[self.OUTPUT_REPORT] = report
        return results
