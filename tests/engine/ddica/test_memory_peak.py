"""DDICA's memory estimate (``engine.ddica.memory.training_bytes``, checked against MEMORY_MB before training)
against the peak resident memory a fit really reaches, measured in a child process."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

CHILD = r"""
import json, sys
import numpy as np
import torch
torch.set_num_threads(1)
from deepunmix.engine.ddica import DDICA
from deepunmix.engine.ddica.memory import training_bytes

def status(key):
    return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith(key + ":"))

cfg = json.loads(sys.argv[1])
L, H, W = cfg.pop("L"), cfg.pop("H"), cfg.pop("W")
cube = np.random.default_rng(0).random((L, H, W)).astype(np.float32)
model = DDICA(n_endmembers=3, random_state=0, **cfg)
settings = model.resolved_settings()
estimate = training_bytes(L, min(H * W, settings["max_fit_pixels"] or H * W), 3, **settings)
DDICA(n_endmembers=3, random_state=0, batch_size=16, n_restarts=1, n_steps=1).fit(cube[:, :8, :8])  # one-off buffers
before = status("VmRSS")
model.fit(cube)
print(json.dumps({"estimate": estimate, "measured": status("VmHWM") - before}))
"""

CONFIGS = {  # the batch x batch Gram matrices dominate; many restarts of a small batch
    "batch 1000, 2 restarts": {"L": 20, "H": 100, "W": 100, "batch_size": 1000, "n_restarts": 2, "n_steps": 2},
    "batch 300, 8 restarts": {"L": 50, "H": 60, "W": 60, "batch_size": 300, "n_restarts": 8, "n_steps": 2},
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("config", list(CONFIGS))
def test_the_estimate_covers_the_measured_peak(config):
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(CONFIGS[config])],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    ratio = got["estimate"] / got["measured"]
    assert 1.0 <= ratio <= 2.5, f"estimate {got['estimate'] / 2**20:.0f} MiB, peak {got['measured'] / 2**20:.0f} MiB"
