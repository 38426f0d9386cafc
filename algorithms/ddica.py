"""deepunmix:ddica — deep deterministic ICA (matrix-based Renyi total correlation) blind unmixing."""

from qgis.core import QgsProcessingParameterBoolean

from ..engine.metrics import pooled_rmse
from .blind import BlindUnmixingAlgorithm
from .engine_parameters import Advanced, enum_parameter, enum_value
from .inputs import INPUT_HELP


class DDICAUnmixing(BlindUnmixingAlgorithm):
    PIXEL_NORM = "PIXEL_NORM"
    REFINE = "REFINE"
    VARIANT = "VARIANT"
    WHITENING = "WHITENING"
    NETWORK_MAPS = "NETWORK_MAPS"
    NAME = "ddica"
    DISPLAY_NAME = "DDICA blind unmixing (deep deterministic ICA)"
    HELP = (
        "Blind unmixing with DDICA (Li et al., ICASSP 2022, deep deterministic independent component analysis): "
        "neural networks map every pixel spectrum to abundances (softmax: non-negative, summing to one) and are "
        "trained to make their outputs as independent as possible, measured by the matrix-based Renyi alpha-order "
        "total correlation (TC; entropies from the eigenvalues of normalised Gram matrices). Many differently "
        "initialised networks (restarts) are trained; their output maps are clustered with k-means. No ground truth "
        "is used anywhere.\n\n"
        "<b>Variant</b>:\n"
        "<i>paper</i> runs the paper's configuration: six hidden ReLU layers of 4096 units with BatchNorm (the "
        "authors' network; <b>hidden layer width</b> changes the width), softmax head, raw reflectance input, "
        "alpha 1.01, kernel width 0.1, Adam learning rate 1e-4, shuffled mini-batches of 1000 pixels for 3 epochs "
        "(the authors' code; the paper gives no count), 1000 restarts, the TC of the softmax outputs as the only "
        "loss, plain k-means over all restarts' maps, cluster means min-max scaled: these network maps are the "
        "abundances (they need not sum to one). The paper estimates no endmembers: the CSV holds non-negative least "
        "squares endmembers for the maps (not in the paper). <b>Whitening</b> adds the authors' whitening layer "
        "(power iteration on the uncentred second moment of the outputs). 1000 restarts of 4096-wide networks are "
        "far too slow on a CPU: set <b>restarts</b> and <b>hidden layer width</b> lower (this is then no longer "
        "the exact paper setting). With this variant every advanced number left at its shown default takes the "
        "paper's value instead.\n"
        "<i>default</i> (ours) differs in: 2 hidden layers of 128 units, no BatchNorm, small head initialisation, "
        "per-band standardised input, kernel width by Silverman's rule, batches of 128 pixels drawn with "
        "replacement, learning rate 1e-3, 100 steps, 32 restarts; each output standardised over the batch before "
        "the TC and a variance term added (both keep outputs from collapsing to constants); the quarter of restarts "
        "with the lowest reconstruction error kept; k-means followed by a one-unit-per-restart matching; maps "
        "renormalised to sum to one; endmembers by non-negative least squares (NNLS) of the data on these maps, "
        "and fully constrained least squares (FCLS) abundances for them. None of these is in the paper. Every "
        "difference and its measured effect (including how much training changes the result) is listed in "
        "docs/ddica_variants.md.\n\n"
        "Training uses a random sample of the valid pixels; all pixels are then unmixed.\n\n"
        "<b>Outputs</b>: abundance maps (one band per endmember), endmember spectra (CSV), an HTML report.\n\n"
        "Needs PyTorch; when it is missing the algorithm says how to install it."
    ) + INPUT_HELP
    ADVANCED = (
        Advanced("ALPHA", "alpha", "Renyi entropy order alpha"),
        Advanced(
            "KERNEL_WIDTH",
            "kernel_width",
            "Kernel width (0 = the variant's: Silverman's rule or 0.1)",
            zero_means_none=True,
        ),
        # the dialog keeps its published floors where the engine allows less (tests and ablations use it):
        # Gram matrices of fewer than 16 pixels, and 0 steps (untrained networks), give no DDICA result
        Advanced("BATCH_SIZE", "batch_size", "Batch size (pixels per step)", minimum=16),
        Advanced("RESTARTS", "n_restarts", "Restarts (networks trained)"),
        Advanced("OUTPUT_UNITS", "n_units", "Output units (0 = number of endmembers)", zero_means_none=True),
        Advanced("STEPS", "n_steps", "Training steps", minimum=1),
        Advanced("LEARNING_RATE", "learning_rate", "Learning rate"),
        Advanced("VARIANCE_WEIGHT", "variance_weight", "Variance weight (larger = crisper maps)"),
        Advanced("PURIFY", "purify", "Purest-pixel fraction (0 = no purest-pixel endmembers)"),
        Advanced("EXPAND", "expand", "Purest-pixel endmembers: expansion steps"),
        # hidden_units is a tuple of widths in the engine: the dialog sets one width for every layer
        Advanced(
            "HIDDEN_WIDTH", "hidden_units", "Hidden layer width (0 = the variant's)", zero_means_none=True, integer=True
        ),
    )
    VARIANT_LABELS = {
        "default": "default (ours: see the help for every difference)",
        "paper": "paper (Li et al. 2022, as published)",
    }

    def extra_parameters(self):
        self.addParameter(
            enum_parameter(
                self,
                self.estimator_class(),
                "variant",
                self.VARIANT,
                "Variant",
                self.VARIANT_LABELS,
                defaultValue=0,
                optional=True,
            )
        )
        self.add_advanced(
            QgsProcessingParameterBoolean(
                self.PIXEL_NORM, self.tr("Normalise pixel brightness"), defaultValue=False, optional=True
            )
        )
        self.add_advanced(
            QgsProcessingParameterBoolean(
                self.REFINE,
                self.tr("Purest-pixel endmembers and FCLS (training barely matters then)"),
                defaultValue=False,
                optional=True,
            )
        )
        self.add_advanced(
            QgsProcessingParameterBoolean(
                self.NETWORK_MAPS, self.tr("Network maps as abundances"), defaultValue=False, optional=True
            )
        )
        self.add_advanced(
            QgsProcessingParameterBoolean(
                self.WHITENING,
                self.tr("Whitening layer before the TC (the authors' code)"),
                defaultValue=False,
                optional=True,
            )
        )
        self.add_abundance_convention_option()

    def estimator_defaults(self) -> dict:
        from ..engine.ddica.unmixing import DDICA

        defaults = super().estimator_defaults()
        defaults.update(DDICA.variant_settings("default"))
        defaults["hidden_units"] = None  # shown as 0: the variant's width
        return defaults

    def estimator_kwargs(self, parameters, context) -> dict:
        kwargs = super().estimator_kwargs(parameters, context)
        width = kwargs.pop("hidden_units", None)
        variant = enum_value(self, self.estimator_class(), "variant", self.VARIANT, parameters, context)
        settings = self.estimator_class().variant_settings(variant)
        if variant != "default":
            # the dialog shows the default variant's values: left there, a number takes this variant's value
            shown = self.estimator_defaults()
            for adv in self.ADVANCED:
                if (
                    adv.kwarg in settings
                    and kwargs.get(adv.kwarg) is not None
                    and kwargs[adv.kwarg] == shown.get(adv.kwarg)
                ):
                    kwargs[adv.kwarg] = None
            for key in (
                "preprocess",
                "purify",
            ):  # options left at their default (final_abundances is only set on request)
                if kwargs.get(key) == shown.get(key):
                    kwargs[key] = None
        kwargs["variant"] = variant
        if width:
            kwargs["hidden_units"] = (int(width),) * len(settings["hidden_units"])
        kwargs["whitening"] = True if self.parameterAsBoolean(parameters, self.WHITENING, context) else None
        return kwargs

    def extra_kwargs(self, parameters, context):
        pixel_norm = self.parameterAsBoolean(parameters, self.PIXEL_NORM, context)
        kwargs = {
            "preprocess": "pixel_norm" if pixel_norm else "standardise",
            "abundance_convention": self.abundance_convention(parameters, context),
        }
        if self.parameterAsBoolean(parameters, self.REFINE, context):
            purify = self.parameterAsDouble(parameters, "PURIFY", context)
            kwargs.update(purify=purify if purify > 0 else 0.05, final_abundances="fcls")
        if self.parameterAsBoolean(parameters, self.NETWORK_MAPS, context):
            kwargs.update(final_abundances="network")
        return kwargs

    def reconstruction_rmse(self, model, data):
        return pooled_rmse(model.reconstruction_error_)

    def training_memory(self, data, kwargs, parameters, context):
        from ..engine.ddica.memory import training_bytes
        from ..engine.ddica.unmixing import DDICA

        settings = DDICA(**{k: v for k, v in kwargs.items() if k != "progress"}).resolved_settings()
        n_fit = min(int(data.mask.sum()), kwargs.get("max_fit_pixels") or 20000)
        return training_bytes(
            data.cube.shape[0],
            n_fit,
            self.parameterAsInt(parameters, self.N_ENDMEMBERS, context),
            n_units=kwargs.get("n_units"),
            **settings,
        )

    def estimator_class(self):
        from ..engine.ddica.unmixing import DDICA

        return DDICA

    def method_label(self):
        return "DDICA"

    def pixel_function(self, model):
        return model.predict_abundances
