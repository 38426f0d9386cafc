"""deepunmix:ddica — deep deterministic ICA (matrix-based Renyi total correlation) blind unmixing."""

from qgis.core import QgsProcessingParameterBoolean

from ..engine.ddica.clustering import NEAREST_UNITS
from ..engine.ddica.unmixing import DDICA, VARIANT_SETTINGS
from ..engine.reporting.metrics import pooled_rmse
from .blind import BlindUnmixingAlgorithm
from .engine_parameters import Advanced, enum_parameter, enum_value
from .help_numbers import count, kernel_width, number, percent, plural, sci, share, widths, word
from .tooltips import ddica_refine_tooltip

ALPHA = DDICA().alpha  # both variants' Renyi order: an __init__ default, not in VARIANT_SETTINGS
# REFINE without a purest-pixel fraction uses the default variant's
REFINE_PURIFY = VARIANT_SETTINGS["default"]["purify"]


def help_text(settings=VARIANT_SETTINGS, alpha=ALPHA) -> str:
    """The help panel's text, its numbers from the engine's ``settings`` (:data:`VARIANT_SETTINGS`) and ``alpha``."""
    p, d, a = settings["paper"], settings["default"], settings["authors_code"]
    paper_restarts = plural(p["n_restarts"], "restart")
    default_width = kernel_width(d["kernel_width"], "by Silverman's rule")
    return (
        "Blind unmixing with DDICA (Li et al., ICASSP 2022, deep deterministic independent component analysis): "
        "neural networks map every pixel spectrum to abundances (softmax: non-negative, summing to one) and are "
        "trained to make their outputs as independent as possible, measured by the matrix-based Renyi alpha-order "
        "total correlation (TC; entropies from the eigenvalues of normalised Gram matrices). Many differently "
        "initialised networks (restarts) are trained; their output maps are clustered with k-means. No ground truth "
        "is used anywhere.\n\n"
        "<b>Variant</b>:\n"
        f"<i>paper</i> runs the paper's configuration: {word(len(p['hidden_units']))} hidden ReLU layers of "
        f"{widths(p['hidden_units'])} units with BatchNorm (the "
        "authors' network; <b>hidden layer width</b> changes the width), softmax head, raw reflectance input, "
        f"alpha {number(alpha)}, kernel width {kernel_width(p['kernel_width'])}, Adam learning rate "
        f"{sci(p['learning_rate'])}, shuffled mini-batches of {count(p['batch_size'])} pixels for "
        f"{plural(p['n_epochs'], 'epoch')} "
        f"(the authors' code; the paper gives no count), {paper_restarts}, the TC of the softmax outputs as the only "
        "loss, plain k-means over all restarts' maps, cluster means min-max scaled: these network maps are the "
        "abundances (they need not sum to one). The paper estimates no endmembers: the CSV holds non-negative least "
        "squares endmembers for the maps (not in the paper). <b>Whitening</b> adds the authors' whitening layer "
        f"(power iteration on the uncentred second moment of the outputs). {paper_restarts} of "
        f"{widths(p['hidden_units'])}-wide networks are "
        "far too slow on a CPU: set <b>restarts</b> and <b>hidden layer width</b> lower (this is then no longer "
        "the exact paper setting). With this variant every advanced number left at its shown default takes the "
        "paper's value instead.\n"
        "<i>authors' code</i> is the paper variant read out as the authors' repository runs it: a seventh, "
        f"{a['hidden_units'][-1]}-wide BatchNorm layer, their whitening layer in the loss and in the output maps, "
        "BatchNorm with each evaluation batch's own statistics (their model is never switched to inference mode), "
        f"each run's maps min-max scaled before k-means, the {NEAREST_UNITS} maps nearest each k-means centre, full "
        "batches only, and every pixel (no training sample). docs/ddica_variants.md gives each of these differences "
        "with its measured effect.\n"
        f"<i>default</i> (ours) differs in: {count(len(d['hidden_units']))} hidden layers of "
        f"{widths(d['hidden_units'])} units, no BatchNorm, small head initialisation, "
        f"per-band standardised input, kernel width {default_width}, batches of "
        f"{count(d['batch_size'])} pixels drawn with "
        f"replacement, learning rate {sci(d['learning_rate'])}, {plural(d['n_steps'], 'step')}, "
        f"{plural(d['n_restarts'], 'restart')}; each output standardised over the batch before "
        "the TC and a variance term added (both keep outputs from collapsing to constants); "
        + (
            f"the {share(d['keep_fraction'])} of restarts with the lowest reconstruction error kept; "
            if d["keep_fraction"] < 1
            else ""
        )
        + "k-means followed by a one-unit-per-restart matching; maps "
        "renormalised to sum to one; each endmember the mean of its map's "
        f"{percent(d['purify'])} purest pixels, moved by {plural(d['expand'], 'expansion step')} until its near-pure "
        "pixels are fitted, and fully constrained least squares (FCLS) abundances for them. None of these is in the "
        "paper. Every difference and its measured effect is listed in docs/ddica_variants.md.\n"
        "Measured (benchmarks/results/ddica_default.md on the project's home page, seeds 0 to 4; chosen on Samson and synthetic scenes, "
        "Jasper Ridge only checked): on Samson and the synthetic scenes its endmembers and abundances are at least "
        "as accurate as VCA, SiVM or N-FINDR + FCLS in the median, and its worst seed's endmember angle stays close to "
        "the median (one synthetic seed's abundances were much worse); BUDDIP's default "
        "is more accurate still. On Jasper Ridge its abundances are less accurate than SiVM + FCLS. What the "
        "training contributes: with untrained networks the same pipeline's endmembers are far worse in spectral "
        "angle on Samson and the synthetic scenes, but on Jasper Ridge the untrained networks did better, so the "
        "training does not help on every scene. The log and the report warn when a result looks degenerate "
        "(endmembers found twice, an empty or constant map, an endmember zero over a run of bands, a fit far worse "
        "than VCA + FCLS, restarts that disagree) and say what to try.\n\n"
        "Training uses a random sample of the valid pixels; all pixels are then unmixed.\n\n"
        "<b>Outputs</b>: abundance maps (one band per endmember), endmember spectra (CSV), an HTML report.\n\n"
        "Needs PyTorch; when it is missing the algorithm says how to install it."
    )


def kernel_width_label(settings=VARIANT_SETTINGS) -> str:
    widths_ = " or ".join(kernel_width(settings[v]["kernel_width"]) for v in ("default", "paper"))
    return f"Kernel width (0 = the variant's: {widths_})"


class DDICAUnmixing(BlindUnmixingAlgorithm):
    PIXEL_NORM = "PIXEL_NORM"
    REFINE = "REFINE"
    VARIANT = "VARIANT"
    WHITENING = "WHITENING"
    NETWORK_MAPS = "NETWORK_MAPS"
    NAME = "ddica"
    DISPLAY_NAME = "DDICA blind unmixing (deep deterministic ICA)"
    HELP = (
        "Blind unmixing with DDICA (Li et al., ICASSP 2022): neural networks map every pixel spectrum to abundances "
        "and are trained to make their outputs as independent as possible. No ground truth is used.\n"
        "Set the hyperspectral raster and the number of endmembers (not known? run 'Estimate number of endmembers' "
        "first, or the example model). Leave Variant at 'default' (our pipeline, meant for a CPU); the other "
        "variants reproduce the published configurations and are much slower.\n"
        "Outputs: abundance maps (one band per endmember, fractions summing to one), endmember spectra (CSV) and "
        "an optional HTML report.\n"
        "Needs PyTorch. The Help button describes each variant, every difference from the paper and every "
        "parameter."
    )
    DETAILS = help_text()
    ADVANCED = (
        Advanced("ALPHA", "alpha", "Renyi entropy order alpha"),
        Advanced(
            "KERNEL_WIDTH",
            "kernel_width",
            kernel_width_label(),
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
        "paper": "paper (Li et al. 2022: its network, loss and settings)",
        "authors_code": "authors' code (the paper's network read out as the authors' repository does)",
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
        refine = QgsProcessingParameterBoolean(
            self.REFINE,
            self.tr("Endmembers from the purest pixels, FCLS abundances (the default variant does this)"),
            defaultValue=False,
            optional=True,
        )
        refine.setHelp(ddica_refine_tooltip(REFINE_PURIFY))  # built from the engine's numbers at run time
        self.add_advanced(refine)
        self.add_advanced(
            QgsProcessingParameterBoolean(
                self.NETWORK_MAPS, self.tr("Network maps as abundances"), defaultValue=False, optional=True
            )
        )
        self.add_advanced(
            QgsProcessingParameterBoolean(
                self.WHITENING,
                self.tr("Whitening layer before the TC"),
                defaultValue=False,
                optional=True,
            )
        )
        self.add_abundance_convention_option()

    def estimator_defaults(self) -> dict:
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
            kwargs.update(purify=purify if purify > 0 else REFINE_PURIFY, final_abundances="fcls")
        if self.parameterAsBoolean(parameters, self.NETWORK_MAPS, context):
            kwargs.update(final_abundances="network")
        return kwargs

    def reconstruction_rmse(self, model, data):
        return pooled_rmse(model.reconstruction_error_)

    def training_memory(self, data, kwargs, parameters, context):
        from ..engine.ddica.memory import training_bytes

        settings = DDICA(**{k: v for k, v in kwargs.items() if k != "progress"}).resolved_settings()
        n_fit = min(int(data.mask.sum()), settings["max_fit_pixels"] or int(data.mask.sum()))
        return training_bytes(
            data.cube.shape[0],
            n_fit,
            self.parameterAsInt(parameters, self.N_ENDMEMBERS, context),
            n_units=kwargs.get("n_units"),
            **settings,
        )

    def estimator_class(self):
        return DDICA

    def method_label(self):
        return "DDICA"

    def pixel_function(self, model):
        return model.predict_abundances
