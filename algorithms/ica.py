"""deepunmix:ica — deep deterministic ICA: independent components of any multiband raster."""

import numpy as np
from qgis.core import QgsProcessingParameterRasterDestination

from ..engine.core.errors import ParameterError
from ..engine.ddica.ica import DeepICA
from .blind import EstimatorAlgorithm
from .engine_parameters import ChoiceOption, NumberOption, number_parameter
from .inputs import add_input_options

# labels by engine value (engine.ddica.ica.DeepICA variant choices give the values and their order)
VARIANT_LABELS = {
    "default": "pnl: Gaussianise + FastICA-initialised PNL model refined by TC (default)",
    "paper": "paper: the paper's deep ICA (ReLU net, power whitening)",
}
# one component has no dependence to remove (its total correlation is 0): the dialog starts at 2
N_COMPONENTS_OPTION = NumberOption("N_COMPONENTS", "n_components", "Number of components", minimum=2)


class DeepICAComponents(EstimatorAlgorithm):
    ESTIMATOR = DeepICA
    COUNT = N_COMPONENTS_OPTION.key
    COUNT_KWARG = "n_components"
    FIT_PROGRESS = 90
    N_COMPONENTS = N_COMPONENTS_OPTION.key
    VARIANT = "VARIANT"
    OUTPUT = "OUTPUT"

    NAME = "ica"
    CHOICES = (ChoiceOption(VARIANT, "variant", "Variant", VARIANT_LABELS),)
    OPTIONS = (
        NumberOption("STEPS", "n_steps", "Training steps", minimum=1),  # 0 steps: untrained, not ICA
        NumberOption("RESTARTS", "n_restarts", "Restarts"),
        NumberOption("ALPHA", "alpha", "Renyi entropy order alpha"),
    )

    def initAlgorithm(self, config=None):
        self.add_input_raster("Raster")
        self.addParameter(number_parameter(DeepICA, N_COMPONENTS_OPTION, self.tr(N_COMPONENTS_OPTION.label), 3, False))
        self.add_seed()
        self.add_device()
        self.add_options()
        add_input_options(self)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Independent components")))

    def execute(self, parameters, context, feedback):
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        self.check_output_folder(out)
        run = self.start(parameters, context, feedback)
        model, data = run.estimator, run.data
        k = model.n_components
        if k > data.cube.shape[0]:
            raise ParameterError(f"{k} components cannot be separated from {data.cube.shape[0]} bands")
        model.fit(np.ascontiguousarray(data.cube[:, data.mask].T))
        cfg = model.settings_
        feedback.pushInfo(
            f"DeepICA variant '{model.variant}': {cfg['n_steps']} steps, {cfg['n_restarts']} restart(s), "
            f"alpha {cfg['alpha']}, kernel width {model.kernel_width_:.4f}, batch {cfg['batch_size']}; "
            f"restart choice: {model.restart_choice_}"
        )
        run.stream(out, lambda Y: model.transform(Y.T).T, [f"IC_{i + 1}" for i in range(k)], 90, 100)
        return {self.OUTPUT: out}
