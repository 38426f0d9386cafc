"""deepunmix:undip — abundances by a deep image prior with fixed endmembers (UnDIP)."""

from qgis.core import QgsProcessingParameterFile

from ..engine.dip.undip import SETTINGS, UnDIP
from ..engine.io.endmember_csv import read_endmembers_csv
from ..engine.io.matching import align_to_bands
from ..engine.io.raster import raster_info
from .blind import BlindUnmixingAlgorithm
from .buddip import EXTRACTOR_LABELS
from .engine_parameters import Advanced, enum_parameter, enum_value
from .help_numbers import count, word
from .inputs import MEMORY_MB


def variant_labels(settings=SETTINGS) -> dict:
    """The VARIANT options, their numbers from ``settings`` (the engine's :data:`SETTINGS`)."""
    light, paper = settings["default"], settings["paper"]
    return {
        "default": f"Light (CPU): {count(light['n_iter'])} iterations, small network",
        "paper": f"Paper (Rasti et al.): {count(paper['n_iter'])} iterations, {count(paper['channels'])} channels",
    }


def help_text(settings=SETTINGS) -> str:
    """The help panel's text, its numbers from ``settings`` (the engine's :data:`SETTINGS`)."""
    light, paper = settings["default"], settings["paper"]
    return (
        "Abundance estimation with UnDIP (Rasti et al.): the endmembers are fixed (from a CSV you give, or extracted "
        "with SiVM, VCA or N-FINDR), and a convolutional deep image prior produces the abundance maps (softmax: "
        "non-negative, summing to one), fitted to reconstruct the image. The network's spatial prior denoises the "
        "maps compared with per-pixel FCLS. The result is an exponential moving average of the outputs; no ground "
        "truth is used.\n\n"
        "<b>Hyperspectral raster</b>; <b>Number of endmembers</b> (ignored when an endmember CSV is given); "
        "<b>Endmembers (CSV)</b> (optional, one row per raster band); <b>Random seed</b>; <b>Compute device</b>; "
        "<b>Endmember extractor</b> (when no CSV is given); <b>Variant</b>: <b>Light</b> (default; "
        f"{count(light['n_iter'])} iterations of a small {word(light['depth'])}-level network, about a minute for "
        "100 x 100 pixels on one CPU core) or <b>Paper</b> (Rasti et "
        f"al.'s settings: {count(paper['n_iter'])} iterations of a {word(paper['depth'])}-level network with "
        f"{count(paper['channels'])} channels, SiVM on SVD-denoised data).\n"
        "Size: the number of pixels one network may hold comes from the device's memory; larger rasters are "
        "unmixed in overlapping tiles whose maps are blended across the overlaps; a raster over the memory budget "
        "is read tile by tile from disk.\n\n<b>Outputs</b>: abundance maps, the endmembers used (CSV), an HTML "
        "report. Needs PyTorch."
    )


VARIANT_LABELS = variant_labels()


class UnDIPUnmixing(BlindUnmixingAlgorithm):
    EXTRACTOR = "EXTRACTOR"

    NAME = "undip"
    DISPLAY_NAME = "UnDIP unmixing (deep image prior abundances)"
    GROUP = "Abundances"
    GROUP_ID = "abundances"
    HELP = (
        "Abundance maps with UnDIP (Rasti et al.): the endmembers are fixed, from your CSV or extracted (SiVM by "
        "default), and a convolutional deep image prior produces abundance maps that reconstruct the image; its "
        "spatial prior gives less noisy maps than per-pixel FCLS.\n"
        "Set the hyperspectral raster and either an endmember CSV or the number of endmembers. Leave Variant at "
        "'Light' (meant for a CPU); 'Paper' uses the published settings and is slower.\n"
        "Outputs: abundance maps (one band per endmember, fractions summing to one), the endmembers used (CSV) "
        "and an optional HTML report.\n"
        "Needs PyTorch. The Help button describes the variants, tiling of large rasters and every parameter."
    )
    DETAILS = help_text()
    ADVANCED = (
        Advanced("ITERATIONS", "n_iter", "Iterations (0 = the variant's)", zero_means_none=True),
        Advanced("LEARNING_RATE", "learning_rate", "Learning rate (0 = the variant's)", zero_means_none=True),
    )
    VARIANT = "VARIANT"

    def estimator_class(self):
        return UnDIP

    def method_label(self):
        return "UnDIP"

    def extra_parameters(self):
        self.addParameter(
            QgsProcessingParameterFile(self.ENDMEMBERS, self.tr("Endmembers (CSV)"), extension="csv", optional=True)
        )
        cls = self.estimator_class()
        self.addParameter(
            enum_parameter(
                self,
                cls,
                "extractor",
                self.EXTRACTOR,
                "Endmember extractor (without a CSV)",
                EXTRACTOR_LABELS,
                defaultValue=0,
            )
        )
        self.addParameter(enum_parameter(self, cls, "variant", self.VARIANT, "Variant", VARIANT_LABELS, defaultValue=0))

    def extra_kwargs(self, parameters, context):
        cls = self.estimator_class()
        return {
            "extractor": enum_value(self, cls, "extractor", self.EXTRACTOR, parameters, context),
            "variant": enum_value(self, cls, "variant", self.VARIANT, parameters, context),
            "memory_mb": self.parameterAsDouble(parameters, MEMORY_MB, context) or None,  # as inputs.memory_mb
        }

    def make_estimator(self, data, kwargs, parameters, context, feedback):
        csv_path = self.parameterAsFile(parameters, self.ENDMEMBERS, context)
        if not csv_path:
            return super().make_estimator(data, kwargs, parameters, context, feedback)
        table = read_endmembers_csv(csv_path)
        info = raster_info(data.path)
        E = align_to_bands(table, data.bands, info.wavelengths, info.count)  # rows by wavelength/band, never position
        feedback.pushInfo(
            self.tr("UnDIP with the {n} endmembers of {path}").format(n=table.matrix.shape[1], path=csv_path)
        )
        return self.estimator_class()(endmembers=E, **kwargs)

    SAMPLES_OK = False
    TILES_FROM_DISK = True
