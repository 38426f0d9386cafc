"""The default endmember count on the check scenes (its thresholds were chosen on synthetic scenes only)."""

import numpy as np
import pytest

from deepunmix.engine.count.estimate import EndmemberCountEstimator
from deepunmix.engine.io.matfile import default_data_dir, load_mat_dataset, samson


def _jasper():
    folder = default_data_dir() / "jasper_ridge"
    cube = load_mat_dataset(folder / "jasperRidge2_R198.mat", folder / "end4.mat").cube
    return cube / np.max(cube)


@pytest.mark.parametrize(
    "name, load, reference",
    [
        ("samson", lambda: samson().cube, 3),
        ("jasper_ridge", _jasper, 4),
    ],
)
def test_default_count_within_one_of_the_reference(name, load, reference):
    data = default_data_dir() / name
    if not data.is_dir():
        pytest.skip(f"reference data {data} absent")
    est = EndmemberCountEstimator().fit(load())
    assert abs(est.n_endmembers_ - reference) <= 1
    hysime = EndmemberCountEstimator(method="hysime").fit(load()).n_endmembers_
    assert hysime > reference + 5  # the signal-subspace dimension is not the number of materials
