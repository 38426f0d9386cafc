import base64
import re

import numpy as np

from deepunmix.engine.reporting.report import write_report


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


def test_count_report_states_the_estimate_and_draws_its_criterion(tmp_path):
    from deepunmix.engine.reporting.report import render_count_report, write_count_report

    text = render_count_report(
        "a<b>.tif", "FCLS reconstruction elbow", 3, errors={2: 0.1, 3: 0.02, 4: 0.019}, noise=0.01
    )
    assert "<h1>Number of endmembers: 3</h1>" in text and "a&lt;b&gt;.tif" in text
    assert text.count("data:image/png;base64,") == 1 and "False-alarm" not in text
    hfc = render_count_report("s.tif", "HFC", 5, false_alarm_rate=1e-3, cost=[-3.0, -1.0, 0.5, 2.0])
    assert "False-alarm rate: 0.001" in hfc and "alt='HySime cost'" in hfc
    path = write_count_report(str(tmp_path / "r.html"), "s.tif", "HySime", 4)
    assert open(path, encoding="utf-8").read().startswith("<!DOCTYPE html>")
