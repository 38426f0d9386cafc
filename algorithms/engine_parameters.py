"""QGIS parameters built from an engine estimator's ``_parameter_constraints`` and variant table.

Ranges, choices and variant settings live in the engine only; the algorithms keep keys and labels. An empty
optional number means "the variant's value" (None to the estimator).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from numbers import Integral
from typing import Mapping, Optional

from qgis.core import QgsProcessingParameterEnum, QgsProcessingParameterNumber

from ..engine.core.params import choices, interval

VARIANT_SUFFIX = " (empty = the variant's)"


@dataclass(frozen=True)
class NumberOption:
    """A number parameter ``key`` forwarded to the estimator keyword ``kwarg``.

    Type and range come from the estimator's constraint on ``kwarg``. ``minimum`` and ``maximum`` may only
    narrow the engine's range (say why where they are used); ``integer`` is for keywords the engine declares
    no interval for.
    """

    key: str
    kwarg: str
    label: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    integer: Optional[bool] = None


@dataclass(frozen=True)
class ChoiceOption:
    """An enum parameter ``key`` over the estimator's choices for ``kwarg``, labelled by engine value."""

    key: str
    kwarg: str
    label: str
    labels: Mapping[str, str]
    advanced: bool = False


def variant_table(cls) -> dict:
    """``{variant: settings}`` of an estimator (its ``VARIANTS``; {} for one without variants)."""
    return getattr(cls, "VARIANTS", {})


def init_defaults(cls) -> dict:
    """The estimator's ``__init__`` defaults (None: the variant's value)."""
    return {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def is_integer(cls, option: NumberOption) -> bool:
    """Whether ``option`` is an integer parameter (from the engine's interval when it declares one)."""
    bounds = interval(cls, option.kwarg)
    if bounds is None:
        if option.integer is None:
            raise ValueError(f"{cls.__name__}.{option.kwarg} declares no interval: give integer=")
        return option.integer
    if option.integer is not None:
        raise ValueError(f"{cls.__name__}.{option.kwarg}: the type comes from the engine, drop integer=")
    return bounds.type is Integral


def dialog_range(cls, option: NumberOption) -> tuple:
    """(minimum, maximum) the dialog allows for ``option``: the engine's interval (None = unbounded).

    An open bound is shown as the bound itself (QGIS bounds are inclusive); the engine refuses that value
    before any work.
    """
    bounds = interval(cls, option.kwarg)
    low, high = (None, None) if bounds is None else (bounds.left, bounds.right)
    for narrower in (option.minimum, option.maximum):
        if narrower is not None and (low is not None and narrower < low or high is not None and narrower > high):
            raise ValueError(f"{option.key}: {narrower} is outside {cls.__name__}'s range {bounds}")
    low = low if option.minimum is None else option.minimum
    high = high if option.maximum is None else option.maximum
    return low, high


def number_parameter(cls, option: NumberOption, label: str, default=None, optional: bool = True):
    """A QGIS number parameter for ``option`` with the engine's type and range."""
    kind = (
        QgsProcessingParameterNumber.Type.Integer
        if is_integer(cls, option)
        else QgsProcessingParameterNumber.Type.Double
    )
    param = QgsProcessingParameterNumber(option.key, label, kind, defaultValue=default, optional=optional)
    low, high = dialog_range(cls, option)
    if low is not None:
        param.setMinimum(low)
    if high is not None:
        param.setMaximum(high)
    return param


def read_number(algorithm, cls, option: NumberOption, parameters, context):
    """The dialog's value of ``option`` as the estimator takes it (None: left empty)."""
    if parameters.get(option.key) in (None, "") and algorithm.parameterDefinition(option.key).defaultValue() is None:
        return None
    read = algorithm.parameterAsInt if is_integer(cls, option) else algorithm.parameterAsDouble
    return read(parameters, option.key, context)


def option_labels(values, labels: Mapping[str, str], what: str) -> list:
    """``labels`` of the engine ``values``, in their order; every value needs a label and every label a value."""
    differ = set(values) ^ set(labels)
    if differ:
        raise ValueError(f"the labels and the engine's {what} differ: {sorted(differ)}")
    return [labels[v] for v in values]


def enum_parameter(algorithm, cls, option: ChoiceOption, default=None):
    """A QGIS enum parameter whose options are ``cls``'s choices for ``option.kwarg`` (the first by default)."""
    values = choices(cls, option.kwarg)
    labels = option_labels(values, option.labels, f"{cls.__name__}.{option.kwarg} choices")
    index = values.index(default) if default is not None else 0
    return QgsProcessingParameterEnum(
        option.key, algorithm.tr(option.label), options=[algorithm.tr(t) for t in labels], defaultValue=index
    )


def enum_value(algorithm, cls, option: ChoiceOption, parameters, context) -> str:
    """The engine value chosen in the enum built by :func:`enum_parameter`."""
    return choices(cls, option.kwarg)[algorithm.parameterAsEnum(parameters, option.key, context)]


def _cell(value) -> str:
    if isinstance(value, (tuple, list)):
        return f"{value[0]} × {len(value)}" if len(set(value)) == 1 else " / ".join(map(str, value))
    return "auto" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def settings_table(cls) -> list:
    """The estimator's variant table as rows: a header (setting, each variant), then one row per setting."""
    table = variant_table(cls)
    if not table:
        return []
    keys = list(dict.fromkeys(key for settings in table.values() for key in settings))
    return [["setting", *table]] + [[key, *(_cell(s.get(key)) for s in table.values())] for key in keys]
