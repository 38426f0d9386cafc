"""T per-sample MLPs trained together as one batched model ((T, in, out) weights, one ``baddbmm``), with numpy
twins of the forward passes so a fitted estimator pickles without torch and infers blockwise."""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import numpy as np

from ..core.torch_support import import_torch

Params = List[Tuple[object, object]]  # [(W (T, in, out), b (T, 1, out)), ...] torch tensors


def init_params(sizes: Sequence[int], n_restarts: int, generator, device, head_gain: float = 0.1) -> Params:
    """Uniform(±1/sqrt(fan_in)) weights and biases (torch's Linear default) for ``sizes[0] -> ... -> sizes[-1]``;
    the output layer's weights scaled by ``head_gain`` so that a softmax head starts unsaturated."""
    torch = import_torch()
    params = []
    n_layers = len(sizes) - 1
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / math.sqrt(fan_in) * (head_gain if i == n_layers - 1 else 1.0)
        W = (torch.rand(n_restarts, fan_in, fan_out, generator=generator, device=device) * 2 - 1) * bound
        b_bound = 1.0 / math.sqrt(fan_in)
        b = (torch.rand(n_restarts, 1, fan_out, generator=generator, device=device) * 2 - 1) * b_bound
        params.append((W.requires_grad_(), b.requires_grad_()))
    return params


def init_batch_norm(sizes: Sequence[int], n_restarts: int, device) -> list:
    """Per-restart BatchNorm1d state of every hidden layer: [[gamma, beta, running_mean, running_var], ...], as
    torch's (gamma and beta trained; running statistics with momentum 0.1 and unbiased variance for inference)."""
    torch = import_torch()
    shapes = [(n_restarts, 1, h) for h in sizes[1:-1]]
    return [
        [torch.ones(s, device=device).requires_grad_(), torch.zeros(s, device=device).requires_grad_()]
        + [torch.zeros(s, device=device), torch.ones(s, device=device)]
        for s in shapes
    ]


def _batch_norm(h, state, training: bool, momentum: float = 0.1, eps: float = 1e-5):
    torch = import_torch()
    gamma, beta, run_mean, run_var = state
    if training:
        mean = h.mean(-2, keepdim=True)
        var = h.var(-2, unbiased=False, keepdim=True)
        with torch.no_grad():
            n = h.shape[-2]
            run_mean.mul_(1 - momentum).add_(momentum * mean)
            run_var.mul_(1 - momentum).add_(momentum * var * n / max(n - 1, 1))
    else:
        mean, var = run_mean, run_var
    return (h - mean) / torch.sqrt(var + eps) * gamma + beta


def forward(params: Params, x, bn=None, training: bool = True):
    """ReLU MLP on ``x`` ((N, in) shared by all restarts, or (T, N, in)) -> (T, N, out) pre-activations; ``bn``
    puts a BatchNorm before each hidden ReLU (``training``: batch statistics, running ones updated)."""
    torch = import_torch()
    T = params[0][0].shape[0]
    h = x.unsqueeze(0).expand(T, *x.shape) if x.dim() == 2 else x
    last = len(params) - 1
    for i, (W, b) in enumerate(params):
        h = torch.baddbmm(b, h, W)
        if i < last:
            if bn is not None:
                h = _batch_norm(h, bn[i], training)
            h = torch.relu(h)
    return h


def batch_norm_parameters(bn) -> list:
    return [t for state in (bn or []) for t in state[:2]]


def parameters(params: Params) -> list:
    return [t for pair in params for t in pair]


def to_numpy(groups, keep=None) -> list:
    """Detached float32 copies of tensor groups (weights and biases, or BatchNorm states) as tuples, optionally only
    the restarts listed in ``keep``."""
    arrays = [[t.detach().cpu().numpy() for t in group] for group in groups]
    return [tuple(np.ascontiguousarray(a if keep is None else a[keep], dtype=np.float32) for a in g) for g in arrays]


def forward_numpy(
    weights: List[Tuple[np.ndarray, np.ndarray]], x: np.ndarray, bn=None, batch_stats: bool = False
) -> np.ndarray:
    """Numpy twin of :func:`forward`: x (N, in) -> (T, N, out). BatchNorm uses its running statistics (torch's eval
    mode), or with ``batch_stats`` those of the N pixels given (train mode, as the authors' code reads its maps)."""
    h = np.asarray(x, dtype=np.float32)[None]
    last = len(weights) - 1
    for i, (W, b) in enumerate(weights):
        h = np.matmul(h, W) + b
        if i < last:
            if bn:
                gamma, beta, mean, var = bn[i]
                if batch_stats:
                    mean, var = h.mean(-2, keepdims=True), h.var(-2, keepdims=True)
                h = (h - mean) / np.sqrt(var + np.float32(1e-5)) * gamma + beta
            np.maximum(h, 0.0, out=h)
    return h


def whiten_numpy(s: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Numpy twin of :func:`power_whiten` on (..., N, k): s C^(-1/2), C = s^T s / N (uncentred), by an
    eigendecomposition, the limit the power iterations converge to."""
    s = np.asarray(s, dtype=np.float64)
    C = np.swapaxes(s, -1, -2) @ s / s.shape[-2]
    lam, V = np.linalg.eigh(C)
    W = (V / np.sqrt(np.clip(lam, 0.0, None) + eps)[..., None, :]) @ np.swapaxes(V, -1, -2)
    return (s @ W).astype(np.float32)


def softmax_numpy(z: np.ndarray, axis: int = -1) -> np.ndarray:
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def power_whiten(s, n_iter: int = 250, eps: float = 1e-8):
    """The authors' DDICA whitening layer on (..., N, k): s C^(-1/2), C = s^T s / N the *uncentred* second moment
    (their centring line is a no-op; for softmax outputs only the uncentred C has full rank), by differentiable
    power iteration with deflation from a fixed start vector."""
    torch = import_torch()
    n, k = s.shape[-2], s.shape[-1]
    C = s.transpose(-1, -2) @ s / n
    R = C
    start = torch.linspace(1.0, 2.0, k, dtype=s.dtype, device=s.device)
    start = (start / start.norm()).reshape(*([1] * (C.dim() - 2)), k, 1)
    W = torch.zeros_like(C)
    for _ in range(k):
        v = start.expand(*C.shape[:-1], 1)
        for _ in range(int(n_iter)):
            v = R @ v
            v = v / v.norm(dim=-2, keepdim=True).clamp_min(eps)
        lam = (v.transpose(-1, -2) @ R @ v).clamp_min(0.0)  # (..., 1, 1)
        R = R - lam * (v @ v.transpose(-1, -2))
        W = W + (v @ v.transpose(-1, -2)) / torch.sqrt(lam + eps)
    return s @ W


def init_pnl_params(n_inputs: int, n_outputs: int, n_hidden: int, n_restarts: int, generator, device) -> list:
    """Per-channel monotone maps g_c(x) = x + Σ_h softplus(v_h) tanh(softplus(u_h) x + b_h), near the identity at
    the start, then a linear map: post-nonlinear ICA assumes invertible channel functions."""
    torch = import_torch()

    def u(*shape, bound):
        return ((torch.rand(*shape, generator=generator, device=device) * 2 - 1) * bound).requires_grad_()

    T, d, h = n_restarts, n_inputs, n_hidden
    return [
        u(T, 1, d, h, bound=1.0),
        u(T, 1, d, h, bound=2.0),
        (u(T, 1, d, h, bound=1.0) - 6.0).detach().requires_grad_(),
        u(T, d, n_outputs, bound=1.0 / math.sqrt(d)),
    ]


def forward_pnl(params: list, x):
    """x (T, N, d) -> (T, N, k): per-channel nonlinearity, then linear mixing."""
    torch = import_torch()
    w1, b1, w2, W = params
    sp = torch.nn.functional.softplus
    g = x + (torch.tanh(x.unsqueeze(-1) * sp(w1) + b1) * sp(w2)).sum(-1)
    return torch.bmm(g, W)


def forward_pnl_numpy(params: list, x: np.ndarray) -> np.ndarray:
    """Numpy twin of :func:`forward_pnl` for x (N, d) -> (T, N, k)."""
    w1, b1, w2, W = params
    x = np.asarray(x, dtype=np.float32)[None]
    sp = lambda v: np.logaddexp(0.0, v)  # noqa: E731
    g = x + (np.tanh(x[..., None] * sp(w1) + b1) * sp(w2)).sum(-1)
    return np.matmul(g, W)
