"""deepunmix:buddip — blind unmixing with a double deep image prior."""

from qgis.core import QgsProcessingParameterBoolean

from ..engine.dip.buddip import BUDDIP, PAPER_JASPER, SETTINGS, UNET_WIDTHS
from ..engine.dip.tiling import CPU_AVAILABLE_FRACTION, CUDA_FREE_FRACTION
from .blind import BlindUnmixingAlgorithm
from .engine_parameters import Advanced, enum_parameter, enum_value, number_parameter, read_number
from .help_numbers import count, number, percent, sci, widths
from .inputs import MEMORY_MB

# labels by engine value; the values and their order are the engine's (engine.dip.buddip.BUDDIP)
EXTRACTOR_LABELS = {"sivm": "SiVM", "vca": "VCA", "nfindr": "N-FINDR"}


def weights(settings: dict, sep: str = " / ") -> str:
    """The loss weights alpha1 / alpha2 / alpha3 of a settings entry."""
    return sep.join(number(settings[k]) for k in ("alpha1", "alpha2", "alpha3"))


def variant_labels(settings=SETTINGS) -> dict:
    """The VARIANT options, their numbers from ``settings`` (the engine's :data:`SETTINGS`)."""
    paper, authors = settings["paper"], settings["authors_code"]
    return {
        "default": "Default (light, CPU): refined guidance, small residual networks",
        "paper": f"Paper (Zhou and Rodrigues 2022): noise inputs, {weights(paper, '/')}, lr "
        f"{sci(paper['learning_rate'])}, {count(paper['n_iter'])} iterations",
        "authors_code": f"Authors' code: guidance inputs, {weights(authors, '/')}, lr {sci(authors['learning_rate'])}, "
        f"{count(authors['n_iter'])} iterations",
    }


VARIANT_LABELS = variant_labels()
_PAPER = SETTINGS["paper"]
# left empty, each takes the chosen variant's value; type and range from the engine
VARIANT_OPTIONS = (
    Advanced("ALPHA1", "alpha1", "Loss weight alpha1 (EDIP term)"),
    Advanced("ALPHA2", "alpha2", "Loss weight alpha2 (ADIP term)"),
    Advanced("ALPHA3", "alpha3", "Loss weight alpha3 (blind reconstruction term)"),
    Advanced("ITERATIONS", "n_iter", "Iterations"),
    Advanced("LEARNING_RATE", "learning_rate", "Learning rate"),
    Advanced("PURIFY", "purify", f"First-guess refinement: purest-pixel fraction ({number(_PAPER['purify'])} = paper)"),
    Advanced("EXPAND", "expand", f"First-guess refinement: expansion steps ({number(_PAPER['expand'])} = paper)"),
    Advanced("MIN_VOLUME", "min_volume", "Minimum-volume weight (0 = off; not in the paper)"),
)


def help_text(settings=SETTINGS, jasper=PAPER_JASPER, unet_widths=UNET_WIDTHS) -> str:
    """The help panel's text, its numbers from the engine's ``settings`` (:data:`SETTINGS`), the paper's Jasper
    Ridge changes (``jasper``) and the U-Net widths."""
    paper, authors, default = settings["paper"], settings["authors_code"], settings["default"]
    return (
        "Blind unmixing with BUDDIP (Zhou and Rodrigues): two deep image priors, one producing the endmember "
        "spectra (sigmoid, non-negative) and one the abundance maps (softmax, non-negative and summing to one), "
        "trained together on a1|Y - E(net) A~|^2 + a2|Y - E~ A(net)|^2 + a3|Y - E(net) A(net)|^2, where E~ and A~ "
        "are a classic first guess (endmembers from SiVM, VCA or N-FINDR; abundances from FCLS). No ground truth is "
        "used anywhere.\n\n"
        "<b>Variant</b>:\n"
        "- <b>Paper</b>: as the paper describes it: both networks fed with fixed random noise, weights "
        f"{weights(paper)}, Adam {sci(paper['learning_rate'])}, {count(paper['n_iter'])} iterations (its synthetic "
        f"experiment; its Jasper Ridge run used {weights(jasper)} and {count(jasper['n_iter'])}: set "
        "them below), SiVM on SVD-denoised data + FCLS as first guess, the networks' own endmembers and abundances "
        f"as output. Layer widths ({widths(unet_widths)}) from the authors' code, as the paper gives none. Slow: "
        "about 4-6 s per iteration for 100 x 100 pixels on one CPU core; meant for a GPU.\n"
        "- <b>Authors' code</b>: their repository's choices: the first guess as the networks' input, weights "
        f"{weights(authors)}, Adam {sci(authors['learning_rate'])}, {count(authors['n_iter'])} iterations; their "
        "pick of the output by ground truth is not copied (last output).\n"
        "- <b>Default</b>: a light setting for a CPU: the first guess is refined (each endmember averaged over its "
        f"{percent(default['purify'])} purest pixels, then moved until its near-pure pixels are fitted), small "
        f"residual networks start from it, {count(default['n_iter'])} iterations at {sci(default['learning_rate'])}, "
        "a moving average of the outputs, and FCLS abundances for the learned "
        "endmembers. Measured (benchmarks/RESULTS.md on the project's home page): its gain over SiVM + FCLS comes from the refinement; on the "
        "real scenes measured (Samson, Jasper Ridge) its training leaves the refined first guess slightly worse, on "
        "synthetic scenes at 20-25 dB it improves it. The log and the report of every run held in memory say how "
        "far its result moved from its first guess (endmember spectral angles, abundance change).\n"
        "<b>Minimum-volume weight</b> (not in the paper, off in every variant) adds a term that shrinks the "
        "endmembers' simplex, scaled to the first guess's fit. Measured (benchmarks/results/buddip_schedules.md on the "
        "project's home page, 5 seeds): at 30 it makes the training improve on the first guess on real scenes with near-pure pixels "
        "(Samson, where it was chosen, and Jasper Ridge, the check) and makes it much worse on synthetic scenes "
        "without pure pixels; no setting tried improved on the first guess on both kinds of scene.\n\n"
        "<b>Hyperspectral raster</b>; <b>Number of endmembers</b>; <b>Random seed</b>; <b>Compute device</b>; "
        "<b>Initial endmember extractor</b>.\n"
        "Size: the whole image is one network input, so the number of pixels one network may hold comes from the "
        f"device's memory (CUDA: {percent(CUDA_FREE_FRACTION)} of its free memory; CPU: "
        f"{percent(CPU_AVAILABLE_FRACTION)} of the available RAM, at most the memory budget). Larger "
        "rasters are unmixed in overlapping tiles: one first guess for the whole image, one pair of networks per "
        "tile, endmembers averaged over the tiles and abundance maps blended across the overlaps. A raster over the "
        "memory budget is read tile by tile from disk (the first guess from a random pixel sample; the blend is "
        "accumulated in a temporary file beside the output).\n\n"
        "<b>Outputs</b>: abundance maps, endmember spectra (CSV), an HTML report. Needs PyTorch."
    )


class BUDDIPUnmixing(BlindUnmixingAlgorithm):
    EXTRACTOR = "EXTRACTOR"
    NETWORK_ABUNDANCES = "NETWORK_ABUNDANCES"
    VARIANT = "VARIANT"

    NAME = "buddip"
    DISPLAY_NAME = "BUDDIP blind unmixing (double deep image prior)"
    HELP = (
        "Blind unmixing with BUDDIP (Zhou and Rodrigues, ICASSP 2022): two deep image priors, one for the endmember "
        "spectra and one for the abundance maps, trained together from a classic first guess (SiVM endmembers, "
        "FCLS abundances). No ground truth is used.\n"
        "Set the hyperspectral raster and the number of endmembers (not known? run 'Estimate number of endmembers' "
        "first). Leave Variant at 'Default' (light, meant for a CPU); 'Paper' and 'Authors' code' reproduce the "
        "published settings and are meant for a GPU. Large rasters are unmixed in overlapping tiles.\n"
        "Outputs: abundance maps (one band per endmember, fractions summing to one), endmember spectra (CSV) and "
        "an optional HTML report.\n"
        "Needs PyTorch. The Help button describes each variant, what was measured and every parameter."
    )
    DETAILS = help_text()

    def estimator_class(self):
        return BUDDIP

    def method_label(self):
        return "BUDDIP"

    def extra_parameters(self):
        cls = self.estimator_class()
        self.addParameter(
            enum_parameter(
                self, cls, "extractor", self.EXTRACTOR, "Initial endmember extractor", EXTRACTOR_LABELS, defaultValue=0
            )
        )
        self.addParameter(enum_parameter(self, cls, "variant", self.VARIANT, "Variant", VARIANT_LABELS, defaultValue=0))
        for adv in VARIANT_OPTIONS:
            label = self.tr("{label} (empty = the variant's)").format(label=self.tr(adv.label))
            self.add_advanced(number_parameter(cls, adv, label, None))
        self.add_advanced(
            QgsProcessingParameterBoolean(
                self.NETWORK_ABUNDANCES,
                self.tr("Abundances from the network (off = the variant's choice)"),
                defaultValue=False,
                optional=True,
            )
        )

    def extra_kwargs(self, parameters, context):
        cls = self.estimator_class()
        kwargs = {
            "extractor": enum_value(self, cls, "extractor", self.EXTRACTOR, parameters, context),
            "variant": enum_value(self, cls, "variant", self.VARIANT, parameters, context),
            "memory_mb": self.parameterAsDouble(parameters, MEMORY_MB, context) or None,  # as inputs.memory_mb
        }
        for adv in VARIANT_OPTIONS:
            value = read_number(self, cls, adv, parameters, context)
            if value is not None:
                kwargs[adv.kwarg] = value
        if self.parameterAsBoolean(parameters, self.NETWORK_ABUNDANCES, context):
            kwargs["final_abundances"] = "adip"
        return kwargs

    SAMPLES_OK = False
    TILES_FROM_DISK = True
