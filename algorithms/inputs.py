"""Reading the input raster as real scenes need: bad bands, scaled integers, a memory budget.

A raster whose cube fits the budget (MEMORY_MB) is read whole; a larger one is sampled for fitting (methods
that allow it) and results are written by streaming blocks.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProperty,
)

from ..engine.io.fitting import FitData, block_bytes
from ..engine.io.fitting import load_for_fitting as engine_load_for_fitting
from ..engine.io.memory import DEFAULT_MEMORY_MB, check_budget
from .errors import progress_callback

BAD_BANDS = "BAD_BANDS"
SCALE = "SCALE"
MEMORY_MB = "MEMORY_MB"
# the dialog's floor, narrower than the engine's (0, inf): below it a wide raster's streamed blocks are a few rows
MIN_DIALOG_MEMORY_MB = 64
__all__ = ["FitData", "InputOptions", "add_input_options", "input_options", "load_for_fitting", "declared_paths"]


def add_input_options(alg, bad_bands: bool = True) -> None:
    """Declare BAD_BANDS (optional), SCALE and MEMORY_MB as advanced parameters of ``alg``."""
    if bad_bands:
        alg.add_advanced(
            QgsProcessingParameterString(
                BAD_BANDS,
                alg.tr("Bands to drop (e.g. 1-3,108-112)"),
                optional=True,
            )
        )
    alg.add_advanced(
        QgsProcessingParameterNumber(
            SCALE,
            alg.tr("Scale factor to reflectance (0 = detect)"),
            QgsProcessingParameterNumber.Type.Double,
            0.0,
            optional=True,
            minValue=0.0,
        )
    )
    add_memory_option(alg)


def add_memory_option(alg) -> None:
    """Declare MEMORY_MB (advanced): the budget every allocation is checked against."""
    alg.add_advanced(
        QgsProcessingParameterNumber(
            MEMORY_MB,
            alg.tr("Memory budget (MB)"),
            QgsProcessingParameterNumber.Type.Integer,
            DEFAULT_MEMORY_MB,
            optional=True,
            minValue=MIN_DIALOG_MEMORY_MB,
        )
    )


def memory_mb(alg, parameters, context, default=DEFAULT_MEMORY_MB):
    """MEMORY_MB as given (``default`` when empty). Read as a double: QGIS's integer reading wraps values of
    2^31 and more to 0, which became the default instead of the refusal such a budget deserves."""
    return alg.parameterAsDouble(parameters, MEMORY_MB, context) or default


def memory_budget(alg, parameters, context) -> int:
    """MEMORY_MB in bytes, checked against the machine's memory."""
    return check_budget(memory_mb(alg, parameters, context))


@dataclass
class InputOptions:
    drop_text: Optional[str]
    scale: float  # 0 = detect
    memory_mb: float

    @property
    def block_bytes(self) -> int:
        return block_bytes(self.memory_mb)


def input_options(alg, parameters, context) -> InputOptions:
    """BAD_BANDS, SCALE and MEMORY_MB as given; MEMORY_MB checked against the machine's memory."""
    drop = alg.parameterAsString(parameters, BAD_BANDS, context) if BAD_BANDS in parameters else ""
    budget = memory_mb(alg, parameters, context)
    check_budget(budget)
    return InputOptions(drop.strip() or None, alg.parameterAsDouble(parameters, SCALE, context), budget)


def load_for_fitting(
    path: str,
    feedback,
    options: InputOptions,
    allow_sample: bool = True,
    sample_use: Optional[str] = None,
) -> FitData:
    """``engine.io.fitting.load_for_fitting`` with the algorithm's options, logging to ``feedback``; the sampling
    pass of a large raster drives the progress bar (0-5 %). ``sample_use``: what the sample is for, in the log."""
    return engine_load_for_fitting(
        path,
        options.drop_text,
        options.scale,
        options.memory_mb,
        allow_sample,
        log=feedback.pushInfo,
        progress=progress_callback(feedback, 0.0, 5.0),
        sample_use=sample_use,
    )


def _destination_path(definition, value, context) -> Optional[str]:
    """The file a destination parameter will write, without registering it (temporary outputs: None)."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink
    if isinstance(value, QgsProperty):
        value = value.valueAsString(context.expressionContext(), "")[0]
    if value is None:
        return None
    value = str(value).strip()
    if not value or value == QgsProcessing.TEMPORARY_OUTPUT or re.match(r"^[A-Za-z]{2,}:", value):
        return None  # a temporary file, or memory:, ogr:, postgres: ... (not files)
    if not os.path.splitext(value)[1] and isinstance(definition, QgsProcessingParameterRasterDestination):
        value = f"{value}.{definition.defaultFileExtension()}"
    return value


def declared_paths(alg, parameters, context) -> Tuple[Dict[str, str], Dict[str, str], List[str]]:
    """(outputs, inputs, raster outputs): the files destination parameters write and input parameters read."""
    outputs, inputs, rasters = {}, {}, []
    for definition in alg.parameterDefinitions():
        name = definition.name()
        if name not in parameters or parameters[name] is None:
            continue
        if definition.isDestination():
            path = _destination_path(definition, parameters[name], context)
            if path:
                outputs[name] = path
                if isinstance(definition, QgsProcessingParameterRasterDestination):
                    rasters.append(name)
        elif isinstance(definition, QgsProcessingParameterRasterLayer):
            layer = alg.parameterAsRasterLayer(parameters, name, context)
            if layer is not None and layer.providerType() == "gdal":
                inputs[name] = layer.source()
        elif isinstance(definition, QgsProcessingParameterFile):
            path = alg.parameterAsFile(parameters, name, context)
            if path:
                inputs[name] = path
    return outputs, inputs, rasters
