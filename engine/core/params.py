"""Parameter constraints of the estimators: declared once, checked in ``fit``, read by the QGIS dialogs.

``_parameter_constraints`` uses scikit-learn's format (its checker is private, so the kinds used are here):
per parameter a list of :class:`Interval`, :class:`Choices`, ``None``, ``"boolean"`` or ``"array-like"``.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Optional, Tuple

import numpy as np

from .errors import ParameterError

__all__ = ["Choices", "Integral", "Interval", "N_ENDMEMBERS", "Real", "SEED", "choices", "interval", "validate_params"]


class Interval:
    """Numbers of type ``kind`` between ``left`` and ``right`` (None: unbounded); ``closed``: left/right/both/neither."""

    def __init__(self, kind, left, right, *, closed):
        if kind not in (Integral, Real) or closed not in ("left", "right", "both", "neither"):
            raise ValueError(
                f"Interval({kind!r}, closed={closed!r}): kind is Integral or Real, closed one of "
                "'left', 'right', 'both', 'neither'"
            )
        self.type, self.left, self.right, self.closed = kind, left, right, closed

    def __contains__(self, value) -> bool:
        if value != value:  # NaN
            return False
        if self.left is not None and (value < self.left or value == self.left and self.closed in ("right", "neither")):
            return False
        return self.right is None or not (
            value > self.right or value == self.right and self.closed in ("left", "neither")
        )

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, self.type) and not isinstance(value, (bool, np.bool_)) and value in self

    def __str__(self):
        low = "-inf" if self.left is None else self.left
        high = "inf" if self.right is None else self.right
        opening = "[" if self.closed in ("left", "both") and self.left is not None else "("
        closing = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{'an int' if self.type is Integral else 'a float'} in the range {opening}{low}, {high}{closing}"


class Choices:
    """One of the strings ``options``, in a fixed order (QGIS enum parameters are indexed by it)."""

    def __init__(self, options):
        self.ordered: Tuple[str, ...] = tuple(options)

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, str) and value in self.ordered

    def __str__(self):
        return f"a str among {{{', '.join(repr(o) for o in self.ordered)}}}"


def _satisfies(value, constraint) -> bool:
    if constraint is None:
        return value is None
    if constraint == "boolean":
        return isinstance(value, (bool, np.bool_))
    if constraint == "array-like":
        return hasattr(value, "__len__") or hasattr(value, "__array__")
    if constraint is callable:
        return callable(value)
    if isinstance(constraint, type):
        return isinstance(value, constraint) and not (isinstance(value, bool) and constraint is not bool)
    return constraint.is_satisfied_by(value)


def _describe(constraint) -> str:
    if constraint is None:
        return "None"
    if constraint == "boolean":
        return "a bool"
    if constraint == "array-like":
        return "an array-like"
    if constraint is callable:
        return "a callable"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__!r}"
    return str(constraint)


#: Materials to separate: at least two (``engine.core.base.check_n_endmembers`` also checks the data can hold them).
N_ENDMEMBERS = Interval(Integral, 2, None, closed="left")
#: A seed as numpy's ``SeedSequence`` takes it (a non-negative integer); ``None`` draws fresh entropy.
SEED = Interval(Integral, 0, None, closed="left")


def positive(kind=Real) -> Interval:
    """(0, inf) for floats, [1, inf) for integers."""
    if kind is Integral:
        return Interval(Integral, 1, None, closed="left")
    return Interval(Real, 0, None, closed="neither")


def non_negative(kind=Real) -> Interval:
    """[0, inf)."""
    return Interval(kind, 0, None, closed="left")


def check_value(cls, name: str, value) -> None:
    """Check one value against ``cls._parameter_constraints[name]`` (if declared); ParameterError if it fails."""
    allowed = getattr(cls, "_parameter_constraints", {}).get(name)
    if allowed is None or any(_satisfies(value, c) for c in allowed):
        return
    described = [_describe(c) for c in allowed]
    must = described[0] if len(described) == 1 else f"{', '.join(described[:-1])} or {described[-1]}"
    raise ParameterError(f"The {name!r} parameter of {cls.__name__} must be {must}. Got {value!r} instead.")


def validate_params(estimator) -> None:
    """Check ``estimator``'s parameters against ``_parameter_constraints``; ParameterError names the first bad one."""
    for name, value in estimator.get_params(deep=False).items():
        check_value(type(estimator), name, value)


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
        raise ValueError(f"{cls.__name__}.{name} declares no ordered choice list (engine.core.params.Choices)")
    return found[0].ordered
