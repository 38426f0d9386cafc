"""The QGIS parameters take their type, range and choices from the engine estimators' ``_parameter_constraints``,
and a value the engine refuses is refused by processing.run before the raster is read."""

from numbers import Integral

import pytest
from qgis.core import (
    QgsApplication,
    QgsProcessingException,
    QgsProcessingModelAlgorithm,
    QgsProcessingParameterNumber,
)

from deepunmix.engine.abundances.convention import CONVENTIONS
from deepunmix.engine.core.params import N_ENDMEMBERS, SEED, choices, interval
from deepunmix.engine.count.estimate import EndmemberCountEstimator
from deepunmix.engine.ddica.ica import DeepICA
from deepunmix.engine.ddica.unmixing import DDICA
from deepunmix.engine.dip.buddip import BUDDIP
from deepunmix.engine.dip.undip import UnDIP
from deepunmix.engine.extraction.minvol_nmf import MinVolNMF
from deepunmix.engine.io.memory import DEFAULT_MEMORY_MB, MEMORY_MB

UNBOUNDED = 1e300


def _advanced_options():
    """(algorithm id, engine class, NumberOption) for every number parameter built from an engine constraint."""
    from deepunmix.algorithms import estimate_n_endmembers
    from deepunmix.algorithms.registry import algorithm_classes

    rows = [(cls.NAME, cls.ESTIMATOR, o) for cls in algorithm_classes() for o in getattr(cls, "OPTIONS", ())]
    rows += [
        ("estimate_n_endmembers", EndmemberCountEstimator, a)
        for a in (estimate_n_endmembers.MIN_GAIN_OPTION, estimate_n_endmembers.FAR_OPTION)
    ]
    return rows


def _definition(alg_id, key):
    alg = QgsApplication.processingRegistry().algorithmById(f"deepunmix:{alg_id}")
    assert alg is not None, alg_id
    definition = alg.parameterDefinition(key)
    assert definition is not None, f"{alg_id}:{key}"
    return definition


# The only places where the dialog is narrower than the engine, each for a reason given beside it in algorithms/.
NARROWED = {("ddica", "BATCH_SIZE"): 16, ("ddica", "STEPS"): 1, ("ica", "STEPS"): 1, ("ddica", "HIDDEN_WIDTH"): 1}


def test_every_advanced_number_has_the_engine_type_and_range(deepunmix):
    rows = _advanced_options()
    assert len(rows) == 11 + 2 + 2 + 8 + 3 + 2
    for alg_id, cls, adv in rows:
        where = f"{alg_id}:{adv.key} ({cls.__name__}.{adv.kwarg})"
        definition = _definition(alg_id, adv.key)
        iv = interval(cls, adv.kwarg)
        if iv is None:  # the engine takes a sequence (DDICA hidden_units): the dialog one width for all
            assert (alg_id, adv.key) == ("ddica", "HIDDEN_WIDTH")
            assert definition.dataType() == QgsProcessingParameterNumber.Type.Integer
            assert definition.minimum() == 1 and definition.maximum() >= UNBOUNDED
            continue
        integer = iv.type is Integral
        assert definition.dataType() == (
            QgsProcessingParameterNumber.Type.Integer if integer else QgsProcessingParameterNumber.Type.Double
        ), where
        if (alg_id, adv.key) in NARROWED:
            floor = NARROWED[alg_id, adv.key]
            assert definition.minimum() == floor and floor in iv and iv.left < floor, where
        elif iv.left is None:
            assert definition.minimum() <= -UNBOUNDED, where
        else:
            assert definition.minimum() == iv.left, where
        if iv.right is None:
            assert definition.maximum() >= UNBOUNDED, where
        else:
            assert definition.maximum() == iv.right, where
    assert {(a, adv.key) for a, _, adv in rows if adv.minimum is not None} == set(NARROWED)


def test_the_main_numbers_take_their_range_from_the_engine(deepunmix):
    """N_ENDMEMBERS and SEED everywhere, MAX_ENDMEMBERS, N_COMPONENTS and MEMORY_MB: the engine's facts."""
    from deepunmix.algorithms import estimate_n_endmembers, ica, inputs

    seen = {"N_ENDMEMBERS": 0, "SEED": 0, "MEMORY_MB": 0}
    for alg in QgsApplication.processingRegistry().providerById("deepunmix").algorithms():
        if isinstance(alg, QgsProcessingModelAlgorithm):  # its own parameters (scripts/build_models.py)
            continue
        for key, fact in (("N_ENDMEMBERS", N_ENDMEMBERS), ("SEED", SEED)):
            definition = alg.parameterDefinition(key)
            if definition is not None:
                seen[key] += 1
                assert definition.dataType() == QgsProcessingParameterNumber.Type.Integer
                assert definition.minimum() == fact.left and definition.maximum() >= 2**31 - 1, alg.id()
        definition = alg.parameterDefinition(inputs.MEMORY_MB)
        if definition is not None:
            seen["MEMORY_MB"] += 1
            assert definition.defaultValue() == DEFAULT_MEMORY_MB
            # the dialog's floor (a reason beside it in algorithms/inputs.py) is inside the engine's range
            assert definition.minimum() == inputs.MIN_DIALOG_MEMORY_MB and MEMORY_MB.is_satisfied_by(
                inputs.MIN_DIALOG_MEMORY_MB
            )
    assert seen == {"N_ENDMEMBERS": 5, "SEED": 6, "MEMORY_MB": 10}, seen  # every algorithm that has them

    # narrower than the engine on purpose, each for a reason beside its declaration
    cap = _definition("estimate_n_endmembers", estimate_n_endmembers.MAX_OPTION.key)
    iv = interval(EndmemberCountEstimator, "max_endmembers")
    assert (cap.minimum(), cap.maximum()) == (iv.left, estimate_n_endmembers.MAX_OPTION.maximum) and iv.right is None
    assert cap.defaultValue() == EndmemberCountEstimator().max_endmembers
    components = _definition("ica", ica.N_COMPONENTS_OPTION.key)
    iv = interval(DeepICA, "n_components")
    assert components.minimum() == 2 and iv.left == 1 and components.maximum() >= 2**31 - 1


# (algorithm, key, engine class, keyword, the published option order: indices users' scripts rely on)
ENUMS = [
    ("buddip", "EXTRACTOR", BUDDIP, "extractor", ("sivm", "vca", "nfindr")),
    ("undip", "EXTRACTOR", UnDIP, "extractor", ("sivm", "vca", "nfindr")),
    ("buddip", "VARIANT", BUDDIP, "variant", ("default", "paper", "authors_code")),
    ("undip", "VARIANT", UnDIP, "variant", ("default", "paper")),
    ("ddica", "VARIANT", DDICA, "variant", ("default", "paper", "authors_code")),
    ("ddica", "ABUNDANCE_CONVENTION", DDICA, "abundance_convention", ("fractions", "peak_normalised")),
    ("minvol_nmf", "INIT", MinVolNMF, "init", ("vca", "sivm", "random")),
    ("ica", "VARIANT", DeepICA, "variant", ("default", "paper")),
    (
        "estimate_n_endmembers",
        "METHOD",
        EndmemberCountEstimator,
        "method",
        ("hysime", "hfc", "nwhfc", "reconstruction"),
    ),
]


@pytest.mark.parametrize("alg_id, key, cls, kwarg, published", ENUMS, ids=[f"{e[0]}:{e[1]}" for e in ENUMS])
def test_enum_options_are_the_engine_choices_in_the_published_order(deepunmix, alg_id, key, cls, kwarg, published):
    definition = _definition(alg_id, key)
    assert choices(cls, kwarg) == published
    assert len(definition.options()) == len(published)
    assert len(set(definition.options())) == len(published)  # one label per value
    default = cls(**({"n_endmembers": 3} if cls is BUDDIP else {})).get_params()[kwarg]
    assert published[definition.defaultValue()] == default  # the dialog's default is the engine's


def test_fcls_offers_the_engine_abundance_conventions(deepunmix):
    assert choices(DDICA, "abundance_convention") == CONVENTIONS
    assert len(_definition("fcls", "ABUNDANCE_CONVENTION").options()) == len(CONVENTIONS)


@pytest.fixture
def no_raster_read(deepunmix, monkeypatch):
    """Make reading the raster fail loudly: a refused parameter must be refused before it."""
    import deepunmix.algorithms.blind as blind
    import deepunmix.algorithms.estimate_n_endmembers as estimate

    def read(*args, **kwargs):
        raise AssertionError("the raster was read before the parameters were checked")

    for module in (blind, estimate):
        monkeypatch.setattr(module, "load_for_fitting", read)


# (algorithm, parameters, the engine's message): inside the dialog's range, outside the engine's constraint
REFUSED = [
    ("ddica", {"ALPHA": 0.0}, "The 'alpha' parameter of DDICA must be a float in the range (0, inf). Got 0.0"),
    ("ddica", {"KERNEL_WIDTH": 0.0}, "The 'kernel_width' parameter of DDICA must be"),  # once "the variant's"
    ("ddica", {"LEARNING_RATE": 0.0}, "The 'learning_rate' parameter of DDICA must be a float in the range (0, inf)"),
    ("buddip", {"PURIFY": 1.0}, "The 'purify' parameter of BUDDIP must be a float in the range [0, 1)"),
    ("ica", {"ALPHA": 0.0}, "The 'alpha' parameter of DeepICA must be a float in the range (0, inf)"),
    ("estimate_n_endmembers", {"MIN_GAIN": 1.0}, "The 'min_gain' parameter of EndmemberCountEstimator must be"),
    ("estimate_n_endmembers", {"FAR": 0.5}, "The 'far' parameter of EndmemberCountEstimator must be"),
]


@pytest.mark.parametrize("alg_id, params, message", REFUSED, ids=[f"{r[0]}-{next(iter(r[1]))}" for r in REFUSED])
def test_processing_run_refuses_a_value_the_engine_refuses_before_reading_the_raster(
    run_alg, scene, no_raster_read, alg_id, params, message
):
    if alg_id in ("ddica", "buddip", "ica"):
        pytest.importorskip("torch")
    d = scene["dir"]
    outputs = {
        "OUTPUT_ABUNDANCES": str(d / "a.tif"),
        "OUTPUT_ENDMEMBERS": str(d / "e.csv"),
        "OUTPUT": str(d / "ic.tif"),
        "OUTPUT_REPORT": str(d / "r.html"),
    }
    alg = QgsApplication.processingRegistry().algorithmById(f"deepunmix:{alg_id}")
    outputs = {k: v for k, v in outputs.items() if alg.parameterDefinition(k) is not None}
    with pytest.raises(
        QgsProcessingException, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        run_alg(f"deepunmix:{alg_id}", {"INPUT": scene["cube"], **params, **outputs})
    assert not any((d / name).exists() for name in ("a.tif", "e.csv", "ic.tif", "r.html"))


def test_processing_run_refuses_a_value_outside_the_dialog_range(run_alg, scene, no_raster_read):
    """Below the engine's range (RESTARTS 0) QGIS itself refuses the value, naming the parameter."""
    with pytest.raises(QgsProcessingException, match="RESTARTS"):
        run_alg(
            "deepunmix:ddica",
            {"INPUT": scene["cube"], "RESTARTS": 0, "OUTPUT_ABUNDANCES": str(scene["dir"] / "a.tif")},
        )
