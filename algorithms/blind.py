"""Shared shape of the blind unmixing algorithms (DDICA, BUDDIP, UnDIP, min-vol NMF).

Each takes INPUT, N_ENDMEMBERS, SEED (and DEVICE for torch methods), fits an
engine estimator on the raster and writes OUTPUT_ABUNDANCES (raster) and
OUTPUT_ENDMEMBERS (CSV). Subclasses list their advanced parameters as
``Advanced`` entries mapping a parameter key to an estimator keyword; the
defaults shown in the dialog are the estimator's own defaults.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from qgis.core import QgsProcessingParameterNumber

from ..engine.io.endmember_csv import write_endmembers_csv
from ..engine.io.raster import write_abundances
from .base import DeepUnmixAlgorithm
from .inputs import load_for_fitting


@dataclass(frozen=True)
class Advanced:
    """An advanced numeric parameter forwarded to the estimator."""

    key: str
    kwarg: str
    label: str
    integer: bool = False
    minimum: Optional[float] = None
    zero_means_none: bool = False  # 0 in the dialog = estimator's automatic choice


class BlindUnmixingAlgorithm(DeepUnmixAlgorithm):
    """Base for algorithms that estimate endmembers and abundances from the raster alone."""

    ADVANCED: Sequence[Advanced] = ()
    USES_TORCH = True
    GROUP = "Blind unmixing"
    GROUP_ID = "blind"

    def estimator_class(self):
        raise NotImplementedError

    def extra_parameters(self):
        """Declare algorithm-specific parameters (after the common ones)."""

    def extra_kwargs(self, parameters, context) -> dict:
        return {}

    def method_label(self) -> str:
        return self.DISPLAY_NAME.split(" ")[0]

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_input_raster()
        self.add_n_endmembers()
        self.add_seed()
        if self.USES_TORCH:
            self.add_device()
        self.extra_parameters()
        defaults = _init_defaults(self.estimator_class())
        for adv in self.ADVANCED:
            default = defaults.get(adv.kwarg)
            if default is None:
                default = 0
            kind = QgsProcessingParameterNumber.Integer if adv.integer else QgsProcessingParameterNumber.Double
            param = QgsProcessingParameterNumber(adv.key, self.tr(adv.label), kind, defaultValue=default)
            if adv.minimum is not None:
                param.setMinimum(adv.minimum)
            self.add_advanced(param)
        self.add_abundance_output()
        self.add_endmember_output()

    def run(self, parameters, context, feedback):
        if self.USES_TORCH:
            _require_torch()
        n = self.parameterAsInt(parameters, self.N_ENDMEMBERS, context)
        out_ab = self.parameterAsOutputLayer(parameters, self.OUTPUT_ABUNDANCES, context)
        out_em = self.parameterAsFileOutput(parameters, self.OUTPUT_ENDMEMBERS, context)
        self.check_output_folder(out_ab)
        self.check_output_folder(out_em)
        kwargs = self.estimator_kwargs(parameters, context)
        kwargs["progress"] = self.progress_callback(feedback, 0, 95)
        data = load_for_fitting(self.raster_path(parameters, context), feedback)

        feedback.pushInfo(self.tr(f"Fitting {self.method_label()} with {n} endmembers"))
        model = self.estimator_class()(n_endmembers=n, **kwargs).fit(data.cube, data.mask)
        names = [f"{self.method_label()}_{i + 1}" for i in range(model.endmembers_.shape[1])]
        write_abundances(out_ab, model.abundances_, names, like=data.raster, mask=data.mask)
        write_endmembers_csv(out_em, model.endmembers_, names, wavelengths=data.wavelengths, bands=data.bands)
        feedback.setProgress(100)
        return {self.OUTPUT_ABUNDANCES: out_ab, self.OUTPUT_ENDMEMBERS: out_em}

    def estimator_kwargs(self, parameters, context) -> dict:
        params = inspect.signature(self.estimator_class().__init__).parameters
        kwargs: dict[str, Any] = {}
        if "random_state" in params:
            kwargs["random_state"] = self.parameterAsInt(parameters, self.SEED, context)
        if self.USES_TORCH:
            kwargs["device"] = self.device(parameters, context)
        for adv in self.ADVANCED:
            value = (self.parameterAsInt if adv.integer else self.parameterAsDouble)(parameters, adv.key, context)
            kwargs[adv.kwarg] = None if (adv.zero_means_none and value == 0) else value
        kwargs.update(self.extra_kwargs(parameters, context))
        return kwargs


def _init_defaults(cls: Callable) -> dict:
    return {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _require_torch() -> None:
    from ..engine.torch_support import import_torch

    import_torch()
