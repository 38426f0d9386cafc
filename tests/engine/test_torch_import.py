"""engine.core.torch_support.import_torch leaves triton unloaded (it crashed the QGIS 3.40 desktop)."""

import subprocess
import sys

import pytest

pytest.importorskip("torch")

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from deepunmix.engine.core.torch_support import import_torch
torch = import_torch()
import torch.utils._triton as triton_utils
x = torch.ones(3, requires_grad=True)
optimiser = torch.optim.Adam([x])
(x * 2).sum().backward()
optimiser.step()
print("triton" in sys.modules, triton_utils.has_triton_package())
"""


def test_an_installed_triton_is_never_loaded(tmp_path):
    """A triton package on the path (PyPI's CUDA build brings one) is taken for absent; the optimiser still runs."""
    (tmp_path / "triton").mkdir()
    (tmp_path / "triton" / "__init__.py").write_text("LOADED = True\n")
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["False", "False"]
