"""The scikit-learn estimator API of every engine estimator: keyword-only parameters after the first,
``NotFittedError`` from transform/predict before fit, no fitted attribute left by a rejected parameter,
and numpydoc ``Parameters`` / ``Attributes`` sections that name every ``__init__`` parameter."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from baselines import MINEICA, MISEP, FastICA, InfomaxICA
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

import deepunmix.engine as engine
from deepunmix.engine.core.errors import ParameterError


def _engine_estimators():
    """Every class defined in an engine module that subclasses BaseEstimator and has its own ``__init__``."""
    found = {}
    for info in pkgutil.walk_packages(engine.__path__, engine.__name__ + "."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseEstimator) and cls.__module__ == module.__name__ and "__init__" in vars(cls):
                found[cls.__name__] = cls
    return [found[name] for name in sorted(found)]


# the ICA baselines (benchmarks/baselines) keep the engine's estimator API too
ESTIMATORS = sorted([*_engine_estimators(), FastICA, InfomaxICA, MINEICA, MISEP], key=lambda c: c.__name__)


def test_the_estimator_list_holds_every_family():
    names = {cls.__name__ for cls in ESTIMATORS}
    expected = {"DDICA", "DeepICA", "BUDDIP", "UnDIP", "FCLS", "MinVolNMF", "VCA", "SiVM", "NFINDR"}
    expected |= {"EndmemberCountEstimator", "FastICA", "InfomaxICA", "MINEICA", "MISEP"}
    assert expected <= names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_parameters_after_the_first_are_keyword_only(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:]), cls.__name__
    with pytest.raises(TypeError):
        cls(None, None)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_docstring_documents_every_parameter(cls):
    doc = inspect.getdoc(cls)
    assert "Parameters\n----------" in doc and "Attributes\n----------" in doc, cls.__name__
    section = doc.split("Parameters\n----------", 1)[1].split("Attributes\n----------", 1)[0]
    documented = set()
    for line in section.splitlines():
        if line and not line[0].isspace():  # "name : type", "a, b : type" or "a, b" (numpydoc)
            documented.update(name.strip() for name in line.split(" : ")[0].split(","))
    assert set(list(inspect.signature(cls.__init__).parameters)[1:]) <= documented, cls.__name__


def _cube(bands=4, rows=6, cols=6, seed=0):
    return np.random.default_rng(seed).random((bands, rows, cols)).astype(np.float32)


def _samples(n=50, d=3, seed=0):
    return np.random.default_rng(seed).random((n, d))


UNFITTED_CALLS = [
    ("DDICA.transform", lambda: engine.DDICA(2).transform(_cube())),
    ("DDICA.predict_abundances", lambda: engine.DDICA(2).predict_abundances(_cube().reshape(4, -1))),
    ("DeepICA.transform", lambda: engine.DeepICA(2).transform(_samples())),
    ("FastICA.transform", lambda: FastICA(2).transform(_samples())),
    ("InfomaxICA.transform", lambda: InfomaxICA(2).transform(_samples())),
    ("MINEICA.transform", lambda: MINEICA(2).transform(_samples())),
    ("MISEP.transform", lambda: MISEP(3).transform(_samples())),
]


@pytest.mark.parametrize("call", [c for _, c in UNFITTED_CALLS], ids=[name for name, _ in UNFITTED_CALLS])
def test_transform_before_fit_raises_not_fitted(call):
    with pytest.raises(NotFittedError, match="is not fitted yet: call fit first") as info:
        call()
    assert isinstance(info.value, ValueError)  # callers catching ValueError still catch it


TORCH_FIT = ("DDICA", "DeepICA", "BUDDIP", "UnDIP", "MINEICA", "MISEP")  # their fit imports torch first

# (id, estimator with one bad parameter, data, expected exception)
BAD_PARAMETERS = [
    ("DDICA convention", lambda: engine.DDICA(2, abundance_convention="bogus"), _cube, ValueError),
    ("DDICA restarts", lambda: engine.DDICA(2, n_restarts=0), _cube, ParameterError),
    ("DDICA steps", lambda: engine.DDICA(2, n_steps=-1), _cube, ParameterError),
    ("DDICA n_units", lambda: engine.DDICA(3, n_units=2), _cube, ParameterError),
    ("DDICA kernel width", lambda: engine.DDICA(2, kernel_width=-1.0), _cube, ValueError),
    ("DDICA eig_route", lambda: engine.DDICA(2, settings=dict(eig_route="bogus")), _cube, ParameterError),
    ("DeepICA whitening", lambda: engine.DeepICA(2, settings=dict(whitening="bogus")), _samples, ParameterError),
    (
        "DeepICA init",
        lambda: engine.DeepICA(2, settings=dict(architecture="mlp", init="fastica")),
        _samples,
        ParameterError,
    ),
    ("DeepICA holdout", lambda: engine.DeepICA(2, settings=dict(holdout_fraction=0.99)), _samples, ParameterError),
    ("DeepICA kernel width", lambda: engine.DeepICA(2, settings=dict(kernel_width=-1.0)), _samples, ValueError),
    ("DeepICA eig_route", lambda: engine.DeepICA(2, settings=dict(eig_route="bogus")), _samples, ParameterError),
    ("BUDDIP ema", lambda: engine.BUDDIP(2, settings=dict(ema=1.5)), _cube, ParameterError),
    ("UnDIP ema", lambda: engine.UnDIP(2, settings=dict(ema=1.5)), _cube, ParameterError),
    ("BUDDIP extractor", lambda: engine.BUDDIP(2, extractor="bogus"), _cube, ParameterError),
    ("UnDIP no count", lambda: engine.UnDIP(), _cube, ParameterError),
    ("MinVolNMF lam", lambda: engine.MinVolNMF(2, lam=-1.0), _cube, ParameterError),
    ("MinVolNMF init", lambda: engine.MinVolNMF(2, init="bogus"), _cube, ValueError),
    ("NFINDR init", lambda: engine.NFINDR(2, init="bogus"), _cube, ValueError),
    ("count method", lambda: engine.EndmemberCountEstimator("elm"), _cube, ParameterError),
    ("FCLS endmembers", lambda: engine.FCLS(np.ones((3, 2))), _cube, ValueError),
    ("VCA count", lambda: engine.VCA(1), _cube, ParameterError),
    ("FastICA components", lambda: FastICA(5), _samples, ValueError),
    ("InfomaxICA components", lambda: InfomaxICA(0), _samples, ValueError),
    ("MINEICA encoder", lambda: MINEICA(2, encoder="bogus"), _samples, ValueError),
    ("MISEP components", lambda: MISEP(2), _samples, ValueError),
]


@pytest.mark.parametrize("make, data, error", [c[1:] for c in BAD_PARAMETERS], ids=[c[0] for c in BAD_PARAMETERS])
def test_rejected_parameter_leaves_no_fitted_attribute(make, data, error):
    est = make()
    if type(est).__name__ in TORCH_FIT:
        pytest.importorskip("torch")
    with pytest.raises(error):
        est.fit(data())
    assert not hasattr(est, "n_features_in_")
    assert [k for k in vars(est) if k.endswith("_")] == []


def test_n_features_in_is_set_by_fit():
    cube = _cube()
    assert engine.VCA(2, random_state=0).fit(cube).n_features_in_ == 4
    assert FastICA(2, random_state=0).fit(_samples()).n_features_in_ == 3
