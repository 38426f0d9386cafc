"""deepunmix:ddica — deep deterministic ICA (matrix-based Renyi total correlation) blind unmixing."""
import numpy as np
from qgis.core import QgsProcessingParameterBoolean, QgsProcessingParameterEnum

from .inputs import INPUT_HELP
from .blind import Advanced, BlindUnmixingAlgorithm


class DDICAUnmixing(BlindUnmixingAlgorithm):
    PIXEL_NORM = "PIXEL_NORM"
    REFINE = "REFINE"
    ABUNDANCE_CONVENTION = "ABUNDANCE_CONVENTION"
    CONVENTIONS = ["fractions", "peak_normalised"]
    NAME = "ddica"
    DISPLAY_NAME = "DDICA blind unmixing (deep deterministic ICA)"
    HELP = (
        "Blind unmixing with DDICA (Li et al., deep deterministic independent component analysis): a neural network "
        "maps every pixel spectrum to abundances (softmax: non-negative, summing to one) and is trained to make its "
        "outputs as independent as possible, measured by the matrix-based Renyi alpha-order total correlation "
        "(entropies from the eigenvalues of normalised Gram matrices). Several differently initialised networks are "
        "trained together; their output maps are clustered with k-means and the cluster centres are the network's "
        "abundance maps. No ground truth is used: restarts are kept or dropped by their reconstruction error.\n"
        "Each map then points at the purest pixels of its material: an endmember is the mean spectrum of its 5 % "
        "purest pixels, moved until its near-pure pixels are fitted without residual, and the abundances are the "
        "fully constrained least squares (FCLS) abundances for these endmembers. This refinement is not in the paper; "
        "on synthetic mixtures and on the Samson scene (against a linear-mixing reference) it cut the abundance error "
        "of the network maps by about 40 %. "
        "Switch it off to get the paper's DDICA (network abundances, endmembers by non-negative least squares).\n\n"
        "<b>Hyperspectral raster</b>; <b>Number of endmembers</b>; <b>Random seed</b> (same seed and machine, same "
        "result); <b>Compute device</b> (cpu, cuda, auto).\n"
        "Advanced: <b>alpha</b> (Renyi order; 2 uses a fast closed form), <b>kernel width</b> (0 = Silverman's rule), "
        "<b>batch size</b> (pixels per step: the cost grows with its cube), <b>restarts</b>, <b>output units</b> "
        "(0 = the number of endmembers; more units over-segment and are merged by k-means), <b>training steps</b>, "
        "<b>learning rate</b>, <b>variance weight</b> (keeps every output alive; larger values give crisper maps), "
        "<b>purest-pixel fraction</b> and <b>expansion steps</b> of the refinement, "
        "<b>normalise pixel brightness</b> (the network sees each spectrum divided by its norm: illumination "
        "invariant), <b>refine endmembers and abundances</b> (on by default; off = the paper's DDICA), "
        "<b>abundance convention</b>: <i>fractions</i> (default: the part of each pixel explained by each endmember "
        "in the data's own scale, as every DeepUnmix algorithm reports) or <i>peak-normalised shares</i> (each "
        "endmember scaled to a peak of 1, non-negative least squares, shares summing to one: brightness taken out, "
        "so dark materials such as water get larger values; this is how Zhu's published Samson, Jasper Ridge and "
        "Urban reference maps were made, so use it to compare with those). Training uses a random sample of the "
        "valid pixels; all pixels are then unmixed.\n\n"
        "<b>Outputs</b>: abundance maps (one band per endmember), endmember spectra (CSV), an HTML report.\n\n"
        "Needs PyTorch; when it is missing the algorithm says how to install it."
    ) + INPUT_HELP
    ADVANCED = (
        Advanced("ALPHA", "alpha", "Renyi entropy order alpha", minimum=0.01),
        Advanced("KERNEL_WIDTH", "kernel_width", "Kernel width (0 = Silverman's rule)", minimum=0.0,
                 zero_means_none=True),
        Advanced("BATCH_SIZE", "batch_size", "Batch size (pixels per step)", integer=True, minimum=16),
        Advanced("RESTARTS", "n_restarts", "Restarts (networks trained together)", integer=True, minimum=1),
        Advanced("OUTPUT_UNITS", "n_units", "Output units (0 = number of endmembers)", integer=True, minimum=0,
                 zero_means_none=True),
        Advanced("STEPS", "n_steps", "Training steps", integer=True, minimum=1),
        Advanced("LEARNING_RATE", "learning_rate", "Learning rate", minimum=1e-7),
        Advanced("VARIANCE_WEIGHT", "variance_weight", "Variance weight (larger = crisper maps)", minimum=0.0),
        Advanced("PURIFY", "purify", "Refinement: purest-pixel fraction", minimum=0.0),
        Advanced("EXPAND", "expand", "Refinement: expansion steps", integer=True, minimum=0),
    )

    def extra_parameters(self):
        self.add_advanced(QgsProcessingParameterBoolean(self.PIXEL_NORM, self.tr("Normalise pixel brightness"),
                                                        defaultValue=False, optional=True))
        self.add_advanced(QgsProcessingParameterBoolean(self.REFINE, self.tr("Refine endmembers and abundances"),
                                                        defaultValue=True, optional=True))
        self.add_advanced(QgsProcessingParameterEnum(
            self.ABUNDANCE_CONVENTION, self.tr("Abundance convention"),
            options=[self.tr("Fractions (linear mixing, FCLS)"),
                     self.tr("Peak-normalised shares (as Zhu's Samson/Jasper/Urban references)")],
            defaultValue=0, optional=True))

    def extra_kwargs(self, parameters, context):
        pixel_norm = self.parameterAsBoolean(parameters, self.PIXEL_NORM, context)
        kwargs = {"preprocess": "pixel_norm" if pixel_norm else "standardise",
                  "abundance_convention": self.CONVENTIONS[self.parameterAsEnum(parameters, self.ABUNDANCE_CONVENTION,
                                                                                context)]}
        if not self.parameterAsBoolean(parameters, self.REFINE, context):
            kwargs.update(purify=0.0, final_abundances="network")  # the paper's DDICA
        return kwargs

    def reconstruction_rmse(self, model, data):
        return float(np.sqrt(np.nanmean(model.reconstruction_error_.astype(np.float64) ** 2)))

    def training_memory(self, data, kwargs, parameters, context):
        from ..engine.ddica.memory import training_bytes

        n_fit = min(int(data.mask.sum()), kwargs.get("max_fit_pixels") or 20000)
        return training_bytes(data.cube.shape[0], n_fit, self.parameterAsInt(parameters, self.N_ENDMEMBERS, context),
                              **kwargs)

    def estimator_class(self):
        from ..engine.ddica.unmixing import DDICA

        return DDICA

    def method_label(self):
        return "DDICA"

    def pixel_function(self, model):
        return model.predict_abundances
