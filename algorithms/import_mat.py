"""deepunmix:import_mat — a MATLAB .mat unmixing dataset to GeoTIFF (+ reference data)."""

from qgis.core import (
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
)

from ..engine.io.endmember_csv import write_endmembers_csv
from ..engine.io.matfile import load_mat_dataset
from ..engine.io.raster import write_abundances, write_cube
from .base import DeepUnmixAlgorithm
from .inputs import add_memory_option, memory_budget


class ImportMatDataset(DeepUnmixAlgorithm):
    TRUTH = "TRUTH"
    OUTPUT_CUBE = "OUTPUT_CUBE"
    OUTPUT_REFERENCE_ABUNDANCES = "OUTPUT_REFERENCE_ABUNDANCES"
    OUTPUT_REFERENCE_ENDMEMBERS = "OUTPUT_REFERENCE_ENDMEMBERS"

    NAME = "import_mat"
    DISPLAY_NAME = "Import a MATLAB (.mat) unmixing dataset"
    GROUP = "Data"
    GROUP_ID = "data"
    HELP = (
        "Converts a MATLAB .mat hyperspectral unmixing dataset, as the field shares them (Samson, Jasper Ridge, "
        "Urban, Cuprite: band-major 'Y' or 'V' (bands x pixels) in MATLAB column-major pixel order with 'nRow'/'nCol', "
        "reference abundances 'A' and endmembers 'M'; or HySUPP-style 'Y'/'A_true'/'E' arrays), into a GeoTIFF "
        "cube that QGIS and every DeepUnmix algorithm read.\n\n"
        "<b>Dataset (.mat)</b>: the file with the image. <b>Reference file</b> (optional): a separate .mat with the "
        "ground truth ('A', 'M'), such as Samson's end3.mat. Without 'nRow'/'nCol' a flat image is taken as square.\n\n"
        "<b>Outputs</b>: the cube (float32, bands x rows x cols, no georeferencing); when the files have them, the "
        "reference abundances (one band per endmember) and the reference endmembers (CSV)."
    )

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
            path, truth, max_bytes=memory_budget(self, parameters, context), progress=self.progress_callback(feedback)
        )
        feedback.pushInfo(f"Read {data.cube.shape[0]} bands, {data.cube.shape[1]} x {data.cube.shape[2]} pixels")

        cube_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_CUBE, context)
        self.check_output_folder(cube_out)
        write_cube(cube_out, data.cube, wavelengths=data.wavelengths)
        results = {self.OUTPUT_CUBE: cube_out}

        ab_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_REFERENCE_ABUNDANCES, context)
        if ab_out and data.abundances is not None:
            self.check_output_folder(ab_out)
            write_abundances(ab_out, data.abundances, data.names, like=None)
            results[self.OUTPUT_REFERENCE_ABUNDANCES] = ab_out
        em_out = self.parameterAsFileOutput(parameters, self.OUTPUT_REFERENCE_ENDMEMBERS, context)
        if em_out and data.endmembers is not None:
            self.check_output_folder(em_out)
            write_endmembers_csv(em_out, data.endmembers, data.names, wavelengths=data.wavelengths)
            results[self.OUTPUT_REFERENCE_ENDMEMBERS] = em_out
        if data.abundances is None and (ab_out or em_out):
            feedback.pushWarning("The dataset has no reference abundances/endmembers; only the cube was written")
        feedback.setProgress(100)
        return results
