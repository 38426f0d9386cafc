"""Parameter constraints of the estimators: declared once, checked in ``fit``, read by the QGIS dialogs.

Each estimator declares ``_parameter_constraints`` in scikit-learn's format
(``sklearn.utils._param_validation``: :class:`Interval`, :class:`StrOptions`, ``None``, ``"boolean"``, ...).
:func:`validate_params` checks an estimator's parameters against them and raises
:class:`~deepunmix.engine.errors.ParameterError`; :func:`interval` and :func:`choices` read one
parameter's range or choice list, so the QGIS algorithms build their parameters from the same facts.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Optional, Tuple

from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from .errors import ParameterError

__all__ = ["Choices", "Integral", "Interval", "N_ENDMEMBERS", "Real", "SEED", "choices", "interval", "validate_params"]

#: Materials to separate: at least two (``engine.base.check_n_endmembers`` also checks the data can hold them).
N_ENDMEMBERS = Interval(Integral, 2, None, closed="left")
#: A seed as numpy's ``SeedSequence`` takes it (a non-negative integer); ``None`` draws fresh entropy.
SEED = Interval(Integral, 0, None, closed="left")


class Choices(StrOptions):
    """:class:`StrOptions` that keeps the order its options were given in.

    QGIS enum parameters are indexed: the dialog's options follow this order, so it must not change.
    """

    def __init__(self, options, *, deprecated=None):
        self.ordered: Tuple[str, ...] = tuple(options)
        super().__init__(set(self.ordered), deprecated=deprecated)

    def __str__(self):
        return f"a str among {{{', '.join(repr(o) for o in self.ordered)}}}"


def positive(kind=Real) -> Interval:
    """(0, inf) for floats, [1, inf) for integers."""
    if kind is Integral:
        return Interval(Integral, 1, None, closed="left")
    return Interval(Real, 0, None, closed="neither")


def non_negative(kind=Real) -> Interval:
    """[0, inf)."""
    return Interval(kind, 0, None, closed="left")


def validate_params(estimator) -> None:
    """Check ``estimator``'s parameters against its class's ``_parameter_constraints``.

    Raises
    ------
    ParameterError
        Naming the parameter, what it must be and the value given.
    """
    cls = type(estimator)
    try:
        validate_parameter_constraints(
            getattr(cls, "_parameter_constraints", {}), estimator.get_params(deep=False), caller_name=cls.__name__
        )
    except InvalidParameterError as exc:
        raise ParameterError(str(exc)) from None


def _constraints(cls, name: str) -> list:
    try:
        return list(cls._parameter_constraints[name])
    except (AttributeError, KeyError):
        raise KeyError(f"{cls.__name__} declares no constraint for {name!r}") from None


def interval(cls, name: str) -> Optional[Interval]:
    """The numeric range declared for ``cls``'s parameter ``name`` (None if it has none)."""
    found = [c for c in _constraints(cls, name) if isinstance(c, Interval)]
    if len(found) > 1:
        raise ValueError(f"{cls.__name__}.{name} has {len(found)} intervals; one is expected")
    return found[0] if found else None


def choices(cls, name: str) -> Tuple[str, ...]:
    """The string values declared for ``cls``'s parameter ``name``, in their declared order."""
    found = [c for c in _constraints(cls, name) if isinstance(c, Choices)]
    if len(found) != 1:
        raise ValueError(f"{cls.__name__}.{name} declares no ordered choice list (engine.params.Choices)")
    return found[0].ordered


def accepts_none(cls, name: str) -> bool:
    """Whether ``None`` is a valid value of ``cls``'s parameter ``name`` (the variant's / automatic choice)."""
    return any(c is None for c in _constraints(cls, name))
