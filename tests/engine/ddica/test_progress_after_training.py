"""DDICA keeps reporting after training (restart errors, final FCLS): no silent stretch at 90 %."""

import numpy as np
from synthetic import make_mixed_scene

from deepunmix.engine.ddica import DDICA


def test_progress_is_reported_between_training_and_done():
    s = make_mixed_scene(size=12, n_endmembers=3, snr_db=40, random_state=0)
    seen = []
    DDICA(
        3,
        random_state=0,
        progress=lambda f, m="": seen.append((f, m)),
        n_restarts=4,
        n_steps=10,
        batch_size=32,
        hidden_units=(16, 16),
        settings=dict(keep_fraction=0.5),
    ).fit(s.cube)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    after = [(f, m) for f, m in seen if 0.9 < f < 1.0]
    assert sum("restart" in m for _, m in after) == 4
    assert any(m.startswith("FCLS") for _, m in after)
    assert np.max(np.diff([0.9] + [f for f, _ in after] + [1.0])) <= 0.05
