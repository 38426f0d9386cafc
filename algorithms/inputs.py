"""Reading the input raster as real scenes need: bad bands, scaled integers, a memory budget.

Every algorithm that fits on INPUT declares these advanced parameters:
BAD_BANDS (ranges to drop; the ENVI bad-band list is always honoured), SCALE
(factor to reflectance, 0 = detect) and MEMORY_MB (the budget). A raster
whose cube fits the budget is read whole; a larger one is sampled for fitting
(methods that allow it), and results are written by streaming blocks.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np
from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ..engine.io.bands import describe_band_selection, select_bands
from ..engine.io.blockwise import sample_valid_pixels
from ..engine.io.raster import raster_info, read_raster
from ..engine.io.scaling import resolve_scale, units_comment

INPUT_HELP = (
    "\n\nReal scenes (advanced parameters): <b>bands to drop</b>, e.g. water-vapour bands 1-3,108-112 (an ENVI "
    "bad-band list in the file is always honoured; CSVs keep the original band numbers and wavelengths); "
    "<b>scale factor</b> to reflectance (0 detects integer reflectance x 10000 and scales it to 0..1; the log says "
    "what was chosen and the endmember CSV states its units); <b>memory budget</b>: a raster too large for it is "
    "fitted on a random pixel sample and then unmixed block by block (methods that need the whole image refuse it)."
    " Nodata and NaN pixels are left out and written as nodata."
)

BAD_BANDS = "BAD_BANDS"
SCALE = "SCALE"
MEMORY_MB = "MEMORY_MB"
DEFAULT_MEMORY_MB = 1024
MAX_SAMPLE = 200_000
# fitting holds the cube plus float64 working copies: budget for about four times the float32 cube
WORKING_COPIES = 4


def add_input_options(alg, bad_bands: bool = True) -> None:
    """Declare BAD_BANDS (optional), SCALE and MEMORY_MB as advanced parameters of ``alg``."""
    if bad_bands:
        alg.add_advanced(QgsProcessingParameterString(
            BAD_BANDS, alg.tr("Bands to drop, e.g. 1-3,108-112 (the file's ENVI bad-band list is always honoured)"),
            optional=True))
    alg.add_advanced(QgsProcessingParameterNumber(
        SCALE, alg.tr("Scale factor to reflectance (0 = detect from the data type and values)"),
        QgsProcessingParameterNumber.Double, 0.0, optional=True, minValue=0.0))
    alg.add_advanced(QgsProcessingParameterNumber(
        MEMORY_MB, alg.tr("Memory budget (MB)"), QgsProcessingParameterNumber.Integer, DEFAULT_MEMORY_MB,
        optional=True, minValue=64))


@dataclass
class InputOptions:
    drop_text: Optional[str]
    scale: float  # 0 = detect
    memory_mb: int

    @property
    def block_bytes(self) -> int:
        return int(min(64, max(4, self.memory_mb // 8)) * 2 ** 20)


def input_options(alg, parameters, context) -> InputOptions:
    drop = alg.parameterAsString(parameters, BAD_BANDS, context) if BAD_BANDS in parameters else ""
    return InputOptions(drop.strip() or None, alg.parameterAsDouble(parameters, SCALE, context),
                        alg.parameterAsInt(parameters, MEMORY_MB, context))


@dataclass
class FitData:
    """What a fitting algorithm needs from the input raster."""

    path: str
    cube: np.ndarray            # (bands, rows, cols) float32, scaled; (bands, 1, n) when sampled
    mask: np.ndarray            # True = valid
    wavelengths: Optional[np.ndarray]
    bands: np.ndarray           # 1-based band numbers (in the file) of the cube's bands
    scale: float
    csv_comment: str            # the units line for endmember CSVs
    sampled: bool               # True: cube holds a pixel sample, not the image
    georef: dict                # transform, crs, height, width of the input (for writing outputs)


def load_for_fitting(path: str, feedback, options: Optional[InputOptions] = None,
                     allow_sample: bool = True) -> FitData:
    """Read the raster (or a pixel sample when it exceeds the budget), dropping bad bands and scaling it."""
    options = options or InputOptions(None, 0.0, DEFAULT_MEMORY_MB)
    info = raster_info(path)
    feedback.pushInfo(f"Input: {info.count} bands, {info.width} x {info.height} pixels, {info.dtype}")
    if info.count < 2:
        raise ValueError(f"the raster has {info.count} band; unmixing needs a multiband (hyperspectral) raster")
    bands = np.asarray(select_bands(info.count, options.drop_text, info.bad_bands))
    feedback.pushInfo(describe_band_selection(info.count, options.drop_text, info.bad_bands))
    need = len(bands) * info.width * info.height * 4 * WORKING_COPIES
    budget = options.memory_mb * 2 ** 20
    if need <= budget:
        raster = read_raster(path, bands=bands)
        cube, mask, sampled = raster.cube, raster.mask, False
        values = cube[:, mask]
    elif allow_sample:
        n = int(min(MAX_SAMPLE, max(1000, budget // (len(bands) * 8 * 2 * WORKING_COPIES))))
        feedback.pushInfo(f"The raster needs about {need / 2 ** 20:.0f} MB in memory, over the {options.memory_mb} MB "
                          f"budget: fitting on a random sample of {n} valid pixels, then streaming all pixels")
        Y, _ = sample_valid_pixels(path, n, random_state=0, bands=bands, max_block_bytes=options.block_bytes)
        cube = Y.astype(np.float32)[:, None, :]
        mask = np.ones(cube.shape[1:], dtype=bool)
        values, sampled = Y, True
    else:
        raise ValueError(f"this method holds the whole image in memory: about {need / 2 ** 20:.0f} MB, over the "
                         f"{options.memory_mb} MB budget (MEMORY_MB); raise the budget or crop the raster")
    n_valid = int(mask.sum())
    if n_valid == 0:
        raise ValueError("the raster has no valid pixel (all nodata or NaN)")
    if np.ptp(values, axis=1).max() == 0:
        raise ValueError("the image is constant: every valid pixel has the same spectrum, there is nothing to unmix")
    scale, reason = resolve_scale(options.scale or None, info, values[:, :: max(1, values.shape[1] // 20000)])
    feedback.pushInfo(f"Scale factor {scale:g}: {reason}")
    if scale != 1.0:
        cube *= np.float32(scale)
    if not sampled:
        feedback.pushInfo(f"{n_valid} valid pixels")
    wavelengths = None if info.wavelengths is None else np.asarray(info.wavelengths)[bands - 1]
    georef = {"transform": info.transform, "crs": info.crs, "height": info.height, "width": info.width}
    return FitData(path, cube, mask, wavelengths, bands, scale, units_comment(scale, reason), sampled, georef)


def _destination_path(definition, value, context) -> Optional[str]:
    """The file a destination parameter will write, without registering it (temporary outputs: None)."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.valueAsString(context.expressionContext(), "")[0]
    if value is None:
        return None
    value = str(value).strip()
    if not value or value == QgsProcessing.TEMPORARY_OUTPUT or re.match(r"^[A-Za-z]{2,}:", value):
        return None  # a temporary file, or memory:, ogr:, postgres: ... (not files)
    if not os.path.splitext(value)[1] and isinstance(definition, QgsProcessingParameterRasterDestination):
        value = f"{value}.{definition.defaultFileExtension()}"
    return value


def declared_paths(alg, parameters, context) -> Tuple[Dict[str, str], Dict[str, str]]:
    """(outputs, inputs): the files each destination parameter writes and each input parameter reads."""
    outputs, inputs = {}, {}
    for definition in alg.parameterDefinitions():
        name = definition.name()
        if name not in parameters or parameters[name] is None:
            continue
        if definition.isDestination():
            path = _destination_path(definition, parameters[name], context)
            if path:
                outputs[name] = path
        elif isinstance(definition, QgsProcessingParameterRasterLayer):
            layer = alg.parameterAsRasterLayer(parameters, name, context)
            if layer is not None and layer.providerType() == "gdal":
                inputs[name] = layer.source()
        elif isinstance(definition, QgsProcessingParameterFile):
            path = alg.parameterAsFile(parameters, name, context)
            if path:
                inputs[name] = path
    return outputs, inputs
