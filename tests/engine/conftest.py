"""Shared fixtures of the engine tests."""
import pytest


@pytest.fixture
def torch_one_thread():
    """Torch on one thread for the test (two threads on a shared 2-core machine are far slower)."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
