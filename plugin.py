"""Registers the DeepUnmix Processing provider and, in the desktop, the spectra view (gui/)."""

from qgis.core import QgsApplication

from .algorithms.torch_paths import add_dependency_paths


class DeepUnmixPlugin:
    """QGIS plugin object: owns the provider's registration."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.spectra = None
        self.torch_menu = None

    def initProcessing(self):
        from .algorithms.provider import DeepUnmixProvider

        add_dependency_paths()
        self.provider = DeepUnmixProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()
        from .gui import cancel_display, results_viewer
        from .gui.torch_installer import PyTorchMenu, offer_install

        results_viewer.install()
        cancel_display.install()
        offer_install(self.iface)
        self.torch_menu = PyTorchMenu(self.iface) if self.iface is not None else None
        from .gui.spectra_gui import SpectraViewGui

        self.spectra = SpectraViewGui(self.iface)
        self.spectra.init_gui()

    def unload(self):
        if self.torch_menu is not None:
            self.torch_menu.unload()
            self.torch_menu = None
        if self.spectra is not None:
            self.spectra.unload()
            self.spectra = None
        from .gui import cancel_display, results_viewer

        results_viewer.uninstall()
        cancel_display.uninstall()
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
