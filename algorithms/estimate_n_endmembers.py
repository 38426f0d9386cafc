"""deepunmix:estimate_n_endmembers — endmembers for linear unmixing (reconstruction elbow), or the
signal-subspace dimension (HySime, HFC virtual dimensionality)."""

from qgis.core import QgsProcessingOutputNumber

from ..engine.core.params import N_ENDMEMBERS, validate_params
from ..engine.count.estimate import EndmemberCountEstimator
from ..engine.count.reconstruction import DEFAULT_MAX_ENDMEMBERS, DEFAULT_MIN_GAIN
from ..engine.reporting.report import write_count_report
from .base import DeepUnmixAlgorithm
from .engine_parameters import ChoiceOption, NumberOption, enum_parameter, enum_value, number_parameter
from .errors import progress_callback
from .inputs import add_input_options, input_options, load_for_fitting

# Labels by engine value; the values and their order (the published METHOD indices: 0 is HySime in users'
# scripts) are engine.count.estimate.METHODS.
METHOD_LABELS = {
    "hysime": "HySime (signal-subspace dimension)",
    "hfc": "HFC virtual dimensionality (signal-subspace dimension)",
    "nwhfc": "Noise-whitened HFC (signal-subspace dimension)",
    "reconstruction": "Endmembers for linear unmixing (where the FCLS reconstruction error stops improving)",
}
METHOD_OPTION = ChoiceOption("METHOD", "method", "Method", METHOD_LABELS)
MIN_GAIN_OPTION = NumberOption("MIN_GAIN", "min_gain", "Minimum gain of one more endmember (linear-unmixing method)")
FAR_OPTION = NumberOption("FAR", "far", "False-alarm rate (HFC)")
# the dialog caps the engine's range: every count up to the maximum is fitted (SiVM + FCLS) in turn
FEWEST = N_ENDMEMBERS.left  # the engine's fewest endmembers to unmix with: the output's floor
MAX_OPTION = NumberOption("MAX_ENDMEMBERS", "max_endmembers", "Maximum number of endmembers", maximum=100)


class EstimateNEndmembers(DeepUnmixAlgorithm):
    METHOD = "METHOD"
    FAR = "FAR"
    MAX_ENDMEMBERS = MAX_OPTION.key
    MIN_GAIN = "MIN_GAIN"

    NAME = "estimate_n_endmembers"

    def initAlgorithm(self, config=None):
        self.add_input_raster()
        self.addParameter(
            enum_parameter(self, EndmemberCountEstimator, METHOD_OPTION, EndmemberCountEstimator().method)
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
        method = enum_value(self, EndmemberCountEstimator, METHOD_OPTION, parameters, context)
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
        model.set_params(progress=progress_callback(feedback, 5, 95)).fit(data.cube, data.mask)
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
