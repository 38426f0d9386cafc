"""deepunmix:ica — deep deterministic ICA: independent components of any multiband raster."""

import numpy as np
from qgis.core import QgsProcessingParameterRasterDestination

from ..engine.core.errors import ParameterError
from ..engine.core.params import validate_params
from ..engine.ddica.ica import VARIANTS, DeepICA
from ..engine.io.blockwise import apply_blockwise
from .base import DeepUnmixAlgorithm
from .blind import _require_torch
from .engine_parameters import Advanced, enum_parameter, enum_value, number_parameter, read_number
from .help_numbers import count, kernel_width, number, ordinal, percent, plural, sci, widths, word
from .inputs import add_input_options, input_options, load_for_fitting

# labels by engine value (engine.ddica.ica.DeepICA variant choices give the values and their order)


def variant_labels(variants=VARIANTS) -> dict:
    """The VARIANT options, their numbers from ``variants`` (the engine's :data:`VARIANTS`)."""
    paper = variants["paper"]
    return {
        "default": "pnl: Gaussianise + FastICA-initialised PNL model refined by TC (default)",
        "paper": f"paper: the paper's deep ICA (ReLU net, power whitening, alpha {number(paper['alpha'])}, batch "
        f"{count(paper['batch_size'])})",
    }


def help_text(variants=VARIANTS) -> str:
    """The help panel's text, its numbers from ``variants`` (the engine's :data:`VARIANTS`)."""
    pnl, paper = variants["default"], variants["paper"]
    batch = count(paper["batch_size"])
    return (
        "Blind source separation of any multiband raster by minimising the matrix-based Renyi alpha-order total "
        "correlation (TC) of whitened network outputs (DDICA's general mode). The components are unit-variance "
        "signals, not abundances: not non-negative, not summing to one; sign and order are arbitrary, as in every "
        "ICA.\n\n<b>Raster</b>; <b>Number of components</b>; <b>Random seed</b>; <b>Compute device</b>; "
        "<b>Variant</b>:\n"
        "- <b>pnl</b> (default): a Gaussianise + FastICA-initialised post-nonlinear model refined by TC, not the "
        "paper's network. Each band is Gaussianised (empirical CDF, then the normal quantile), passed through a "
        "learned monotone map and one linear layer that starts from FastICA on the Gaussianised bands; TC training "
        f"(Cholesky whitening, alpha {number(pnl['alpha'])}, {kernel_width(pnl['kernel_width'], 'Silverman')} "
        f"kernel width, batch {count(pnl['batch_size'])}, {plural(pnl['n_steps'], 'step')}, "
        f"{plural(pnl['n_restarts'], 'restart')}) refines it. "
        f"{percent(pnl['holdout_fraction'])} of the pixels, drawn at random, are held out of training; the restart "
        "with the lowest TC on them is "
        "kept (no labels are used). On the PNL benchmark most of its score comes from the Gaussianisation + FastICA "
        "start.\n"
        "- <b>paper</b>: the deep ICA of Li et al. (2022, Sec. 4.1): z-scored bands, a randomly initialised network "
        f"of {word(len(paper['hidden_units']))} ReLU layers ({widths(paper['hidden_units'])} units) and a linear "
        f"{ordinal(len(paper['hidden_units']) + 1)} layer, a differentiable power-iteration whitening "
        f"layer, alpha {number(paper['alpha'])}, kernel width {kernel_width(paper['kernel_width'])}, batch {batch}, "
        f"{plural(paper['n_restarts'], 'run', in_words=True)}. Not given by the paper: widths, Adam "
        f"{sci(paper['learning_rate'])}, {plural(paper['n_steps'], 'step')}. Each step eigendecomposes one "
        f"{batch} x {batch} matrix per component and one for their joint: seconds per step on a CPU.\n"
        "<b>Output</b>: a float32 raster with one band per component. Needs PyTorch."
    )


VARIANT_LABELS = variant_labels()
# one component has no dependence to remove (its total correlation is 0): the dialog starts at 2
N_COMPONENTS_OPTION = Advanced("N_COMPONENTS", "n_components", "Number of components", minimum=2)
# empty: the variant's value; type and range from the engine
OPTIONS = (
    Advanced("STEPS", "n_steps", "Training steps (empty: the variant's)", minimum=1),  # 0 steps: untrained, not ICA
    Advanced("RESTARTS", "n_restarts", "Restarts (empty: the variant's)"),
    Advanced("ALPHA", "alpha", "Renyi entropy order alpha (empty: the variant's)"),
)


class DeepICAComponents(DeepUnmixAlgorithm):
    N_COMPONENTS = N_COMPONENTS_OPTION.key
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
        "Blind source separation of any multiband raster: a neural network finds components that are as "
        "independent as possible (DDICA's general mode). The components are signals, not abundances: they are "
        "not non-negative, do not sum to one, and their sign and order are arbitrary, as in every ICA.\n"
        "Set the raster and the number of components. Leave Variant at 'pnl' (the default); 'paper' is the "
        "published deep ICA.\n"
        "Output: one band per component.\n"
        "Needs PyTorch. The Help button describes both variants and every parameter."
    )
    DETAILS = help_text()

    def initAlgorithm(self, config=None):
        self.add_input_raster("Raster")
        self.addParameter(number_parameter(DeepICA, N_COMPONENTS_OPTION, self.tr(N_COMPONENTS_OPTION.label), 3, False))
        self.add_seed()
        self.add_device()

        self.addParameter(
            enum_parameter(self, DeepICA, "variant", self.VARIANT, "Variant", VARIANT_LABELS, defaultValue=0)
        )
        for adv in OPTIONS:
            self.add_advanced(number_parameter(DeepICA, adv, self.tr(adv.label), None))
        add_input_options(self)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Independent components")))

    def execute(self, parameters, context, feedback):
        _require_torch()
        k = self.parameterAsInt(parameters, self.N_COMPONENTS, context)
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        self.check_output_folder(out)
        model = DeepICA(
            n_components=k,
            variant=enum_value(self, DeepICA, "variant", self.VARIANT, parameters, context),
            device=self.device(parameters, context),
            random_state=self.parameterAsInt(parameters, self.SEED, context),
            progress=self.progress_callback(feedback, 0, 90),
            **{adv.kwarg: read_number(self, DeepICA, adv, parameters, context) for adv in OPTIONS},
        )
        validate_params(model)  # before the raster is read
        options = input_options(self, parameters, context)
        data = load_for_fitting(self.raster_path(parameters, context), feedback, options)
        if k > data.cube.shape[0]:
            raise ParameterError(f"{k} components cannot be separated from {data.cube.shape[0]} bands")
        model.fit(np.ascontiguousarray(data.cube[:, data.mask].T))
        cfg = model.settings_
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
