"""deepunmix:import_mat — a MATLAB .mat unmixing dataset to GeoTIFF (+ reference data)."""

import os

import numpy as np
from qgis.core import (
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
)

from ..engine.io.endmember_csv import write_endmembers_csv
from ..engine.io.matfile import load_mat_dataset, reference_factors
from ..engine.io.raster import write_abundances, write_cube
from ..engine.io.scaling import units_comment
from .base import DeepUnmixAlgorithm
from .errors import progress_callback
from .inputs import add_memory_option, memory_budget
from .loaded_tables import load_output
from .styling import style_outputs

SAME_UNITS = 1.5  # reference factors within 1/1.5..1.5 of 1 (or of each other): the same units (or one factor)


def reference_units(cube, data):
    """(units comment for the reference endmember CSV, warning or None), from how the reference rebuilds the cube."""
    k = reference_factors(cube, data.endmembers, data.abundances)
    if np.all((k > 1 / SAME_UNITS) & (k < SAME_UNITS)):
        return units_comment(1.0, "the reference is in the imported cube's units"), None
    if np.all(k > 0) and k.max() / k.min() < SAME_UNITS:
        factor = float(np.median(k))
        return (
            units_comment(1.0 / factor, f"the cube is about {factor:.4g} x the reference's units"),
            f"The reference endmembers are in other units than the cube (the cube is about {factor:.4g} times "
            "endmembers x abundances); their CSV states the factor, so FCLS applies it",
        )
    factors = ", ".join(f"{n} {v:.3g}" for n, v in zip(data.names, k))
    return (
        f"units: each endmember normalised on its own (cube about endmembers x [{factors}] x abundances)",
        "Scale mismatch: each reference endmember has its own normalisation (e.g. peak-normalised spectra; the "
        f"cube is about endmembers x [{factors}] x abundances). FCLS with them gives fractions and an RMSE in "
        "other units: use FCLS's 'Peak-normalised shares' convention, or compare spectra by angle",
    )


class ImportMatDataset(DeepUnmixAlgorithm):
    TRUTH = "TRUTH"
    OUTPUT_CUBE = "OUTPUT_CUBE"
    OUTPUT_REFERENCE_ABUNDANCES = "OUTPUT_REFERENCE_ABUNDANCES"
    OUTPUT_REFERENCE_ENDMEMBERS = "OUTPUT_REFERENCE_ENDMEMBERS"

    NAME = "import_mat"

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFile(self.INPUT, self.tr("Dataset (.mat)"), extension="mat"))
        self.addParameter(
            QgsProcessingParameterFile(self.TRUTH, self.tr("Reference file (.mat)"), extension="mat", optional=True)
        )
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_CUBE, self.tr("Hyperspectral cube")))
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT_REFERENCE_ABUNDANCES, self.tr("Reference abundances"), optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_REFERENCE_ENDMEMBERS,
                self.tr("Reference endmembers (CSV)"),
                self.tr("CSV files (*.csv)"),
                optional=True,
            )
        )
        add_memory_option(self)

    def execute(self, parameters, context, feedback):
        path = self.parameterAsFile(parameters, self.INPUT, context)
        truth = self.parameterAsFile(parameters, self.TRUTH, context) or None
        data = load_mat_dataset(  # progress (and a cancel) between the variables read
            path, truth, max_bytes=memory_budget(self, parameters, context), progress=progress_callback(feedback)
        )
        feedback.pushInfo(f"Read {data.cube.shape[0]} bands, {data.cube.shape[1]} x {data.cube.shape[2]} pixels")

        cube = data.cube
        if data.max_value is not None:
            cube = cube / np.float32(data.max_value)
            feedback.pushInfo(
                f"Divided by the file's maxValue {data.max_value:g}: values now {np.nanmin(cube):.4g} to "
                f"{np.nanmax(cube):.4g}"
            )
        band_names = None
        if data.bands is not None:
            of = f" of {data.sensor_bands}" if data.sensor_bands else ""
            band_names = [f"Sensor band {b}{of}" for b in data.bands]
            feedback.pushInfo(f"Band names give the sensor's band numbers (the file's band selection{of})")
        cube_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_CUBE, context)
        self.check_output_folder(cube_out)
        write_cube(cube_out, cube, wavelengths=data.wavelengths, band_names=band_names)
        results = {self.OUTPUT_CUBE: cube_out}

        ab_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_REFERENCE_ABUNDANCES, context)
        if ab_out and data.abundances is not None:
            self.check_output_folder(ab_out)
            write_abundances(ab_out, data.abundances, data.names, like=None)
            results[self.OUTPUT_REFERENCE_ABUNDANCES] = ab_out
        em_out = self.parameterAsFileOutput(parameters, self.OUTPUT_REFERENCE_ENDMEMBERS, context)
        if em_out and data.endmembers is not None:
            self.check_output_folder(em_out)
            comment, warning = (None, None) if data.abundances is None else reference_units(cube, data)
            if warning:
                feedback.pushWarning(warning)
            write_endmembers_csv(em_out, data.endmembers, data.names, wavelengths=data.wavelengths, comment=comment)
            results[self.OUTPUT_REFERENCE_ENDMEMBERS] = em_out
        name = os.path.splitext(os.path.basename(path))[0]  # layers named after the file, not "Hyperspectral cube"
        if context.willLoadLayerOnCompletion(cube_out):
            load_output(context, cube_out, name)
        style_outputs(
            context,
            results.get(self.OUTPUT_REFERENCE_ABUNDANCES),
            f"{name} reference abundances",
            results.get(self.OUTPUT_REFERENCE_ENDMEMBERS),
            f"{name} reference endmembers",
        )
        if data.abundances is None and (ab_out or em_out):
            feedback.pushWarning("The dataset has no reference abundances/endmembers; only the cube was written")
        feedback.setProgress(100)
        return results
