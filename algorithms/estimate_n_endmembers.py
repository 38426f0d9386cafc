"""deepunmix:estimate_n_endmembers — endmembers for linear unmixing (reconstruction elbow), or the
signal-subspace dimension (HySime, HFC virtual dimensionality)."""

from qgis.core import (
    QgsProcessingOutputNumber,
)

from ..engine.core.params import N_ENDMEMBERS, choices, validate_params
from ..engine.count.estimate import MAX_PIXELS, EndmemberCountEstimator
from ..engine.count.reconstruction import DEFAULT_MAX_ENDMEMBERS, DEFAULT_MIN_GAIN
from ..engine.reporting.report import write_count_report
from .base import DeepUnmixAlgorithm
from .engine_parameters import Advanced, enum_parameter, enum_value, number_parameter
from .help_numbers import count
from .inputs import add_input_options, input_options, load_for_fitting

# Labels by engine value; the values and their order (the published METHOD indices: 0 is HySime in users'
# scripts) are engine.count.estimate.METHODS.
METHOD_LABELS = {
    "hysime": "HySime (signal-subspace dimension)",
    "hfc": "HFC virtual dimensionality (signal-subspace dimension)",
    "nwhfc": "Noise-whitened HFC (signal-subspace dimension)",
    "reconstruction": "Endmembers for linear unmixing (where the FCLS reconstruction error stops improving)",
}
MIN_GAIN_OPTION = Advanced("MIN_GAIN", "min_gain", "Minimum gain of one more endmember (linear-unmixing method)")
FAR_OPTION = Advanced("FAR", "far", "False-alarm rate (HFC)")
# the dialog caps the engine's range: every count up to the maximum is fitted (SiVM + FCLS) in turn
FEWEST = N_ENDMEMBERS.left  # the engine's fewest endmembers to unmix with: the output's floor
MAX_OPTION = Advanced("MAX_ENDMEMBERS", "max_endmembers", "Maximum number of endmembers", maximum=100)


class EstimateNEndmembers(DeepUnmixAlgorithm):
    METHOD = "METHOD"
    FAR = "FAR"
    MAX_ENDMEMBERS = MAX_OPTION.key
    MIN_GAIN = "MIN_GAIN"

    NAME = "estimate_n_endmembers"
    DISPLAY_NAME = "Estimate number of endmembers"
    GROUP = "Endmembers"
    GROUP_ID = "endmembers"
    HELP = (
        "Estimates how many materials (endmembers) to unmix a hyperspectral raster with.\n"
        "Set the raster. The default method, 'Endmembers for linear unmixing', adds endmembers (SiVM + FCLS) while "
        "the reconstruction error still drops noticeably: a count to unmix with. HySime and HFC estimate the "
        "signal-subspace dimension instead, which real scenes inflate well beyond the number of materials.\n"
        "Output: the estimate as the number N_ENDMEMBERS, which the graphical modeler can pass to the next "
        "algorithm's 'Number of endmembers', and an optional HTML report with the error curve."
    )
    DETAILS = (
        "Nodata and NaN pixels are ignored; a random sample of at most "
        + count(MAX_PIXELS)
        + " valid pixels is used.\n<b>Method</b>: <i>Endmembers for linear unmixing</i> (default) extracts 2, 3, ... "
        "endmembers with SiVM, unmixes every pixel by FCLS and stops where one more endmember no longer lowers the "
        "reconstruction error noticeably (by less than the <i>minimum gain</i> times the 2-endmember error) or the "
        "error reaches the noise level: a count to unmix with (Samson: 3, Jasper Ridge: 4; see "
        "benchmarks/results/endmember_count.md on the project's home page). <i>HySime</i> (Bioucas-Dias and Nascimento) and <i>HFC</i> "
        "(Harsanyi-Farrand-Chang virtual dimensionality, or its noise-whitened variant) estimate the dimension of "
        "the <b>signal subspace</b>: on real scenes spectral variability, illumination and nonlinear mixing "
        "inflate it well beyond the number of materials (HySime: 43 on Samson, 18 on Jasper Ridge).\n"
        "<b>Maximum number of endmembers</b>: no method returns more (the log says when the cap applied).\n"
        "<b>False-alarm rate</b> (HFC only): smaller gives fewer endmembers.\n\n"
        f"<b>Outputs</b>: the estimate (at least {FEWEST}) as the number <b>N_ENDMEMBERS</b>, which the graphical "
        "modeler can feed into the next algorithm's 'Number of endmembers', and a short HTML report with the curve."
    )

    def initAlgorithm(self, config=None):
        self.add_input_raster()
        default_method = choices(EndmemberCountEstimator, "method").index(EndmemberCountEstimator().method)
        self.addParameter(
            enum_parameter(
                self,
                EndmemberCountEstimator,
                "method",
                self.METHOD,
                "Method",
                METHOD_LABELS,
                defaultValue=default_method,
            )
        )
        self.addParameter(
            number_parameter(
                EndmemberCountEstimator, MAX_OPTION, self.tr(MAX_OPTION.label), DEFAULT_MAX_ENDMEMBERS, False
            )
        )
        for adv, default in ((MIN_GAIN_OPTION, DEFAULT_MIN_GAIN), (FAR_OPTION, EndmemberCountEstimator().far)):
            self.add_advanced(number_parameter(EndmemberCountEstimator, adv, self.tr(adv.label), default, False))
        add_input_options(self)
        self.add_report_output()
        self.addOutput(QgsProcessingOutputNumber(self.N_ENDMEMBERS, self.tr("Estimated number of endmembers")))

    def execute(self, parameters, context, feedback):
        method = enum_value(self, EndmemberCountEstimator, "method", self.METHOD, parameters, context)
        label = METHOD_LABELS[method]
        cap = self.parameterAsInt(parameters, self.MAX_ENDMEMBERS, context)
        model = EndmemberCountEstimator(
            method=method,
            far=self.parameterAsDouble(parameters, self.FAR, context),
            max_endmembers=cap,
            min_gain=self.parameterAsDouble(parameters, self.MIN_GAIN, context),
        )
        validate_params(model)  # before the raster is read
        report = self.report_path(parameters, context)
        data = load_for_fitting(
            self.raster_path(parameters, context), feedback, input_options(self, parameters, context)
        )
        feedback.pushInfo(self.tr("{label}, at most {cap} endmembers").format(label=label, cap=cap))
        model.set_params(progress=self.progress_callback(feedback, 5, 95)).fit(data.cube, data.mask)
        k = max(FEWEST, int(model.n_endmembers_))
        if model.capped_:
            feedback.pushWarning(
                self.tr("The estimate exceeded the maximum: capped at {cap} endmembers").format(cap=cap)
            )
        if k != model.n_endmembers_:
            feedback.pushWarning(
                self.tr(
                    "{label} found {n} signal dimension(s): the data look like noise around a constant; unmixing "
                    "needs at least {fewest} endmembers, so {fewest} is returned. Check the scale and the bands, or "
                    "set the number by hand"
                ).format(label=label, n=model.n_endmembers_, fewest=FEWEST)
            )
        errors = model.details_.get("errors")
        if errors is not None:
            feedback.pushInfo(
                self.tr("FCLS reconstruction RMSE by number of endmembers: {errors}").format(
                    errors=", ".join(f"{i}: {e:.4g}" for i, e in enumerate(errors) if i >= 2)
                )
            )
        feedback.pushInfo(self.tr("{label}: {k} endmembers").format(label=label, k=k))
        results = {self.N_ENDMEMBERS: k}
        if report:
            write_count_report(
                report,
                self.input_label(parameters, context),
                label,
                k,
                model.far if method in ("hfc", "nwhfc") else None,
                model.details_.get("cost"),
                errors,
                model.details_.get("noise_rms"),
            )
            results[self.OUTPUT_REPORT] = report
        return results
