"""Small torch building blocks for the neural ICA comparators, initialised from an explicit generator.

Built inside functions (torch is imported lazily) so that ``import baselines`` stays light.
"""

from __future__ import annotations

import math


def uniform_(torch, shape, bound: float, gen, device):
    """A leaf tensor of U(-bound, bound) values drawn from ``gen`` (reproducible, no global RNG)."""
    t = (torch.rand(shape, generator=gen, device=device) * 2.0 - 1.0) * bound
    return t.requires_grad_(True)


def batched_mlp_params(torch, n_nets: int, sizes, gen, device):
    """Weights of ``n_nets`` independent MLPs with layer sizes ``sizes``: list of (W (n, in, out), b (n, 1, out))."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        params.append(
            (
                uniform_(torch, (n_nets, fan_in, fan_out), bound, gen, device),
                uniform_(torch, (n_nets, 1, fan_out), bound, gen, device),
            )
        )
    return params


def batched_mlp(torch, params, x):
    """Apply independent MLPs: x (n_nets, batch, in) -> (n_nets, batch, out); ELU between layers."""
    h = x
    for i, (W, b) in enumerate(params):
        h = torch.baddbmm(b, h, W)
        if i < len(params) - 1:
            h = torch.nn.functional.elu(h)
    return h


def flat(params):
    """All tensors of a list of (W, b) pairs."""
    return [t for pair in params for t in pair]


def batch_whiten(torch, y, eps: float = 1e-5):
    """Symmetric (ZCA) whitening of y (batch, k) with its own batch statistics; returns (y_w, mean, W)."""
    mean = y.mean(dim=0, keepdim=True)
    yc = y - mean
    cov = yc.T @ yc / max(y.shape[0] - 1, 1)
    evals, evecs = torch.linalg.eigh(cov + eps * torch.eye(y.shape[1], device=y.device, dtype=y.dtype))
    W = evecs @ torch.diag(evals.clamp_min(eps).rsqrt()) @ evecs.T
    return yc @ W, mean, W
