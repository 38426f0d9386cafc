"""deepunmix:estimate_n_endmembers — HySime or HFC virtual dimensionality."""
import html
import os

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from ..engine.estimate_count import EndmemberCountEstimator
from ..engine.io.raster import atomic_output
from .base import DeepUnmixAlgorithm
from .inputs import INPUT_HELP, add_input_options, input_options, load_for_fitting

METHODS = [("hysime", "HySime"), ("hfc", "HFC virtual dimensionality"), ("nwhfc", "Noise-whitened HFC")]


class EstimateNEndmembers(DeepUnmixAlgorithm):
    METHOD = "METHOD"
    FAR = "FAR"

    NAME = "estimate_n_endmembers"
    DISPLAY_NAME = "Estimate number of endmembers (HySime, HFC-VD)"
    GROUP = "Endmembers"
    GROUP_ID = "endmembers"
    HELP = (
        "Estimates how many materials (endmembers) a hyperspectral raster holds, before unmixing it.\n\n"
        "<b>Hyperspectral raster</b>: nodata and NaN pixels are ignored; a random sample of at most 100 000 valid "
        "pixels is used.\n<b>Method</b>: HySime (Bioucas-Dias and Nascimento: noise estimated by regression, signal "
        "subspace by minimum mean squared error; no tuning), HFC (Harsanyi-Farrand-Chang virtual dimensionality: "
        "eigenvalues of the correlation and covariance matrices compared with a Neyman-Pearson test) or its "
        "noise-whitened variant.\n<b>False-alarm rate</b> (HFC only): smaller gives fewer endmembers.\n\n"
        "<b>Outputs</b>: the estimate as the number <b>N_ENDMEMBERS</b>, which the graphical modeler can feed into "
        "the next algorithm's 'Number of endmembers', and a short HTML report."
    ) + INPUT_HELP

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_input_raster()
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, self.tr("Method"),
                                                     options=[label for _, label in METHODS], defaultValue=0))
        self.add_advanced(QgsProcessingParameterNumber(self.FAR, self.tr("False-alarm rate (HFC)"),
                                                       QgsProcessingParameterNumber.Double, 1e-3,
                                                       minValue=1e-12, maxValue=0.5))
        add_input_options(self)
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_REPORT, self.tr("Report (HTML)"), self.tr("HTML files (*.html)"), optional=True,
            createByDefault=True))
        self.addOutput(QgsProcessingOutputNumber(self.N_ENDMEMBERS, self.tr("Estimated number of endmembers")))

    def execute(self, parameters, context, feedback):
        method, label = METHODS[self.parameterAsEnum(parameters, self.METHOD, context)]
        far = self.parameterAsDouble(parameters, self.FAR, context)
        report = self.report_path(parameters, context)
        data = load_for_fitting(self.raster_path(parameters, context), feedback,
                                input_options(self, parameters, context))
        model = EndmemberCountEstimator(method=method, far=far).fit(data.cube, data.mask)
        k = int(model.n_endmembers_)
        feedback.pushInfo(self.tr(f"{label}: {k} endmembers"))
        if k < 2:
            feedback.pushWarning(self.tr(f"{label} found {k} signal dimension(s): the data look like noise around a "
                                         "constant, and unmixing needs at least 2 endmembers; check the scale and "
                                         "the bands, or set the number by hand"))
        results = {self.N_ENDMEMBERS: k}
        if report:
            _write_report(report, data.path, label, k, far if method != "hysime" else None,
                          model.details_.get("cost"))
            results[self.OUTPUT_REPORT] = report
        return results


def _write_report(path, source, label, k, far, cost):
    body = [f"<h1>Number of endmembers: {k}</h1>",
            f"<p>Raster: {html.escape(os.path.basename(source))}<br>Method: {html.escape(label)}"
            + (f"<br>False-alarm rate: {far:g}" if far is not None else "") + "</p>"]
    if cost is not None:
        from ..engine.report import figure_png

        def draw(ax):
            n = min(len(cost), max(3 * k, 15))
            ax.plot(range(1, n + 1), sorted(cost)[:n], "o-")
            ax.axhline(0, color="k", lw=0.8)
            ax.axvline(k, color="r", ls="--", label=f"estimate: {k}")
            ax.set_xlabel("eigenvector (sorted by cost)")
            ax.set_ylabel("HySime cost (-signal + 2 noise power)")
            ax.legend()

        body.append(f"<img alt='HySime cost' src='data:image/png;base64,{figure_png(draw)}'>")
    text = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Endmember count</title></head><body>" + \
        "".join(body) + "</body></html>"
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
