import base64
import re

import numpy as np

from deepunmix.engine.report import write_report


def test_report_embeds_figures_and_facts(tmp_path):
    rng = np.random.default_rng(0)
    E = rng.random((12, 3))
    A = rng.dirichlet(np.ones(3), 30).T.reshape(3, 5, 6)
    path = write_report(
        str(tmp_path / "r.html"),
        "FCLS run",
        E,
        ["soil", "tree", "water"],
        wavelengths=np.linspace(400, 900, 12),
        abundances=A,
        parameters={"N_ENDMEMBERS": 3, "SEED": 0},
        reconstruction_rmse=0.0123,
        seconds=4.2,
    )
    text = open(path, encoding="utf-8").read()
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(images) == 2
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    for needle in ("soil", "N_ENDMEMBERS", "0.0123", "4.2 s"):
        assert needle in text
