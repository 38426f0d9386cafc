"""QGIS parameters built from an engine estimator's ``_parameter_constraints``.

A range or a choice list lives in the engine only (``engine.core.params``); the algorithms keep what the user
sees: keys, labels, the defaults shown and the option labels (by engine value).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Mapping, Optional

from qgis.core import QgsProcessingParameterEnum, QgsProcessingParameterNumber

from ..engine.core.params import choices, interval


@dataclass(frozen=True)
class Advanced:
    """A numeric parameter forwarded to the estimator keyword ``kwarg`` (most are advanced parameters).

    Type and range come from the estimator's constraint on ``kwarg``. ``minimum`` and ``maximum`` may only
    narrow the engine's range (say why where they are used); ``integer`` is for keywords the engine declares
    no interval for.
    """

    key: str
    kwarg: str
    label: str
    zero_means_none: bool = False  # 0 in the dialog = the estimator's automatic choice (None)
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    integer: Optional[bool] = None


def is_integer(cls, adv: Advanced) -> bool:
    """Whether ``adv`` is an integer parameter (from the engine's interval when it declares one)."""
    bounds = interval(cls, adv.kwarg)
    if bounds is None:
        if adv.integer is None:
            raise ValueError(f"{cls.__name__}.{adv.kwarg} declares no interval: give Advanced(integer=...)")
        return adv.integer
    if adv.integer is not None:
        raise ValueError(f"{cls.__name__}.{adv.kwarg}: the type comes from the engine, drop integer=")
    return bounds.type is Integral


def dialog_range(cls, adv: Advanced) -> tuple:
    """(minimum, maximum) the dialog allows for ``adv``: the engine's interval (None = unbounded).

    An open bound is shown as the bound itself (QGIS bounds are inclusive); the engine refuses that value
    before any work. With ``zero_means_none`` the minimum is 0, the dialog's automatic choice.
    """
    bounds = interval(cls, adv.kwarg)
    low = None if bounds is None else bounds.left
    high = None if bounds is None else bounds.right
    if adv.minimum is not None:
        if low is not None and adv.minimum < low or high is not None and adv.minimum > high:
            raise ValueError(f"{adv.key}: minimum {adv.minimum} is outside {cls.__name__}'s range {bounds}")
        low = adv.minimum
    if adv.maximum is not None:
        if high is not None and adv.maximum > high or low is not None and adv.maximum < low:
            raise ValueError(f"{adv.key}: maximum {adv.maximum} is outside {cls.__name__}'s range {bounds}")
        high = adv.maximum
    if adv.zero_means_none:
        if bounds is not None and 0 in bounds:
            raise ValueError(f"{adv.key}: 0 is a valid {cls.__name__}.{adv.kwarg}, it cannot also mean None")
        low = 0
    return low, high


def number_parameter(cls, adv: Advanced, label: str, default, optional: bool = True) -> QgsProcessingParameterNumber:
    """A QGIS number parameter for ``adv`` with the engine's type and range."""
    kind = (
        QgsProcessingParameterNumber.Type.Integer if is_integer(cls, adv) else QgsProcessingParameterNumber.Type.Double
    )
    param = QgsProcessingParameterNumber(adv.key, label, kind, defaultValue=default, optional=optional)
    low, high = dialog_range(cls, adv)
    if low is not None:
        param.setMinimum(low)
    if high is not None:
        param.setMaximum(high)
    return param


def read_number(algorithm, cls, adv: Advanced, parameters, context):
    """The dialog's value of ``adv`` as the estimator takes it (None: empty, or 0 with ``zero_means_none``)."""
    if parameters.get(adv.key) in (None, "") and algorithm.parameterDefinition(adv.key).defaultValue() is None:
        return None
    read = algorithm.parameterAsInt if is_integer(cls, adv) else algorithm.parameterAsDouble
    value = read(parameters, adv.key, context)
    return None if adv.zero_means_none and value == 0 else value


def option_labels(values, labels: Mapping[str, str], what: str) -> list:
    """``labels`` of the engine ``values``, in their order; every value needs a label and every label a value."""
    differ = set(values) ^ set(labels)
    if differ:
        raise ValueError(f"the labels and the engine's {what} differ: {sorted(differ)}")
    return [labels[v] for v in values]


def enum_options(cls, kwarg: str, labels: Mapping[str, str]) -> list:
    """The option labels of an enum over ``cls``'s choices for ``kwarg``, in the engine's order."""
    return option_labels(choices(cls, kwarg), labels, f"{cls.__name__}.{kwarg} choices")


def enum_parameter(algorithm, cls, kwarg: str, key: str, label: str, labels: Mapping[str, str], **kwargs):
    """A QGIS enum parameter whose options are ``cls``'s choices for ``kwarg`` (labelled by ``labels``)."""
    options = [algorithm.tr(text) for text in enum_options(cls, kwarg, labels)]
    return QgsProcessingParameterEnum(key, algorithm.tr(label), options=options, **kwargs)


def enum_value(algorithm, cls, kwarg: str, key: str, parameters, context) -> str:
    """The engine value chosen in the enum ``key`` built by :func:`enum_parameter`."""
    return choices(cls, kwarg)[algorithm.parameterAsEnum(parameters, key, context)]
