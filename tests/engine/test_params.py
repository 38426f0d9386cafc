"""engine.core.params: the estimators' ``_parameter_constraints`` are checked by one helper, first thing in ``fit``."""

import inspect

import numpy as np
import pytest

from deepunmix.engine.core.errors import ParameterError
from deepunmix.engine.core.params import Choices, Integral, Interval, Real, choices, interval, validate_params
from deepunmix.engine.count.estimate import EndmemberCountEstimator
from deepunmix.engine.ddica.ica import DeepICA
from deepunmix.engine.ddica.unmixing import DDICA
from deepunmix.engine.dip.buddip import BUDDIP
from deepunmix.engine.dip.undip import UnDIP
from deepunmix.engine.extraction.minvol_nmf import MinVolNMF
from deepunmix.engine.extraction.nfindr import NFINDR
from deepunmix.engine.extraction.sivm import SiVM
from deepunmix.engine.extraction.vca import VCA

CONSTRAINED = [DDICA, DeepICA, BUDDIP, UnDIP, MinVolNMF, EndmemberCountEstimator, VCA, SiVM, NFINDR]


@pytest.mark.parametrize("cls", CONSTRAINED, ids=lambda c: c.__name__)
def test_every_constraint_names_an_init_parameter(cls):
    """scikit-learn skips constraints on unknown names silently: a typo would disable a check."""
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    params |= set(cls.variant_settings()) if hasattr(cls, "variant_settings") else set()  # settings=dict(...)
    assert set(cls._parameter_constraints) <= params


@pytest.mark.parametrize("cls", CONSTRAINED, ids=lambda c: c.__name__)
def test_the_defaults_satisfy_the_constraints(cls):
    first = next(iter(p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"))
    args = {first.name: 3} if first.default is inspect.Parameter.empty else {}
    validate_params(cls(**args))


# (estimator, arguments, the bad parameter, a bad value): each value is outside the declared constraint
BAD = [
    (DDICA, {}, "alpha", 0.0),
    (DDICA, {}, "learning_rate", -1e-3),
    (DDICA, {}, "n_restarts", 0),
    (DDICA, {}, "batch_size", 1),
    (DDICA, {}, "purify", 1.5),
    (DDICA, {}, "variant", "papers"),
    (DDICA, {}, "abundance_convention", "bogus"),
    (DDICA, {}, "eig_route", "gpu"),
    (DDICA, {}, "n_steps", 2.5),
    (DeepICA, {}, "alpha", -1.0),
    (DeepICA, {}, "n_restarts", 0),
    (DeepICA, {}, "variant", "light"),
    (DeepICA, {}, "holdout_fraction", 1.0),
    (BUDDIP, {"n_endmembers": 3}, "purify", 1.0),
    (BUDDIP, {"n_endmembers": 3}, "ema", 1.0),
    (BUDDIP, {"n_endmembers": 3}, "extractor", "pca"),
    (BUDDIP, {"n_endmembers": 3}, "alpha2", -0.1),
    (BUDDIP, {"n_endmembers": 3}, "n_iter", -1),
    (BUDDIP, {"n_endmembers": 3}, "network_input", "image"),
    (UnDIP, {"n_endmembers": 3}, "n_iter", 0),
    (UnDIP, {"n_endmembers": 3}, "learning_rate", 0.0),
    (UnDIP, {"n_endmembers": 3}, "variant", "pnl"),
    (MinVolNMF, {}, "lam", -0.1),
    (MinVolNMF, {}, "delta", 0.0),
    (MinVolNMF, {}, "max_iter", 0),
    (MinVolNMF, {}, "init", "nfindr"),
    (EndmemberCountEstimator, {}, "method", "elbow"),
    (EndmemberCountEstimator, {}, "far", 0.5),
    (EndmemberCountEstimator, {}, "max_endmembers", 1),
    (EndmemberCountEstimator, {}, "min_gain", 1.0),
    (DeepICA, {}, "n_components", 0),
    (VCA, {"n_endmembers": 3}, "max_pixels", 0),
]
# the facts every estimator shares (engine.core.params.N_ENDMEMBERS, SEED): one declaration, refused everywhere
BAD += [(cls, {}, "n_endmembers", 1) for cls in CONSTRAINED if "n_endmembers" in cls._parameter_constraints]
BAD += [
    (cls, {"n_endmembers": 3} if cls in (BUDDIP, UnDIP, VCA, SiVM, NFINDR) else {}, "random_state", -1)
    for cls in CONSTRAINED
]


@pytest.mark.parametrize("cls, args, name, value", BAD, ids=[f"{c.__name__}-{n}={v!r}" for c, _, n, v in BAD])
def test_fit_refuses_a_value_outside_the_constraint_before_reading_the_data(cls, args, name, value):
    # the constraint itself says the value is out
    ok = [c for c in cls._parameter_constraints[name] if c is not None]
    assert ok, name
    given = {name: value} if name in inspect.signature(cls).parameters else {"settings": {name: value}}
    estimator = cls(**args, **given)
    data = (np.zeros((1, 1)),) if cls is DeepICA else (None,)  # not a cube: reading it would fail differently
    with pytest.raises(ParameterError, match=rf"'{name}' parameter of {cls.__name__} must be") as info:
        estimator.fit(*data)
    assert repr(value) in str(info.value)
    assert not [a for a in vars(estimator) if a.endswith("_") and not a.startswith("_")]


def test_validate_params_names_the_range_and_the_value():
    with pytest.raises(ParameterError) as info:
        validate_params(MinVolNMF(lam=-1.0))
    assert (
        str(info.value) == "The 'lam' parameter of MinVolNMF must be a float in the range [0, inf). Got -1.0 instead."
    )


@pytest.mark.parametrize(
    "closed, inside, outside",
    [
        ("left", [0, 0.5], [1, -0.1]),
        ("right", [1, 0.5], [0, 1.1]),
        ("both", [0, 1], [-0.1, 1.1]),
        ("neither", [0.5], [0, 1]),
    ],
)
def test_interval_holds_its_bounds_as_declared(closed, inside, outside):
    bounds = Interval(Real, 0, 1, closed=closed)
    assert all(bounds.is_satisfied_by(v) for v in inside)
    assert not any(bounds.is_satisfied_by(v) for v in outside)
    assert not bounds.is_satisfied_by(float("nan")) and not bounds.is_satisfied_by("0.5")


def test_integer_interval_refuses_floats_and_bools():
    count = Interval(Integral, 1, None, closed="left")
    assert count.is_satisfied_by(3) and count.is_satisfied_by(np.int64(3))
    assert not count.is_satisfied_by(3.0) and not count.is_satisfied_by(True) and not count.is_satisfied_by(0)
    assert str(count) == "an int in the range [1, inf)"


def test_choices_keep_their_declared_order_and_read_back():
    c = Choices(("sivm", "vca", "nfindr"))
    assert c.ordered == ("sivm", "vca", "nfindr")
    assert c.is_satisfied_by("vca") and not c.is_satisfied_by("VCA") and not c.is_satisfied_by(None)
    assert str(c) == "a str among {'sivm', 'vca', 'nfindr'}"
    assert choices(BUDDIP, "extractor") == ("sivm", "vca", "nfindr")
    assert choices(EndmemberCountEstimator, "method")[0] == "hysime"  # published METHOD index 0


def test_interval_reads_one_parameters_range():
    iv = interval(DDICA, "purify")
    assert (iv.left, iv.right, iv.closed) == (0, 1, "both")
    assert interval(DDICA, "hidden_units") is None
    with pytest.raises(KeyError, match="no constraint"):
        interval(DDICA, "tc_weights")
