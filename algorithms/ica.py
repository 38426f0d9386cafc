"""deepunmix:ica — deep deterministic ICA: independent components of any multiband raster."""
import numpy as np
from qgis.core import QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination

from ..engine.errors import ParameterError
from ..engine.io.blockwise import apply_blockwise
from .base import DeepUnmixAlgorithm
from .blind import _require_torch
from .inputs import INPUT_HELP, add_input_options, input_options, load_for_fitting


class DeepICAComponents(DeepUnmixAlgorithm):
    N_COMPONENTS = "N_COMPONENTS"
    STEPS = "STEPS"
    RESTARTS = "RESTARTS"
    ALPHA = "ALPHA"
    OUTPUT = "OUTPUT"

    NEEDS_TORCH = True
    NAME = "ica"
    DISPLAY_NAME = "Deep ICA (independent components)"
    GROUP = "Blind source separation"
    GROUP_ID = "bss"
    HELP = (
        "Blind source separation of any multiband raster with deep deterministic ICA (DDICA's general mode): a small "
        "network (with a per-channel nonlinear stage for post-nonlinear mixtures) maps every pixel to components whose "
        "statistical dependence, measured by the matrix-based Renyi alpha-order total correlation after a "
        "differentiable whitening layer, is minimised. Unlike unmixing, the components are not constrained to be "
        "non-negative or to sum to one: they are unit-variance independent signals (sign and order are arbitrary, as "
        "in every ICA).\n\n<b>Raster</b>; <b>Number of components</b>; <b>Random seed</b>; <b>Compute device</b>.\n"
        "Advanced: <b>training steps</b>, <b>restarts</b> (the restart with the lowest held-out total correlation is "
        "kept; no labels are used), <b>alpha</b>.\n\n<b>Output</b>: a float32 raster with one band per component. "
        "Needs PyTorch."
    ) + INPUT_HELP

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        from ..engine.ddica.ica import DeepICA

        defaults = DeepICA().get_params()
        self.add_input_raster("Raster")
        self.addParameter(QgsProcessingParameterNumber(self.N_COMPONENTS, self.tr("Number of components"),
                                                       QgsProcessingParameterNumber.Integer, 3, minValue=2))
        self.add_seed()
        self.add_device()
        for key, kwarg, label, integer in ((self.STEPS, "n_steps", "Training steps", True),
                                           (self.RESTARTS, "n_restarts", "Restarts", True),
                                           (self.ALPHA, "alpha", "Renyi entropy order alpha", False)):
            kind = QgsProcessingParameterNumber.Integer if integer else QgsProcessingParameterNumber.Double
            self.add_advanced(QgsProcessingParameterNumber(key, self.tr(label), kind, defaults[kwarg],
                                                           optional=True, minValue=1 if integer else 0.01))
        add_input_options(self)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Independent components")))

    def execute(self, parameters, context, feedback):
        _require_torch()
        from ..engine.ddica.ica import DeepICA

        k = self.parameterAsInt(parameters, self.N_COMPONENTS, context)
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        self.check_output_folder(out)
        options = input_options(self, parameters, context)
        data = load_for_fitting(self.raster_path(parameters, context), feedback, options)
        if k > data.cube.shape[0]:
            raise ParameterError(f"{k} components cannot be separated from {data.cube.shape[0]} bands")
        model = DeepICA(n_components=k, n_steps=self.parameterAsInt(parameters, self.STEPS, context),
                        n_restarts=self.parameterAsInt(parameters, self.RESTARTS, context),
                        alpha=self.parameterAsDouble(parameters, self.ALPHA, context),
                        device=self.device(parameters, context),
                        random_state=self.parameterAsInt(parameters, self.SEED, context),
                        progress=self.progress_callback(feedback, 0, 90))
        model.fit(np.ascontiguousarray(data.cube[:, data.mask].T))
        names = [f"IC_{i + 1}" for i in range(k)]
        apply_blockwise(data.path, out, lambda Y: model.transform(Y.T).T, k, names, bands=data.bands,
                        scale=data.scale, max_block_bytes=options.block_bytes,
                        progress=self.progress_callback(feedback, 90, 100))
        return {self.OUTPUT: out}
