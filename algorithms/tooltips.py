"""Parameter tooltips, search tags and one-line descriptions of the DeepUnmix algorithms.

``DeepUnmixAlgorithm.addParameter`` gives every parameter its tooltip from here (shown in the
algorithm dialog and batch table, and after "Python identifier" in QGIS's tooltip); the algorithm
files themselves stay about what they run. ``COMMON`` applies to every algorithm, ``BY_ALGORITHM``
to one (it wins over ``COMMON``). Numbers the engine holds (variant settings) are filled in from its tables.
"""

from ..engine.ddica.unmixing import VARIANT_SETTINGS as DDICA_SETTINGS
from ..engine.dip.undip import SETTINGS as UNDIP_SETTINGS
from .help_numbers import count, kernel_width, percent, widths

COMMON = {
    "INPUT": "A hyperspectral raster: one band per wavelength (GeoTIFF, ENVI, any GDAL format). Nodata and NaN "
    "pixels are left out and written as nodata.",
    "N_ENDMEMBERS": "How many materials to separate. Not known? Run 'Estimate number of endmembers' first, or "
    "use the example model that feeds its estimate in.",
    "SEED": "Random seed: the same seed, data, software, device and number of CPU threads give identical "
    "outputs. Deep (PyTorch) methods can differ slightly between thread counts (DEEPUNMIX_TORCH_THREADS) or "
    "devices, as parallel sums round differently.",
    "DEVICE": "cpu; cuda (an NVIDIA GPU, an error where there is none); auto (cuda when available).",
    "ENDMEMBERS": "An endmember CSV (band, wavelength, one column per endmember), e.g. written by 'Extract "
    "endmembers'. Its bands are matched to the raster's by wavelength, else by band number.",
    "BAD_BANDS": "Band ranges to leave out, 1-based, e.g. 1-3,108-112,154-166 (water vapour, noisy edges). An "
    "ENVI bad-band list in the file is always honoured; CSVs keep the original band numbers and wavelengths.",
    "SCALE": "Factor from the raster's values to reflectance. 0 detects integer reflectance x 10000 and "
    "scales it to 0..1 (the log says what it chose; the endmember CSV states its units).",
    "MEMORY_MB": "Memory budget (MiB). A larger raster is fitted on a random pixel sample and then unmixed block "
    "by block.",
    "OUTPUT_ABUNDANCES": "GeoTIFF, one band per endmember (named after it), fractions 0..1 summing to one per pixel.",
    "OUTPUT_ENDMEMBERS": "CSV table: band, wavelength, one column per endmember (units in a .csv.aux.xml sidecar).",
    "OUTPUT_REPORT": "Optional one-file HTML report: spectra, abundance thumbnails, parameters, reconstruction "
    "error and run time; listed in the Results Viewer.",
    "ABUNDANCE_CONVENTION": "Fractions (default: the part of each pixel explained by each endmember in the data's "
    "own scale, pixel = endmembers x abundances) or peak-normalised shares (each endmember scaled to a peak of 1, "
    "non-negative least squares, shares summing to one: brightness taken out, so dark materials such as water get "
    "larger values). The second is how Zhu's published Samson, Jasper Ridge and Urban reference maps were made: "
    "use it to compare with those ('Evaluate unmixing against a reference').",
    "METHOD": "The algorithm used (see the help panel).",
    "STEPS": "Training steps: more is slower and usually closer to convergence.",
    "LEARNING_RATE": "Adam step size of the network training.",
    "ITERATIONS": "Training iterations of the deep image prior(s).",
    "ALPHA": "Order of the matrix-based Renyi entropy (close to 1 approximates Shannon's).",
    "PURIFY": "Endmembers are re-estimated from this fraction of each map's purest pixels (0 = off).",
    "EXPAND": "Steps that push endmembers outward to the data's simplex vertices (0 = off).",
}

TILED_MEMORY = (
    "Memory budget (MiB). A larger raster is fitted in overlapping tiles read from disk, from a first guess made "
    "on a random pixel sample."
)

BY_ALGORITHM = {
    "estimate_n_endmembers": {
        "METHOD": "Endmembers for linear unmixing (default): a count to unmix with. HySime and HFC estimate the "
        "signal-subspace dimension, which is larger than the number of materials on real scenes.",
        "MAX_ENDMEMBERS": "No method returns more than this (the log says when the cap applied).",
        "MIN_GAIN": "One more endmember is kept while it lowers the reconstruction RMSE by at least this fraction "
        "of the 2-endmember RMSE. Smaller gives more endmembers.",
        "FAR": "HFC's false-alarm rate: smaller gives fewer endmembers.",
    },
    "extract_endmembers": {
        "METHOD": "VCA (random projections), SiVM (greedy volume, deterministic) or N-FINDR (volume by swaps). "
        "All pick pixels of the image, so they need (nearly) pure pixels.",
    },
    "fcls": {
        "MEMORY_MB": "Memory budget (MiB): the raster is unmixed block by block within it.",
        "OUTPUT_ERROR": "Optional raster: the RMSE between each pixel and endmembers x abundances (where the "
        "endmembers do not explain the data).",
    },
    "ddica": {
        "N_ENDMEMBERS": COMMON["N_ENDMEMBERS"],
        "PIXEL_NORM": "The network sees each spectrum divided by its norm (illumination invariant).",
        "VARIANT": "default: our pipeline (endmembers from the purest pixels of the trained maps, FCLS abundances); "
        "paper: the "
        "published configuration and output (network maps). The help lists every difference.",
        "NETWORK_MAPS": "The networks' maps as the abundances, endmembers by NNLS. With the default variant this is "
        "not the paper's DDICA: the paper variant is.",
        "ALPHA": "Order of the matrix-based Renyi entropy (close to 1 approximates Shannon's; 2 uses a fast closed "
        "form).",
        "STEPS": "Training steps; the paper variant counts epochs instead unless this is set.",
        "WHITENING": "The authors' whitening layer (power iteration on the outputs' second moment) before the TC.",
        "BATCH_SIZE": "Pixels per training step: the cost grows with its cube; larger is smoother.",
        "RESTARTS": "Networks trained together from different starts; their maps are clustered with k-means.",
        "OUTPUT_UNITS": "Network outputs before clustering; 0 = the number of endmembers; more units over-segment "
        "and are merged by k-means.",
        "VARIANCE_WEIGHT": "Weight of the term that keeps every output alive; larger values give crisper maps "
        "(closer to 0 or 1).",
    },
    "buddip": {
        "MEMORY_MB": TILED_MEMORY,
        "VARIANT": "default: our light CPU setting (refined first guess, small residual networks, FCLS abundances); "
        "paper: the published networks, noise inputs, loss weights and iterations; authors_code: the "
        "authors' repository's choices (no ground-truth output pick). The help lists every difference.",
        "EXTRACTOR": "The first guess of the endmembers (SiVM in the paper, or VCA, N-FINDR).",
        "NETWORK_ABUNDANCES": "Off (default): exact FCLS abundances with the learned endmembers. On: the "
        "abundance network's own output (the paper and authors' code variants always use it).",
        "ALPHA1": "Loss weight of the endmember network (EDIP) against the FCLS abundances.",
        "ALPHA2": "Loss weight of the abundance network (ADIP) against the extracted endmembers.",
        "ALPHA3": "Loss weight of the blind reconstruction (both networks together).",
        "PURIFY": "Purest-pixel fraction of the first-guess refinement (each endmember re-estimated from this "
        "fraction of its map's purest pixels).",
        "EXPAND": "Expansion steps of the first-guess refinement (endmembers pushed outward to the simplex vertices).",
        "MIN_VOLUME": "Weight of a penalty on the endmembers' simplex volume, relative to the first guess's fit "
        "(not in the paper; empty or 0 = off). Helps scenes with near-pure pixels, hurts scenes without.",
    },
    "undip": {
        "MEMORY_MB": TILED_MEMORY,
        "ENDMEMBERS": "Fixed endmembers (CSV). Empty: they are extracted with the extractor below.",
        "EXTRACTOR": "Used only without an endmember CSV.",
    },
    "minvol_nmf": {
        "INIT": "Starting endmembers: VCA, SiVM or random pixels.",
        "LAMBDA": "Weight of the simplex-volume penalty, relative to the initial fit: larger gives a tighter simplex.",
        "MAX_ITER": "Upper bound on the alternating updates.",
    },
    "ica": {
        "INPUT": "Any multiband raster whose bands are mixtures of independent sources.",
        "N_COMPONENTS": "How many independent components to extract.",
        "VARIANT": "pnl (default): Gaussianised inputs, FastICA start, monotone per-channel maps refined by total "
        "correlation; paper: the DDICA paper's ReLU network with a whitening layer.",
        "RESTARTS": "Networks trained from different starts; the one with the lowest held-out total correlation "
        "is kept.",
        "OUTPUT": "GeoTIFF, one band per component.",
    },
    "evaluate": {
        "ABUNDANCES": "Estimated abundance raster (one band per endmember).",
        "REFERENCE_ABUNDANCES": "Reference abundance raster. Estimated endmembers are matched to reference ones "
        "one-to-one, for scoring only.",
        "ENDMEMBERS": "Optional estimated endmember CSV, for the spectral angle (SAD).",
        "REFERENCE_ENDMEMBERS": "Optional reference endmember CSV.",
        "OUTPUT_TABLE": "CSV of per-material scores (one row each, numeric columns); the averages are the number "
        "outputs aRMSE, MEAN_RMSE and ASAD.",
        "MEMORY_MB": "Memory budget (MiB): both rasters are read whole; the run stops before reading them when "
        "they would need more.",
    },
    "import_mat": {
        "INPUT": "A MATLAB .mat unmixing dataset (Samson, Jasper Ridge, Urban, ... in Zhu's or HySUPP's layout).",
        "TRUTH": "Optional .mat with the reference abundances and endmembers (e.g. end3.mat).",
        "OUTPUT_CUBE": "The image as a GeoTIFF (one band per wavelength), divided by the file's maxValue where it "
        "states one.",
        "OUTPUT_REFERENCE_ABUNDANCES": "The reference abundances as a GeoTIFF.",
        "OUTPUT_REFERENCE_ENDMEMBERS": "The reference endmembers as a CSV, its units stated in a sidecar file.",
        "MEMORY_MB": "Memory budget (MiB): the file's variables, decompressed, are checked against it before "
        "anything is read.",
    },
}

# Toolbox search words; every algorithm has BASE_TAGS.
BASE_TAGS = ("hyperspectral", "spectral", "imaging spectroscopy", "remote sensing", "DeepUnmix")
UNMIXING_TAGS = ("unmixing", "spectral unmixing", "endmember", "abundance", "fraction", "material")
TAGS = {
    "extract_endmembers": UNMIXING_TAGS + ("VCA", "SiVM", "N-FINDR", "extraction", "pure pixel"),
    "estimate_n_endmembers": UNMIXING_TAGS + ("HySime", "HFC", "virtual dimensionality", "subspace", "count"),
    "fcls": UNMIXING_TAGS + ("FCLS", "least squares", "linear mixing"),
    "ddica": UNMIXING_TAGS + ("DDICA", "ICA", "deep learning", "blind", "neural network"),
    "buddip": UNMIXING_TAGS + ("BUDDIP", "deep image prior", "deep learning", "blind", "neural network"),
    "undip": UNMIXING_TAGS + ("UnDIP", "deep image prior", "deep learning", "neural network"),
    "minvol_nmf": UNMIXING_TAGS + ("NMF", "minimum volume", "blind", "matrix factorization"),
    "ica": ("ICA", "independent component analysis", "blind source separation", "deep learning", "multispectral"),
    "evaluate": UNMIXING_TAGS + ("accuracy", "RMSE", "SAD", "ground truth", "evaluation"),
    "import_mat": ("MATLAB", "mat", "import", "Samson", "Jasper Ridge", "Urban", "dataset"),
}

SHORT = {
    "extract_endmembers": "Finds the purest pixels' spectra (endmembers) with VCA, SiVM or N-FINDR.",
    "estimate_n_endmembers": "Estimates how many endmembers to unmix a hyperspectral raster with.",
    "fcls": "Abundance maps from given endmember spectra by fully constrained least squares.",
    "ddica": "Blind unmixing with deep deterministic ICA: abundance maps and endmember spectra.",
    "buddip": "Blind unmixing with a double deep image prior: abundance maps and endmember spectra.",
    "undip": "Abundance maps from a deep image prior with fixed endmembers.",
    "minvol_nmf": "Blind unmixing by minimum-volume NMF (no pure pixels needed).",
    "ica": "Independent components of any multiband raster with deep ICA.",
    "evaluate": "Scores abundance maps and endmembers against reference data.",
    "import_mat": "Converts a MATLAB .mat unmixing dataset to GeoTIFF and CSV.",
}


def ddica_tooltips(settings=DDICA_SETTINGS) -> dict:
    """DDICA's tooltips that state variant settings, from ``settings`` (the engine's ``VARIANT_SETTINGS``)."""
    d, p = settings["default"], settings["paper"]
    return {
        "HIDDEN_WIDTH": f"Units per hidden layer; 0 = the variant's ({widths(d['hidden_units'])} default, "
        f"{widths(p['hidden_units'])} paper).",
        "KERNEL_WIDTH": "Gaussian kernel width of the entropy estimate; 0 = the variant's "
        f"({kernel_width(d['kernel_width'])} for default, {kernel_width(p['kernel_width'])} for paper).",
    }


def ddica_refine_tooltip(purify: float) -> str:
    """REFINE's tooltip; ``purify`` is the fraction the option uses when none is set."""
    return (
        f"Each endmember the mean of its map's purest pixels ({percent(purify)} unless the fraction is set), moved "
        "by the expansion steps, then FCLS abundances: what the default variant does anyway; with the paper "
        "variant it replaces the network maps. A purest-pixel fraction of 0 without this option gives NNLS "
        "endmembers of the maps instead."
    )


def undip_tooltips(settings=UNDIP_SETTINGS) -> dict:
    """UnDIP's VARIANT tooltip, from ``settings`` (the engine's ``SETTINGS``)."""
    light, paper = settings["default"], settings["paper"]
    return {
        "VARIANT": f"light (default): {count(light['n_iter'])} iterations of a small skip-net; paper: Rasti et al.'s "
        f"settings ({count(paper['n_iter'])} iterations, {count(paper['channels'])} channels, SVD-denoised SiVM).",
    }


BY_ALGORITHM["ddica"].update(ddica_tooltips())
BY_ALGORITHM["undip"].update(undip_tooltips())


def tooltip(algorithm: str, parameter: str) -> str:
    return BY_ALGORITHM.get(algorithm, {}).get(parameter) or COMMON.get(parameter, "")


def tags(algorithm: str):
    return list(BASE_TAGS) + list(TAGS.get(algorithm, UNMIXING_TAGS))
