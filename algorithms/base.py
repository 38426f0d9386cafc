"""The shared base of every DeepUnmix algorithm: ``processAlgorithm`` calls ``execute`` and turns engine
errors into ``QgsProcessingException`` (a clear message and no output)."""

from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Optional

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMapLayer,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QCoreApplication

from ..engine.core.params import N_ENDMEMBERS, SEED
from ..engine.core.progress import Cancelled
from ..engine.core.torch_support import INSTALL_ROUTE
from ..engine.io.paths import check_output_paths
from ..engine.io.raster import output_transaction
from . import texts
from .engine_parameters import option_labels
from .errors import user_message, warnings_to
from .inputs import declared_paths
from .provider_icon import WithIcon
from .torch_paths import torch_available

DEVICES = ["cpu", "cuda", "auto"]
# labels by engine value (engine.abundances.convention.CONVENTIONS gives the values and their order)
CONVENTION_LABELS = {
    "fractions": "Fractions (linear mixing, FCLS)",
    "peak_normalised": "Peak-normalised shares (as Zhu's Samson/Jasper/Urban references)",
}


class DeepUnmixAlgorithm(WithIcon, QgsProcessingAlgorithm):
    """Base class: names, help, icon, parameter helpers and error handling."""

    # Stable parameter names users script against.
    INPUT = "INPUT"
    N_ENDMEMBERS = "N_ENDMEMBERS"
    SEED = "SEED"
    DEVICE = "DEVICE"
    ENDMEMBERS = "ENDMEMBERS"
    OUTPUT_ABUNDANCES = "OUTPUT_ABUNDANCES"
    OUTPUT_ENDMEMBERS = "OUTPUT_ENDMEMBERS"
    OUTPUT_REPORT = "OUTPUT_REPORT"

    NAME = ""  # the id; its title, group and texts are in help.yaml
    NEEDS_TORCH = False

    def name(self):
        return self.NAME

    def displayName(self):
        return self.tr(texts.text(self.name(), "title"))

    def group(self):
        return self.tr(texts.texts()["common"]["groups"][self.groupId()])

    def groupId(self):
        return texts.text(self.name(), "group")

    def shortHelpString(self):
        """The dialog's side panel (help.yaml: plain text, so ``qgis_process help`` prints it as it reads)."""
        text = self.tr(texts.text(self.name(), "help"))
        if self.NEEDS_TORCH and not torch_available():
            text = (
                self.tr("PyTorch is not installed: this algorithm cannot run yet. {route}").format(route=INSTALL_ROUTE)
                + "\n"
                + text
            )
        return text

    def shortDescription(self):
        return self.tr(texts.text(self.name(), "short"))

    def tags(self):
        return [self.tr(t) for t in texts.tags(self.name())]

    def helpUrl(self):
        """A page inside the plugin (written from this algorithm's help and parameters; works offline)."""
        from .help_page import help_url

        try:
            return help_url(self)
        except OSError:
            return ""

    def createInstance(self):
        return type(self)()

    def tr(self, text):
        return QCoreApplication.translate("DeepUnmix", text)

    def addParameter(self, parameter, createOutput=True):  # noqa: N802 - QGIS API
        """A parameter gets its tooltip from help.yaml unless it already has one."""
        if not parameter.help():
            text = texts.tooltip(self.name(), parameter.name())
            if text:
                parameter.setHelp(self.tr(text))
        return super().addParameter(parameter, createOutput)

    def add_input_raster(self, description="Hyperspectral raster"):
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr(description)))

    def add_n_endmembers(self, default=3, name=None, description="Number of endmembers"):
        self.addParameter(
            QgsProcessingParameterNumber(
                name or self.N_ENDMEMBERS,
                self.tr(description),
                QgsProcessingParameterNumber.Type.Integer,
                defaultValue=default,
                minValue=N_ENDMEMBERS.left,
            )
        )

    def add_seed(self):
        self.addParameter(
            QgsProcessingParameterNumber(
                self.SEED,
                self.tr("Random seed"),
                QgsProcessingParameterNumber.Type.Integer,
                defaultValue=0,
                minValue=SEED.left,
            )
        )

    def add_device(self):
        self.addParameter(
            QgsProcessingParameterEnum(
                self.DEVICE,
                self.tr("Compute device"),
                options=DEVICES,
                defaultValue=0,
            )
        )

    def add_advanced(self, parameter):
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(parameter)

    ABUNDANCE_CONVENTION = "ABUNDANCE_CONVENTION"

    def add_abundance_convention_option(self):
        """The advanced choice of abundance convention (engine.abundances.convention.CONVENTIONS, in that order)."""
        from ..engine.abundances.convention import CONVENTIONS

        labels = option_labels(CONVENTIONS, CONVENTION_LABELS, "abundance conventions")
        self.add_advanced(
            QgsProcessingParameterEnum(
                self.ABUNDANCE_CONVENTION,
                self.tr("Abundance convention"),
                options=[self.tr(label) for label in labels],
                defaultValue=0,
                optional=True,
            )
        )

    def abundance_convention(self, parameters, context) -> str:
        from ..engine.abundances.convention import CONVENTIONS

        return CONVENTIONS[self.parameterAsEnum(parameters, self.ABUNDANCE_CONVENTION, context)]

    def add_abundance_output(self, description="Abundance maps"):
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_ABUNDANCES, self.tr(description)))

    def add_endmember_output(self, description="Endmember spectra (CSV)", optional=False):
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_ENDMEMBERS,
                self.tr(description),
                self.tr("CSV files (*.csv)"),
                optional=optional,
            )
        )

    def add_report_output(self):
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_REPORT,
                self.tr("Report (HTML)"),
                self.tr("HTML files (*.html)"),
                optional=True,
                createByDefault=True,
            )
        )

    def raster_path(self, parameters, context, name=None) -> str:
        """File path of a raster-layer parameter (GDAL-readable files only)."""
        name = name or self.INPUT
        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None:
            raise QgsProcessingException(self.tr("Could not load the raster given as {name}").format(name=name))
        if layer.providerType() != "gdal":
            raise QgsProcessingException(self.tr("Only file-based (GDAL) rasters are supported"))
        return layer.source()

    def device(self, parameters, context) -> str:
        return DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)]

    def report_path(self, parameters, context) -> Optional[str]:
        path = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context)
        self.check_output_folder(path)
        return path or None

    def parameter_summary(self, parameters, context) -> Dict[str, str]:
        """The run's parameters as the user would read them (for reports): layer and file names, enum labels."""
        summary = {}
        for definition in self.parameterDefinitions():
            if definition.isDestination():
                continue
            summary[definition.description()] = self._readable_value(definition, parameters, context)
        return summary

    def _readable_value(self, definition, parameters, context) -> str:
        name = definition.name()
        value = parameters.get(name, definition.defaultValue())
        if value is None or value == "":
            return ""
        if isinstance(definition, QgsProcessingParameterEnum):
            labels = definition.options()
            indices = (
                self.parameterAsEnums(parameters, name, context)
                if definition.allowMultiple()
                else [self.parameterAsEnum(parameters, name, context)]
            )
            return ", ".join(labels[i] for i in indices if 0 <= i < len(labels))
        if isinstance(definition, (QgsProcessingParameterRasterLayer, QgsProcessingParameterMapLayer)):
            layer = self.parameterAsLayer(parameters, name, context)
            if layer is not None:
                source = layer.source()
                base = os.path.basename(source.split("|")[0])
                return layer.name() if base in (layer.name(), "") else f"{layer.name()} ({base})"
        if isinstance(definition, QgsProcessingParameterFile):
            return os.path.basename(self.parameterAsFile(parameters, name, context))
        if isinstance(definition, QgsProcessingParameterBoolean):
            return self.tr("yes") if self.parameterAsBoolean(parameters, name, context) else self.tr("no")
        return str(value)

    def input_label(self, parameters, context, name=None) -> str:
        """The input layer's name as the user sees it (for output layer names)."""
        layer = self.parameterAsLayer(parameters, name or self.INPUT, context)
        if layer is None:
            return ""
        return layer.name() or os.path.splitext(os.path.basename(layer.source()))[0]

    def fit_warnings(self, feedback, rmse: float, pixels, brightness: Optional[float] = None) -> List[str]:
        """Warn (log and report) on a scale mismatch or an RMSE beyond ordinary spectral variability."""
        from ..engine.reporting.fit_quality import noise_level, poor_fit_warning

        text = poor_fit_warning(rmse, noise_level(pixels), brightness)
        if text is None:
            return []
        feedback.pushWarning(text[0].upper() + text[1:])  # engine text: built at run time, not in the catalogue
        return [text]

    def check_output_folder(self, path: Optional[str]) -> None:
        if not path:
            return
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise QgsProcessingException(self.tr("The output folder does not exist: {folder}").format(folder=folder))
        if not os.access(folder, os.W_OK):
            raise QgsProcessingException(self.tr("The output folder is not writable: {folder}").format(folder=folder))

    def checkParameterValues(self, parameters, context):
        """QGIS's check, with a raster input it cannot load explained (empty, text, cut short) instead of its
        "not found"."""
        ok, message = super().checkParameterValues(parameters, context)
        if ok:
            return ok, message
        from ..engine.io.raster import unreadable_message

        for definition in self.parameterDefinitions():
            value = parameters.get(definition.name())
            if isinstance(definition, QgsProcessingParameterRasterLayer) and isinstance(value, str) and value:
                if self.parameterAsRasterLayer(parameters, definition.name(), context) is None:
                    why = unreadable_message(value)
                    if why:
                        return False, f"{definition.name()}: {why}"
        return ok, message

    def processAlgorithm(self, parameters, context, feedback):
        started = time.perf_counter()
        try:
            check_output_paths(*declared_paths(self, parameters, context))
            with output_transaction(), warnings_to(feedback):  # all outputs appear together, or none
                results = self.execute(parameters, context, feedback)
                if feedback.isCanceled():  # cancelled during a step that cannot stop midway: write nothing
                    raise Cancelled()
        except Cancelled:
            raise QgsProcessingException(self.tr("Canceled: no output was written")) from None
        except QgsProcessingException:
            raise
        except Exception as exc:
            message = user_message(exc)
            if message is None:
                raise
            raise QgsProcessingException(message) from exc
        layers = context.layersToLoadOnCompletion()
        if "" in layers:  # an empty optional output of a batch row: nothing to load, nothing to report as failed
            del layers[""]
            context.setLayersToLoadOnCompletion(layers)
        feedback.pushInfo(self.tr("Finished in {seconds:.1f} s").format(seconds=time.perf_counter() - started))
        return results

    def execute(self, parameters: Dict[str, Any], context, feedback) -> Dict[str, Any]:
        raise NotImplementedError
