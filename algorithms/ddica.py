"""deepunmix:ddica — deep deterministic ICA (matrix-based Renyi total correlation) blind unmixing."""

from qgis.core import QgsProcessingParameterBoolean

from ..engine.ddica.unmixing import DDICA
from ..engine.reporting.metrics import pooled_rmse
from .blind import BlindUnmixingAlgorithm, Run
from .engine_parameters import ChoiceOption, NumberOption, variant_table

VARIANT_LABELS = {
    "default": "default (ours: see the help for every difference)",
    "paper": "paper (Li et al. 2022: its network, loss and settings)",
    "authors_code": "authors' code (the paper's network read out as the authors' repository does)",
}


def refine_purify() -> float:
    """The purest-pixel fraction REFINE uses when none is set: the default variant's."""
    return variant_table(DDICA)["default"]["purify"]


class DDICAUnmixing(BlindUnmixingAlgorithm):
    ESTIMATOR = DDICA
    LABEL = "DDICA"
    PIXEL_NORM = "PIXEL_NORM"
    REFINE = "REFINE"
    VARIANT = "VARIANT"
    WHITENING = "WHITENING"
    NETWORK_MAPS = "NETWORK_MAPS"
    NAME = "ddica"
    CHOICES = (ChoiceOption(VARIANT, "variant", "Variant", VARIANT_LABELS),)
    OPTIONS = (
        NumberOption("ALPHA", "alpha", "Renyi entropy order alpha"),
        NumberOption("KERNEL_WIDTH", "kernel_width", "Kernel width"),
        # the dialog keeps its published floors where the engine allows less (tests and ablations use it):
        # Gram matrices of fewer than 16 pixels, and 0 steps (untrained networks), give no DDICA result
        NumberOption("BATCH_SIZE", "batch_size", "Batch size (pixels per step)", minimum=16),
        NumberOption("RESTARTS", "n_restarts", "Restarts (networks trained)"),
        NumberOption("OUTPUT_UNITS", "n_units", "Output units (empty = number of endmembers)"),
        NumberOption("STEPS", "n_steps", "Training steps", minimum=1),
        NumberOption("LEARNING_RATE", "learning_rate", "Learning rate"),
        NumberOption("VARIANCE_WEIGHT", "variance_weight", "Variance weight (larger = crisper maps)"),
        NumberOption("PURIFY", "purify", "Purest-pixel fraction (0 = no purest-pixel endmembers)"),
        NumberOption("EXPAND", "expand", "Purest-pixel endmembers: expansion steps"),
        # hidden_units is a tuple of widths in the engine: the dialog sets one width for every layer
        NumberOption("HIDDEN_WIDTH", "hidden_units", "Hidden layer width", minimum=1, integer=True),
    )
    FLAGS = {  # advanced check boxes: label
        PIXEL_NORM: "Normalise pixel brightness",
        REFINE: "Endmembers from the purest pixels, FCLS abundances (the default variant does this)",
        NETWORK_MAPS: "Network maps as abundances",
        WHITENING: "Whitening layer before the TC",
    }

    def extra_parameters(self):
        for key, label in self.FLAGS.items():
            self.add_advanced(QgsProcessingParameterBoolean(key, self.tr(label), defaultValue=False, optional=True))
        self.add_abundance_convention_option()

    def estimator_kwargs(self, parameters, context) -> dict:
        kwargs = super().estimator_kwargs(parameters, context)
        flag = {key: self.parameterAsBoolean(parameters, key, context) for key in self.FLAGS}
        if kwargs["hidden_units"]:
            layers = len(variant_table(DDICA)[kwargs["variant"]]["hidden_units"])
            kwargs["hidden_units"] = (kwargs["hidden_units"],) * layers
        kwargs["preprocess"] = "pixel_norm" if flag[self.PIXEL_NORM] else None
        kwargs["whitening"] = True if flag[self.WHITENING] else None
        kwargs["abundance_convention"] = self.abundance_convention(parameters, context)
        if flag[self.REFINE]:
            kwargs.update(purify=kwargs["purify"] or refine_purify(), final_abundances="fcls")
        if flag[self.NETWORK_MAPS]:
            kwargs["final_abundances"] = "network"
        return kwargs

    def model_rmse(self, model, data):
        return pooled_rmse(model.reconstruction_error_)

    def training_memory(self, run: Run) -> int:
        from ..engine.ddica.memory import training_bytes

        model, mask = run.estimator, run.data.mask
        settings = model.resolved_settings()
        n_fit = min(int(mask.sum()), settings["max_fit_pixels"] or int(mask.sum()))
        return training_bytes(
            run.data.cube.shape[0], n_fit, model.n_endmembers, **{"n_units": model.n_units, **settings}
        )
