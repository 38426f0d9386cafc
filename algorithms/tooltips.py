"""Parameter tooltips, search tags and one-line descriptions of the DeepUnmix algorithms.

``DeepUnmixAlgorithm.addParameter`` gives a parameter its tooltip from here where one says more than its
label: ``COMMON`` applies to every algorithm, ``BY_ALGORITHM`` to one (it wins over ``COMMON``). Numbers
the engine holds are not restated here: the Help page renders them from the engine's tables.
"""

COMMON = {
    "INPUT": "A hyperspectral raster: one band per wavelength (GeoTIFF, ENVI, any GDAL format). Nodata and NaN "
    "pixels are left out and written as nodata.",
    "N_ENDMEMBERS": "How many materials to separate. Not known? Run 'Estimate number of endmembers' first, or "
    "use the example model that feeds its estimate in.",
    "SEED": "The same seed, data, software, device and number of CPU threads give identical outputs.",
    "DEVICE": "cpu; cuda (an NVIDIA GPU, an error where there is none); auto (cuda when available).",
    "ENDMEMBERS": "An endmember CSV (band, wavelength, one column per endmember), e.g. written by 'Extract "
    "endmembers'. Its bands are matched to the raster's by wavelength, else by band number.",
    "BAD_BANDS": "Band ranges to leave out, 1-based, e.g. 1-3,108-112 (water vapour, noisy edges). An ENVI "
    "bad-band list in the file is always honoured.",
    "SCALE": "Factor from the raster's values to reflectance. 0 detects integer reflectance x 10000.",
    "MEMORY_MB": "A larger raster is fitted on a random pixel sample and then unmixed block by block.",
    "ABUNDANCE_CONVENTION": "Fractions: pixel = endmembers x abundances in the data's own scale. Peak-normalised "
    "shares: each endmember scaled to a peak of 1, brightness taken out, as Zhu's Samson, Jasper Ridge and Urban "
    "reference maps were made.",
}

TILED_MEMORY = "A larger raster is fitted in overlapping tiles read from disk, from a first guess on a pixel sample."

BY_ALGORITHM = {
    "estimate_n_endmembers": {
        "MIN_GAIN": "One more endmember is kept while it lowers the reconstruction RMSE by at least this fraction "
        "of the 2-endmember RMSE.",
    },
    "fcls": {"MEMORY_MB": "The raster is unmixed block by block within this budget."},
    "ddica": {
        "NETWORK_MAPS": "The networks' maps as the abundances, endmembers by NNLS.",
        "REFINE": "Each endmember the mean of its map's purest pixels, moved by the expansion steps, then FCLS "
        "abundances; a purest-pixel fraction of 0 without this option gives NNLS endmembers of the maps.",
        "BATCH_SIZE": "The cost grows with its cube.",
    },
    "buddip": {
        "MEMORY_MB": TILED_MEMORY,
        "NETWORK_ABUNDANCES": "Off: exact FCLS abundances with the learned endmembers. On: the abundance "
        "network's own output.",
    },
    "undip": {"MEMORY_MB": TILED_MEMORY},
    "ica": {"INPUT": "Any multiband raster whose bands are mixtures of independent sources."},
    "evaluate": {
        "MEMORY_MB": "Both rasters are read whole; the run stops before reading them when they would need more.",
    },
    "import_mat": {
        "MEMORY_MB": "The file's variables, decompressed, are checked against it before anything is read.",
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


def tooltip(algorithm: str, parameter: str) -> str:
    return BY_ALGORITHM.get(algorithm, {}).get(parameter) or COMMON.get(parameter, "")


def tags(algorithm: str):
    return list(BASE_TAGS) + list(TAGS.get(algorithm, UNMIXING_TAGS))
