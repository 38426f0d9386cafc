"""Shared shape of the blind unmixing algorithms (DDICA, BUDDIP, UnDIP, min-vol NMF).

Each takes INPUT, N_ENDMEMBERS, SEED (and DEVICE for torch methods), fits an
engine estimator on the raster and writes OUTPUT_ABUNDANCES (raster) and
OUTPUT_ENDMEMBERS (CSV). Subclasses list their advanced parameters as
``Advanced`` entries mapping a parameter key to an estimator keyword; their type and
range are the estimator's ``_parameter_constraints`` and the defaults shown in the dialog
are the estimator's own defaults.
"""

from __future__ import annotations

import inspect
import time
from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from ..engine.abundances.fcls import fcls
from ..engine.core.params import validate_params
from ..engine.io.blockwise import apply_blockwise
from ..engine.io.endmember_csv import write_endmembers_csv
from ..engine.io.memory import check_allocation
from ..engine.io.raster import read_thumbnails, write_abundances
from ..engine.reporting.change_from_start import change_note
from ..engine.reporting.metrics import reconstruction_rmse
from ..engine.reporting.report import write_report
from .base import DeepUnmixAlgorithm
from .engine_parameters import Advanced, number_parameter, read_number
from .inputs import add_input_options, input_options, load_for_fitting
from .styling import style_outputs


class BlindUnmixingAlgorithm(DeepUnmixAlgorithm):
    """Base for algorithms that estimate endmembers and abundances from the raster alone."""

    ADVANCED: Sequence[Advanced] = ()
    NEEDS_TORCH = True
    SAMPLES_OK = True  # per-pixel methods fit on a sample of a large raster; image priors need whole tiles
    TILES_FROM_DISK = False  # image priors: a raster over the budget is fitted in tiles read from disk
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

    def initAlgorithm(self, config=None):
        self.add_input_raster()
        self.add_n_endmembers()
        self.add_seed()
        if self.NEEDS_TORCH:
            self.add_device()
        self.extra_parameters()
        add_input_options(self)
        defaults = self.estimator_defaults()
        cls = self.estimator_class()
        for adv in self.ADVANCED:
            default = defaults.get(adv.kwarg)
            self.add_advanced(number_parameter(cls, adv, self.tr(adv.label), 0 if default is None else default))
        self.add_abundance_output()
        self.add_endmember_output()
        self.add_report_output()

    def execute(self, parameters, context, feedback):
        started = time.perf_counter()
        if self.NEEDS_TORCH:
            _require_torch()
        out_ab = self.parameterAsOutputLayer(parameters, self.OUTPUT_ABUNDANCES, context)
        out_em = self.parameterAsFileOutput(parameters, self.OUTPUT_ENDMEMBERS, context)
        self.check_output_folder(out_ab)
        self.check_output_folder(out_em)
        report = self.report_path(parameters, context)
        kwargs = self.estimator_kwargs(parameters, context)
        self.check_parameters(kwargs, parameters, context)
        kwargs["progress"] = self.progress_callback(feedback, 0, 95)
        options = input_options(self, parameters, context)
        data = load_for_fitting(
            self.raster_path(parameters, context),
            feedback,
            options,
            allow_sample=self.SAMPLES_OK or self.TILES_FROM_DISK,
            sample_use="for the first guess, then fitting in tiles read from disk" if self.TILES_FROM_DISK else None,
        )

        need = self.training_memory(data, kwargs, parameters, context)
        if need:
            check_allocation(
                need,
                f"{self.method_label()} training",
                options.memory_mb * 2**20,
                "lower BATCH_SIZE or RESTARTS, or raise MEMORY_MB",
            )
        label = self.method_label()
        tiled = data.sampled and self.TILES_FROM_DISK  # the abundances are written tile by tile while fitting
        if tiled:
            model = self.fit_tiles_from_disk(data, kwargs, parameters, context, feedback, out_ab, options)
        else:
            model = self.fit_model(data, kwargs, parameters, context, feedback)
        names = [f"{label}_{i + 1}" for i in range(model.endmembers_.shape[1])]
        if data.sampled and not tiled:
            feedback.pushInfo(self.tr("Unmixing every pixel of the raster, block by block"))
            apply_blockwise(
                data.path,
                out_ab,
                self.pixel_function(model),
                len(names),
                names,
                bands=data.bands,
                scale=data.scale,
                max_block_bytes=options.block_bytes,
                progress=self.progress_callback(feedback, 95, 99),
            )
        elif not data.sampled:
            write_abundances(out_ab, model.abundances_, names, like=data.georef, mask=data.mask)
        write_endmembers_csv(
            out_em, model.endmembers_, names, wavelengths=data.wavelengths, bands=data.bands, comment=data.csv_comment
        )
        results = {self.OUTPUT_ABUNDANCES: out_ab, self.OUTPUT_ENDMEMBERS: out_em}
        source = self.input_label(parameters, context)
        style_outputs(context, out_ab, f"{label} abundances ({source})", out_em, f"{label} endmembers ({source})")
        rmse = self.reconstruction_rmse(model, data)
        feedback.pushInfo(self.tr("Reconstruction RMSE: {rmse:.5g}").format(rmse=rmse))
        warnings = self.fit_warnings(feedback, rmse, _valid_pixels(data)) + solution_warnings(model, data, feedback)
        change = change_note(model)
        if change:
            feedback.pushInfo(change)  # engine text: built at run time
        if report:
            notes = [change] if change else []
            if tiled:
                notes += [
                    f"Fitted in {len(model.tiles_)} tiles read from disk (first guess from a random sample of "
                    f"{data.cube.shape[2]} pixels; abundances: {model.output_}); the reconstruction RMSE is that "
                    "of the sample"
                ]
            elif data.sampled:
                notes += [f"Fitted on a random sample of {data.cube.shape[2]} pixels; every pixel was then unmixed"]
            write_report(
                report,
                f"{label} report ({source})",
                model.endmembers_,
                names,
                data.wavelengths,
                read_thumbnails(out_ab),
                self.parameter_summary(parameters, context),
                reconstruction_rmse=rmse,
                started=started,
                notes=notes,
                warnings=warnings,
            )
            results[self.OUTPUT_REPORT] = report
        feedback.setProgress(100)
        return results

    def check_parameters(self, kwargs, parameters, context) -> None:
        """Refuse a parameter outside the estimator's constraints before the raster is read."""
        n = self.parameterAsInt(parameters, self.N_ENDMEMBERS, context)
        validate_params(self.estimator_class()(n_endmembers=n, **kwargs))

    def estimator_defaults(self) -> dict:
        """The values the dialog shows for the advanced parameters: the estimator's defaults."""
        return _init_defaults(self.estimator_class())

    def reconstruction_rmse(self, model, data) -> float:
        """RMSE of the data vs endmembers x abundances, for the report."""
        return reconstruction_rmse(data.cube, model.endmembers_, model.abundances_)

    def training_memory(self, data, kwargs, parameters, context) -> int:
        """Bytes the fit will ask for beyond the input (0 = not estimated); checked before fitting."""
        return 0

    def pixel_function(self, model):
        """Abundances of an (L, n) pixel matrix under the fitted model (for streaming large rasters)."""
        return partial(fcls, E=model.endmembers_)

    def make_estimator(self, data, kwargs, parameters, context, feedback):
        """The unfitted engine estimator for this run; subclasses may change how."""
        n = self.parameterAsInt(parameters, self.N_ENDMEMBERS, context)
        feedback.pushInfo(self.tr("Fitting {method} with {n} endmembers").format(method=self.method_label(), n=n))
        return self.estimator_class()(n_endmembers=n, **kwargs)

    def fit_model(self, data, kwargs, parameters, context, feedback):
        """Fit the engine estimator on the input data."""
        return self.make_estimator(data, kwargs, parameters, context, feedback).fit(data.cube, data.mask)

    def fit_tiles_from_disk(self, data, kwargs, parameters, context, feedback, out_ab, options):
        """A raster over the memory budget: tiles read from disk, abundances written to ``out_ab`` as they blend."""
        from ..engine.dip.from_disk import fit_tiles_from_disk  # noqa: PLC0415 - torch behind it

        estimator = self.make_estimator(data, kwargs, parameters, context, feedback)
        label = self.method_label()
        feedback.pushInfo(
            self.tr("The raster is over the memory budget: fitting {} in tiles read from disk").format(label)
        )
        return fit_tiles_from_disk(
            estimator,
            data.path,
            out_ab,
            label,
            data.cube[:, 0, :],
            bands=data.bands,
            scale=data.scale,
            memory_mb=options.memory_mb,
            progress=kwargs["progress"],
        )

    def estimator_kwargs(self, parameters, context) -> dict:
        params = inspect.signature(self.estimator_class().__init__).parameters
        kwargs: dict[str, Any] = {}
        if "random_state" in params:
            kwargs["random_state"] = self.parameterAsInt(parameters, self.SEED, context)
        if self.NEEDS_TORCH:
            kwargs["device"] = self.device(parameters, context)
        cls = self.estimator_class()
        for adv in self.ADVANCED:
            kwargs[adv.kwarg] = read_number(self, cls, adv, parameters, context)
        kwargs.update(self.extra_kwargs(parameters, context))
        return kwargs


def _valid_pixels(data):
    """The fitted pixels as an (L, n) matrix without nodata."""
    Y = data.cube.reshape(data.cube.shape[0], -1)
    return Y if data.mask is None else Y[:, np.asarray(data.mask).ravel()]


def solution_warnings(model, data, feedback) -> list:
    """The model's degenerate-solution warnings (``warnings_``, or :func:`engine.abundances.safeguard.check_solution` of its
    fitted pixels), each pushed to the log; [] when its abundances are not in memory (fitted in tiles)."""
    found = getattr(model, "warnings_", None)
    A = getattr(model, "abundances_", None)
    if found is None and A is not None and A.shape[1:] == data.cube.shape[1:]:
        from ..engine.abundances.safeguard import check_solution

        A = A.reshape(A.shape[0], -1)
        keep = np.isfinite(A).all(0)
        found = check_solution(data.cube.reshape(data.cube.shape[0], -1)[:, keep], model.endmembers_, A[:, keep])
    for text in found or ():
        feedback.pushWarning("Degenerate solution? " + text)  # engine text: built at run time
    return ["degenerate solution? " + text for text in found or ()]


def _init_defaults(cls: Callable) -> dict:
    return {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _require_torch() -> None:
    from ..engine.core.torch_support import import_torch

    import_torch()
