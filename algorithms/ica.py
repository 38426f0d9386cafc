"""deepunmix:ica — deep deterministic ICA: independent components of any multiband raster."""

import numpy as np
from qgis.core import QgsProcessingParameterEnum, QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination

from ..engine.errors import ParameterError
from ..engine.io.blockwise import apply_blockwise
from .base import DeepUnmixAlgorithm
from .blind import _require_torch
from .inputs import INPUT_HELP, add_input_options, input_options, load_for_fitting

VARIANTS = ("pnl", "paper")  # engine.ddica.ica.VARIANTS keys, in the order of the VARIANT options


class DeepICAComponents(DeepUnmixAlgorithm):
    N_COMPONENTS = "N_COMPONENTS"
    VARIANT = "VARIANT"
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
        "Blind source separation of any multiband raster by minimising the matrix-based Renyi alpha-order total "
        "correlation (TC) of whitened network outputs (DDICA's general mode). The components are unit-variance "
        "signals, not abundances: not non-negative, not summing to one; sign and order are arbitrary, as in every "
        "ICA.\n\n<b>Raster</b>; <b>Number of components</b>; <b>Random seed</b>; <b>Compute device</b>; "
        "<b>Variant</b>:\n"
        "- <b>pnl</b> (default): a Gaussianise + FastICA-initialised post-nonlinear model refined by TC, not the "
        "paper's network. Each band is Gaussianised (empirical CDF, then the normal quantile), passed through a "
        "learned monotone map and one linear layer that starts from FastICA on the Gaussianised bands; TC training "
        "(Cholesky whitening, alpha 1.01, Silverman kernel width, batch 128, 400 steps, 4 restarts) refines it. "
        "20 % of the pixels, drawn at random, are held out of training; the restart with the lowest TC on them is "
        "kept (no labels are used). On the PNL benchmark most of its score comes from the Gaussianisation + FastICA "
        "start.\n"
        "- <b>paper</b>: the deep ICA of Li et al. (2022, Sec. 4.1): z-scored bands, a randomly initialised network "
        "of three ReLU layers (64 units) and a linear fourth layer, a differentiable power-iteration whitening "
        "layer, alpha 0.75, kernel width 0.1584, batch 2000, one run. Not given by the paper: widths, Adam 1e-4, "
        "100 steps. Each step eigendecomposes four 2000 x 2000 matrices per component set: seconds per step on a "
        "CPU.\n"
        "Advanced (empty = the variant's value): <b>training steps</b>, <b>restarts</b>, <b>alpha</b>.\n\n"
        "<b>Output</b>: a float32 raster with one band per component. Needs PyTorch."
    ) + INPUT_HELP

    def initAlgorithm(self, config=None):
        self.add_input_raster("Raster")
        self.addParameter(
            QgsProcessingParameterNumber(
                self.N_COMPONENTS, self.tr("Number of components"), QgsProcessingParameterNumber.Integer, 3, minValue=2
            )
        )
        self.add_seed()
        self.add_device()
        self.addParameter(
            QgsProcessingParameterEnum(
                self.VARIANT,
                self.tr("Variant"),
                defaultValue=0,
                options=[
                    self.tr("pnl: Gaussianise + FastICA-initialised PNL model refined by TC (default)"),
                    self.tr("paper: the paper's deep ICA (ReLU net, power whitening, alpha 0.75, batch 2000)"),
                ],
            )
        )
        for key, label, integer in (
            (self.STEPS, "Training steps (empty: the variant's)", True),
            (self.RESTARTS, "Restarts (empty: the variant's)", True),
            (self.ALPHA, "Renyi entropy order alpha (empty: the variant's)", False),
        ):
            kind = QgsProcessingParameterNumber.Integer if integer else QgsProcessingParameterNumber.Double
            self.add_advanced(
                QgsProcessingParameterNumber(
                    key, self.tr(label), kind, None, optional=True, minValue=1 if integer else 0.01
                )
            )
        add_input_options(self)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Independent components")))

    def _optional(self, parameters, name, context, integer):
        if parameters.get(name) in (None, ""):
            return None
        return (self.parameterAsInt if integer else self.parameterAsDouble)(parameters, name, context)

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
        model = DeepICA(
            n_components=k,
            variant=VARIANTS[self.parameterAsEnum(parameters, self.VARIANT, context)],
            n_steps=self._optional(parameters, self.STEPS, context, True),
            n_restarts=self._optional(parameters, self.RESTARTS, context, True),
            alpha=self._optional(parameters, self.ALPHA, context, False),
            device=self.device(parameters, context),
            random_state=self.parameterAsInt(parameters, self.SEED, context),
            progress=self.progress_callback(feedback, 0, 90),
        )
        model.fit(np.ascontiguousarray(data.cube[:, data.mask].T))
        cfg = model.config_
        feedback.pushInfo(
            f"DeepICA variant '{model.variant}': {cfg['n_steps']} steps, {cfg['n_restarts']} restart(s), "
            f"alpha {cfg['alpha']}, kernel width {model.kernel_width_:.4f}, batch {cfg['batch_size']}; "
            f"restart choice: {model.restart_choice_}"
        )
        names = [f"IC_{i + 1}" for i in range(k)]
        apply_blockwise(
            data.path,
            out,
            lambda Y: model.transform(Y.T).T,
            k,
            names,
            bands=data.bands,
            scale=data.scale,
            max_block_bytes=options.block_bytes,
            progress=self.progress_callback(feedback, 90, 100),
        )
        return {self.OUTPUT: out}
