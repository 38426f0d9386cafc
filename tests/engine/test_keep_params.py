"""``keep_params``: every estimator that stores its ``__init__`` arguments with it keeps them unchanged, so
scikit-learn's ``get_params``, ``set_params`` and ``clone`` work."""

import inspect

import pytest
from baselines import MINEICA, MISEP, FastICA, InfomaxICA
from sklearn.base import clone

import deepunmix.engine as engine
from deepunmix.engine.core.base import keep_params

CLASSES = [engine.VCA, engine.SiVM, engine.NFINDR, engine.MinVolNMF, engine.EndmemberCountEstimator, engine.FCLS]
CLASSES += [FastICA, InfomaxICA, MINEICA, MISEP]


def _marked(cls):
    """The first parameter's name, and keyword arguments giving every other parameter a value of its own."""
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    return names[0], {name: f"value {i}" for i, name in enumerate(names[1:])}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_init_arguments_are_kept_and_cloned(cls):
    first, marked = _marked(cls)
    est = cls(3, **marked)
    params = est.get_params(deep=False)
    assert params[first] == 3
    assert params == {first: 3, **marked}
    twin = clone(est)  # raises when a parameter does not come back as passed
    assert twin is not est and twin.get_params(deep=False) == params


def test_keep_params_leaves_the_class_alone():
    class Base:
        def __init__(self, a, *, b=2):
            keep_params(self, locals())
            super().__init__()  # puts the cell __class__ (= Base) among the locals

    class Child(Base):
        pass

    probe = Child(1, b=5)
    assert type(probe) is Child and vars(probe) == {"a": 1, "b": 5}
