"""Fixtures shared by every test folder."""

import pytest


@pytest.fixture
def torch_one_thread():
    """Torch on one thread for the test (two threads on a shared 2-core machine are far slower)."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def package_site(tmp_path):
    """A folder in which `deepunmix` is this checkout, as `pip install -e .` makes it importable: put it alone
    on PYTHONPATH (and run from elsewhere) to use the installed-package route, not the checkout root."""
    from pathlib import Path

    site = tmp_path / "package-site"
    site.mkdir()
    (site / "deepunmix").symlink_to(Path(__file__).resolve().parents[1], target_is_directory=True)
    return site
