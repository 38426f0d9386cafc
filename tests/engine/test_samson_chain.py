"""VCA + FCLS on the real Samson scene (skipped when ../shared/data is absent)."""

import pytest

from deepunmix.engine.abundances.fcls import FCLS
from deepunmix.engine.extraction.vca import VCA
from deepunmix.engine.io.matfile import default_data_dir, samson
from deepunmix.engine.reporting.metrics import score_unmixing


@pytest.mark.skipif(
    not (default_data_dir() / "samson" / "samson_1.mat").exists(), reason="reference data ../shared/data/samson absent"
)
def test_vca_fcls_on_samson_scores_in_a_sane_range():
    data = samson()
    E = VCA(n_endmembers=3, random_state=0).fit(data.cube).endmembers_
    model = FCLS(endmembers=E).fit(data.cube)
    s = score_unmixing(data.endmembers, data.abundances, model.endmembers_, model.abundances_)
    # published VCA + FCLS results on Samson are a few degrees SAD and 0.2-0.3 RMSE; chance is far worse
    assert s["asad"] < 10.0
    assert 0.0 < s["mean_rmse"] < 0.35
    assert s["armse"] < 0.3
