"""deepunmix:ddica — deep deterministic ICA (matrix-based Renyi total correlation) blind unmixing."""
from qgis.core import QgsProcessingParameterBoolean

from .inputs import INPUT_HELP
from .blind import Advanced, BlindUnmixingAlgorithm


class DDICAUnmixing(BlindUnmixingAlgorithm):
    PIXEL_NORM = "PIXEL_NORM"
    REFINE = "REFINE"
    NAME = "ddica"
    DISPLAY_NAME = "DDICA blind unmixing (deep deterministic ICA)"
    HELP = (
        "Blind unmixing with DDICA (Li et al., deep deterministic independent component analysis): a neural network "
        "maps every pixel spectrum to abundances (softmax: non-negative, summing to one) and is trained to make its "
        "outputs as independent as possible, measured by the matrix-based Renyi alpha-order total correlation "
        "(entropies from the eigenvalues of normalised Gram matrices). Several differently initialised networks are "
        "trained together; their output maps are clustered with k-means and the cluster centres are the abundances. "
        "Endmember spectra are then estimated from the data and the abundances (non-negative least squares). No "
        "ground truth is used: restarts are kept or dropped by their reconstruction error.\n\n"
        "<b>Hyperspectral raster</b>; <b>Number of endmembers</b>; <b>Random seed</b> (same seed and machine, same "
        "result); <b>Compute device</b> (cpu, cuda, auto).\n"
        "Advanced: <b>alpha</b> (Renyi order; 2 uses a fast closed form), <b>kernel width</b> (0 = Silverman's rule), "
        "<b>batch size</b> (pixels per step: the cost grows with its cube), <b>restarts</b>, <b>output units</b> "
        "(0 = the number of endmembers; more units over-segment and are merged by k-means), <b>training steps</b>, "
        "<b>learning rate</b>, <b>variance weight</b> (keeps every output alive; larger values give crisper maps), "
        "<b>normalise pixel brightness</b> (the network sees each spectrum divided by its norm: illumination "
        "invariant), <b>refine abundances with FCLS</b> (keep the DDICA endmembers, recompute the abundances by fully "
        "constrained least squares). Training uses a random sample of the valid pixels; all pixels are then unmixed.\n"
        "Tip: on scenes whose brightness varies strongly within a material (shade, water), normalising pixel "
        "brightness with variance weight 1 gave maps much closer to the published Samson reference; on evenly lit "
        "mixtures the defaults do better (DeepUnmix benchmarks/results/ddica_samson_ablation.md).\n\n"
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
    )

    def extra_parameters(self):
        self.add_advanced(QgsProcessingParameterBoolean(self.PIXEL_NORM, self.tr("Normalise pixel brightness"),
                                                        defaultValue=False, optional=True))
        self.add_advanced(QgsProcessingParameterBoolean(self.REFINE, self.tr("Refine abundances with FCLS"),
                                                        defaultValue=False, optional=True))

    def extra_kwargs(self, parameters, context):
        pixel_norm = self.parameterAsBoolean(parameters, self.PIXEL_NORM, context)
        return {"preprocess": "pixel_norm" if pixel_norm else "standardise",
                "refine": self.parameterAsBoolean(parameters, self.REFINE, context)}

    def estimator_class(self):
        from ..engine.ddica.unmixing import DDICA

        return DDICA

    def method_label(self):
        return "DDICA"

    def pixel_function(self, model):
        return model.predict_abundances
