"""The algorithms that fit one engine estimator on the input raster (DDICA, BUDDIP, UnDIP, min-vol NMF, DeepICA).

``execute`` builds one :class:`Run`: the estimator is built from the parameters and validated once, before
the raster is read. A subclass declares ``ESTIMATOR``, its numbers (``OPTIONS``) and choices (``CHOICES``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Optional, Sequence

import numpy as np

from ..engine.abundances.fcls import fcls
from ..engine.core.params import validate_params
from ..engine.io.blockwise import apply_blockwise
from ..engine.io.endmember_csv import write_endmembers_csv
from ..engine.io.fitting import FitData
from ..engine.io.memory import check_allocation
from ..engine.io.raster import read_thumbnails, write_abundances
from ..engine.reporting.change_from_start import change_note
from ..engine.reporting.metrics import reconstruction_rmse
from ..engine.reporting.report import write_report
from .base import DeepUnmixAlgorithm
from .engine_parameters import (
    VARIANT_SUFFIX,
    ChoiceOption,
    NumberOption,
    enum_parameter,
    enum_value,
    init_defaults,
    number_parameter,
    read_number,
    variant_table,
)
from .errors import progress_callback
from .inputs import InputOptions, add_input_options, input_options, load_for_fitting, memory_mb
from .styling import style_outputs


@dataclass
class Run:
    """One execution: its parameters, the estimator built from them, the input read for fitting."""

    alg: "EstimatorAlgorithm"
    parameters: dict
    context: Any
    feedback: Any
    estimator: Any
    options: InputOptions
    data: Optional[FitData] = None
    started: float = field(default_factory=time.perf_counter)

    def progress(self, start: float = 0.0, end: float = 100.0):
        return progress_callback(self.feedback, start, end)

    def stream(self, out: str, func, names, start: float, end: float) -> None:
        """Write ``func`` of every pixel of the input (``func``: (L, n) -> (len(names), n)) to ``out``."""
        data = self.data
        apply_blockwise(
            data.path,
            out,
            func,
            len(names),
            names,
            bands=data.bands,
            scale=data.scale,
            max_block_bytes=self.options.block_bytes,
            progress=self.progress(start, end),
        )


class EstimatorAlgorithm(DeepUnmixAlgorithm):
    """Declares and reads an estimator's parameters, and starts a :class:`Run`."""

    ESTIMATOR: Any = None
    NEEDS_TORCH = True
    COUNT = "N_ENDMEMBERS"  # the parameter read into the estimator's first argument (COUNT_KWARG)
    COUNT_KWARG = "n_endmembers"
    OPTIONS: Sequence[NumberOption] = ()
    CHOICES: Sequence[ChoiceOption] = ()
    FIT_PROGRESS = 95  # the fit's share of the progress bar; streaming the output takes the rest

    def add_options(self) -> None:
        """Declare ``CHOICES`` and ``OPTIONS``: a number's default is the estimator's (empty: the variant's)."""
        defaults, variants = init_defaults(self.ESTIMATOR), variant_table(self.ESTIMATOR)
        for choice in self.CHOICES:
            parameter = enum_parameter(self, self.ESTIMATOR, choice, defaults.get(choice.kwarg))
            (self.add_advanced if choice.advanced else self.addParameter)(parameter)
        for option in self.OPTIONS:
            default = defaults.get(option.kwarg)
            in_variants = any(option.kwarg in settings for settings in variants.values())
            label = self.tr(option.label) + (self.tr(VARIANT_SUFFIX) if default is None and in_variants else "")
            parameter = number_parameter(self.ESTIMATOR, option, label, default)
            if in_variants:
                parameter.setHelp(self.tr("'{row}' in the variant settings table").format(row=option.kwarg))
            self.add_advanced(parameter)

    def estimator_kwargs(self, parameters, context) -> dict:
        """The estimator's keywords as the dialog gives them; subclasses add theirs to ``super()``'s."""
        cls = self.ESTIMATOR
        kwargs = {
            self.COUNT_KWARG: self.parameterAsInt(parameters, self.COUNT, context),
            "random_state": self.parameterAsInt(parameters, self.SEED, context),
        }
        if self.NEEDS_TORCH:
            kwargs["device"] = self.device(parameters, context)
        kwargs.update((c.kwarg, enum_value(self, cls, c, parameters, context)) for c in self.CHOICES)
        kwargs.update((o.kwarg, read_number(self, cls, o, parameters, context)) for o in self.OPTIONS)
        return kwargs

    def start(self, parameters, context, feedback, **load) -> Run:
        """Build and validate the estimator (before the raster is read), then read the input for fitting."""
        if self.NEEDS_TORCH:
            from ..engine.core.torch_support import import_torch

            import_torch()
        progress = progress_callback(feedback, 0, self.FIT_PROGRESS)
        estimator = self.ESTIMATOR(**self.estimator_kwargs(parameters, context), progress=progress)
        validate_params(estimator)
        run = Run(self, parameters, context, feedback, estimator, input_options(self, parameters, context))
        run.data = load_for_fitting(self.raster_path(parameters, context), feedback, run.options, **load)
        return run


class BlindUnmixingAlgorithm(EstimatorAlgorithm):
    """Endmembers and abundances estimated from the raster alone: abundance maps, endmember CSV, report."""

    SAMPLES_OK = True  # per-pixel methods fit on a sample of a large raster; image priors need whole tiles
    TILES_FROM_DISK = False  # image priors: a raster over the budget is fitted in tiles read from disk
    LABEL = ""  # the method's name in band names, layer names and the log

    def extra_parameters(self):
        """Declare algorithm-specific parameters (after the common ones)."""

    def initAlgorithm(self, config=None):
        self.add_input_raster()
        self.add_n_endmembers()
        self.add_seed()
        if self.NEEDS_TORCH:
            self.add_device()
        self.extra_parameters()
        add_input_options(self)
        self.add_options()
        self.add_abundance_output()
        self.add_endmember_output()
        self.add_report_output()

    def estimator_kwargs(self, parameters, context) -> dict:
        kwargs = super().estimator_kwargs(parameters, context)
        if self.TILES_FROM_DISK:
            kwargs["memory_mb"] = memory_mb(self, parameters, context, None)
        return kwargs

    def before_fit(self, run: Run) -> None:
        """Log what is fitted; a subclass may finish the estimator from the data read (UnDIP's endmember CSV)."""
        n = run.estimator.n_endmembers
        run.feedback.pushInfo(self.tr("Fitting {method} with {n} endmembers").format(method=self.LABEL, n=n))

    def model_rmse(self, model, data) -> float:
        """RMSE of the data vs endmembers x abundances, for the report."""
        return reconstruction_rmse(data.cube, model.endmembers_, model.abundances_)

    def training_memory(self, run: Run) -> int:
        """Bytes the fit will ask for beyond the input (0 = not estimated); checked before fitting."""
        return 0

    def execute(self, parameters, context, feedback):
        out_ab = self.parameterAsOutputLayer(parameters, self.OUTPUT_ABUNDANCES, context)
        out_em = self.parameterAsFileOutput(parameters, self.OUTPUT_ENDMEMBERS, context)
        self.check_output_folder(out_ab)
        self.check_output_folder(out_em)
        report = self.report_path(parameters, context)
        run = self.start(
            parameters,
            context,
            feedback,
            allow_sample=self.SAMPLES_OK or self.TILES_FROM_DISK,
            sample_use="for the first guess, then fitting in tiles read from disk" if self.TILES_FROM_DISK else None,
        )
        self.before_fit(run)
        need = self.training_memory(run)
        if need:
            limit = run.options.memory_mb * 2**20
            check_allocation(need, f"{self.LABEL} training", limit, "lower BATCH_SIZE or RESTARTS, or raise MEMORY_MB")
        tiled = run.data.sampled and self.TILES_FROM_DISK  # the abundances are written tile by tile while fitting
        model = self.fit_tiles_from_disk(run, out_ab) if tiled else run.estimator.fit(run.data.cube, run.data.mask)
        names = [f"{self.LABEL}_{i + 1}" for i in range(model.endmembers_.shape[1])]
        if run.data.sampled and not tiled:
            feedback.pushInfo(self.tr("Unmixing every pixel of the raster, block by block"))
            run.stream(out_ab, pixel_function(model), names, self.FIT_PROGRESS, 99)
        elif not run.data.sampled:
            write_abundances(out_ab, model.abundances_, names, like=run.data.georef, mask=run.data.mask)
        data = run.data
        write_endmembers_csv(
            out_em, model.endmembers_, names, wavelengths=data.wavelengths, bands=data.bands, comment=data.csv_comment
        )
        results = {self.OUTPUT_ABUNDANCES: out_ab, self.OUTPUT_ENDMEMBERS: out_em}
        source = self.input_label(parameters, context)
        label = self.LABEL
        style_outputs(context, out_ab, f"{label} abundances ({source})", out_em, f"{label} endmembers ({source})")
        if report:
            results[self.OUTPUT_REPORT] = self.write_report(run, model, names, report, out_ab, tiled)
        else:
            self.fit_notes(run, model)
        feedback.setProgress(100)
        return results

    def fit_notes(self, run: Run, model):
        """Log the reconstruction RMSE, degenerate-solution warnings and the change from the first guess."""
        rmse = self.model_rmse(model, run.data)
        run.feedback.pushInfo(self.tr("Reconstruction RMSE: {rmse:.5g}").format(rmse=rmse))
        warnings = self.fit_warnings(run.feedback, rmse, _valid_pixels(run.data))
        warnings += solution_warnings(model, run.data, run.feedback)
        change = change_note(model)
        if change:
            run.feedback.pushInfo(change)  # engine text: built at run time
        return rmse, warnings, [change] if change else []

    def write_report(self, run: Run, model, names, path: str, out_ab: str, tiled: bool) -> str:
        rmse, warnings, notes = self.fit_notes(run, model)
        n = run.data.cube.shape[2]
        if tiled:
            notes.append(
                f"Fitted in {len(model.tiles_)} tiles read from disk (first guess from a random sample of {n} "
                f"pixels; abundances: {model.output_}); the reconstruction RMSE is that of the sample"
            )
        elif run.data.sampled:
            notes.append(f"Fitted on a random sample of {n} pixels; every pixel was then unmixed")
        write_report(
            path,
            f"{self.LABEL} report ({self.input_label(run.parameters, run.context)})",
            model.endmembers_,
            names,
            run.data.wavelengths,
            read_thumbnails(out_ab),
            self.parameter_summary(run.parameters, run.context),
            reconstruction_rmse=rmse,
            started=run.started,
            notes=notes,
            warnings=warnings,
        )
        return path

    def fit_tiles_from_disk(self, run: Run, out_ab: str):
        """A raster over the memory budget: tiles read from disk, abundances written to ``out_ab`` as they blend."""
        from ..engine.dip.from_disk import fit_tiles_from_disk  # noqa: PLC0415 - torch behind it

        run.feedback.pushInfo(
            self.tr("The raster is over the memory budget: fitting {} in tiles read from disk").format(self.LABEL)
        )
        data = run.data
        return fit_tiles_from_disk(
            run.estimator,
            data.path,
            out_ab,
            self.LABEL,
            data.cube[:, 0, :],
            bands=data.bands,
            scale=data.scale,
            memory_mb=run.options.memory_mb,
            progress=run.estimator.progress,
        )


class ImagePriorAlgorithm(BlindUnmixingAlgorithm):
    """BUDDIP and UnDIP: a deep image prior needs whole tiles; a raster over the budget is read from disk."""

    SAMPLES_OK = False
    TILES_FROM_DISK = True
    EXTRACTOR = "EXTRACTOR"
    VARIANT = "VARIANT"
    # labels by engine value; the values and their order are the engine's (its extractor choices)
    EXTRACTORS = {"sivm": "SiVM", "vca": "VCA", "nfindr": "N-FINDR"}


def pixel_function(model):
    """Abundances of an (L, n) pixel matrix under the fitted model (for streaming large rasters)."""
    return getattr(model, "predict_abundances", None) or partial(fcls, E=model.endmembers_)


def _valid_pixels(data):
    """The fitted pixels as an (L, n) matrix without nodata."""
    Y = data.cube.reshape(data.cube.shape[0], -1)
    return Y if data.mask is None else Y[:, np.asarray(data.mask).ravel()]


def solution_warnings(model, data, feedback) -> list:
    """The model's degenerate-solution warnings (``warnings_``, or
    :func:`engine.abundances.safeguard.check_solution` of its fitted pixels), each pushed to the log; [] when its
    abundances are not in memory (fitted in tiles)."""
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
