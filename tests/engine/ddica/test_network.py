"""Batched restart MLPs: one batched pass equals per-restart passes; numpy forward equals torch."""

import numpy as np
import pytest

from deepunmix.engine.ddica import network

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def test_batched_forward_matches_each_restart_and_numpy():
    gen = torch.Generator().manual_seed(0)
    params = network.init_params([5, 7, 6, 3], 4, gen, "cpu")
    x = torch.randn(11, 5, generator=gen)
    out = network.forward(params, x)
    assert out.shape == (4, 11, 3)
    for t in range(4):
        h = x
        for i, (W, b) in enumerate(params):
            h = h @ W[t] + b[t]
            if i < len(params) - 1:
                h = torch.relu(h)
        torch.testing.assert_close(out[t], h)
    np.testing.assert_allclose(
        network.forward_numpy(network.to_numpy(params), x.numpy()), out.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    assert not torch.allclose(out[0], out[1])  # restarts are initialised differently


def test_pnl_forward_matches_numpy():
    gen = torch.Generator().manual_seed(1)
    params = network.init_pnl_params(3, 2, 4, 2, gen, "cpu")
    x = torch.randn(9, 3, generator=gen)
    out = network.forward_pnl(params, x.unsqueeze(0).expand(2, 9, 3))
    np_params = [t.detach().numpy() for t in params]
    np.testing.assert_allclose(
        network.forward_pnl_numpy(np_params, x.numpy()), out.detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_softmax_numpy_sums_to_one():
    z = np.random.default_rng(0).normal(size=(2, 5, 4)) * 50
    s = network.softmax_numpy(z)
    assert np.all(s >= 0)
    np.testing.assert_allclose(s.sum(-1), 1.0, atol=1e-12)
