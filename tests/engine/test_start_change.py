"""How far a fit moved from its start: zero for an untrained BUDDIP, positive once it trains, absent without a start."""

import numpy as np
import pytest
from synthetic import make_patch_scene

from deepunmix.engine.reporting.change_from_start import change_from_start, change_note


def test_change_from_start_measures_angles_and_abundance_change():
    E0 = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    E1 = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # the second endmember turned by 45 degrees
    A0 = np.array([[0.2, 0.8, np.nan], [0.8, 0.2, np.nan]])
    A1 = np.array([[0.3, 0.8, 0.5], [0.7, 0.2, 0.5]])
    change = change_from_start(E0, E1, A0, A1)
    assert change["max_sad"] == pytest.approx(45.0) and change["mean_sad"] == pytest.approx(22.5)
    assert change["mean_abs_abundance"] == pytest.approx(0.05)  # over the two pixels finite in both
    assert "mean_abs_abundance" not in change_from_start(E0, E1)


@pytest.fixture(scope="module")
def cube():
    return make_patch_scene(size=14, n_endmembers=3, snr_db=25, random_state=0).cube


def test_buddip_reports_zero_change_untrained_and_a_change_once_trained(cube):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from deepunmix.engine.dip.buddip import BUDDIP

    untrained = BUDDIP(3, n_iter=0, random_state=0).fit(cube)
    assert change_note(untrained).startswith(
        "Change from the starting point: endmembers 0.00 degrees mean spectral angle (largest 0.00), "
        "abundances 0.0000 mean absolute change"
    )
    trained = BUDDIP(3, n_iter=20, learning_rate=3e-2, random_state=0, settings=dict(ema=0.0)).fit(cube)
    change = change_from_start(
        trained.init_endmembers_, trained.endmembers_, trained.init_abundances_, trained.abundances_
    )
    assert change["max_sad"] > 0.01 and change["mean_abs_abundance"] > 1e-4


def test_no_note_without_a_kept_start(cube):
    pytest.importorskip("torch")
    from deepunmix.engine.dip.undip import UnDIP

    assert change_note(UnDIP(3, n_iter=2, random_state=0).fit(cube)) is None  # fixed endmembers: no start
    assert change_note(object()) is None
