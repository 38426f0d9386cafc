"""Matrix-based Rényi α-order entropy and total correlation (Giraldo et al.; Yu et al.), batched in torch.

For samples ``s``, ``K[n, m] = exp(-(s_n - s_m)^2 / (2 σ^2))`` and ``A = K / trace(K)``;
``H_α(A) = log2(Σ λ_n(A)^α) / (1 - α)``. The joint entropy uses the Hadamard product of the Gram matrices and
``TC = Σ_i H(s_i) - H(s_1, ..., s_p)``. The eigenvalues are computed by one of :data:`ROUTES` (see
:func:`total_correlation`); α = 2 has the closed form ``H_2(A) = -log2 ||A||_F^2``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Optional

from ..core.torch_support import import_torch

# 'batched': one eigvalsh over every matrix on their device; 'loop': one per matrix; 'host': on the CPU over
# threads, the gradient formed on the device (torch's CUDA eigh loops over a batch of matrices larger than 32 x 32);
# 'closed': alpha 2 only; 'auto': the closed form for alpha 2, else 'host' on the CPU and on CUDA the faster of
# 'batched' and 'host' for that shape, timed once per process (AUTO_CHOICES)
ROUTES = ("auto", "batched", "loop", "host", "closed")
HOST_INNER_THREADS = 1  # LAPACK threads inside each 'host' worker (None: leave torch's setting)
AUTO_CHOICES: dict = {}  # (shape, device, dtype) -> {"route": ..., "seconds": {route: s}}


def silverman_width(n_samples: int, n_dims: int) -> float:
    """Silverman's rule for unit-variance data: ``N^(-1/(4+d))``."""
    return float(n_samples) ** (-1.0 / (4.0 + n_dims))


def _renyi_from_normalised(A, alpha: float, route: str):
    """Entropies of normalised Gram matrices A (..., N, N) -> (...)."""
    torch = import_torch()
    if alpha == 2.0 and route in ("auto", "closed"):
        return -torch.log2((A * A).sum((-1, -2)))
    if route == "closed":
        raise ValueError("the closed-form route needs alpha == 2")
    if route == "auto":
        route = _auto_route(A)
    if route == "loop":
        flat = A.reshape(-1, *A.shape[-2:])
        lam = torch.stack([robust_eigvalsh(a) for a in flat]).reshape(*A.shape[:-1])
    elif route == "host":
        lam = host_eigvalsh(A)
    else:
        lam = robust_eigvalsh(A)
    lam = lam.clamp_min(1e-12)
    if abs(alpha - 1.0) < 1e-9:
        return -(lam * torch.log2(lam)).sum(-1)
    return torch.log2((lam**alpha).sum(-1)) / (1.0 - alpha)


FALLBACKS = {"jitter_float64": 0, "cpu_float64": 0, "svd": 0}  # how often each rescue route was taken


def robust_eigvalsh(A, jitter: float = 1e-7):
    """Eigenvalues of symmetric matrices A (..., N, N) (A's dtype and device), differentiable, also where
    ``eigvalsh`` fails to converge (nearly singular Gram matrices): retried in float64 with ``jitter`` x trace/N on
    the diagonal, then on the CPU, at last as singular values (the authors' ``abs`` of the eigenvalues)."""
    torch = import_torch()
    A = 0.5 * (A + A.transpose(-1, -2))
    try:
        return torch.linalg.eigvalsh(A)
    except RuntimeError:
        pass
    B, _ = _with_jitter(A.double(), jitter)
    try:
        lam = torch.linalg.eigvalsh(B)
        FALLBACKS["jitter_float64"] += 1
        return lam.to(A.dtype)
    except RuntimeError:
        pass
    try:
        lam = torch.linalg.eigvalsh(B.cpu())
        FALLBACKS["cpu_float64"] += 1
    except RuntimeError:
        lam = torch.linalg.svdvals(B.cpu())
        FALLBACKS["svd"] += 1
    return lam.to(device=A.device, dtype=A.dtype)


def _auto_route(A) -> str:
    """'host' on the CPU; on another device the faster of 'batched' and 'host' for this shape (timed once)."""
    if A.device.type == "cpu":
        return "host"
    key = (tuple(A.shape), str(A.device), str(A.dtype))
    if key not in AUTO_CHOICES:
        probe = A.detach()
        seconds = {}
        for route, solve in (("batched", robust_eigvalsh), ("host", host_eigvalsh)):
            solve(probe)  # warm-up: handles, workspaces, thread pool
            _synchronise(A.device)
            t0 = time.perf_counter()
            solve(probe)
            _synchronise(A.device)
            seconds[route] = time.perf_counter() - t0
        AUTO_CHOICES[key] = {"route": min(seconds, key=seconds.get), "seconds": seconds}
    return AUTO_CHOICES[key]["route"]


def _synchronise(device) -> None:
    if device.type == "cuda":
        import_torch().cuda.synchronize(device)


def _host_eigh(B):
    """Eigenvalues and eigenvectors of the CPU matrices B (..., N, N), split over threads (float64 if one fails)."""
    torch = import_torch()
    flat = B.reshape(-1, *B.shape[-2:])
    threads = torch.get_num_threads()
    workers = min(threads, flat.shape[0])
    if workers < 2:
        lam, vec = _eigh_rescued(flat)
    else:
        parts = torch.tensor_split(flat, workers)
        if HOST_INNER_THREADS:
            torch.set_num_threads(HOST_INNER_THREADS)  # one LAPACK thread per worker: no oversubscription
        try:
            with ThreadPoolExecutor(workers) as pool:  # LAPACK releases the GIL
                done = list(pool.map(_eigh_rescued, parts))
        finally:
            torch.set_num_threads(threads)
        lam, vec = torch.cat([d[0] for d in done]), torch.cat([d[1] for d in done])
    return lam.reshape(B.shape[:-1]), vec.reshape(B.shape)


def _eigh_rescued(B, jitter: float = 1e-7):
    torch = import_torch()
    try:
        return torch.linalg.eigh(B)
    except RuntimeError:
        shifted, shift = _with_jitter(B.double(), jitter)
        FALLBACKS["jitter_float64"] += 1
        lam, vec = torch.linalg.eigh(shifted)
        return lam - shift[..., None], vec


def _with_jitter(B, jitter: float):
    """B (..., N, N) + ``jitter`` x |trace / N| on the diagonal, and that shift (...)."""
    torch = import_torch()
    n = B.shape[-1]
    shift = jitter * (B.diagonal(dim1=-2, dim2=-1).sum(-1) / n).abs()
    return B + shift[..., None, None] * torch.eye(n, dtype=B.dtype, device=B.device), shift


def host_eigvalsh(A):
    """Eigenvalues of symmetric A (..., N, N) computed on the CPU (lower triangle read), returned on A's device;
    the backward pass ``V diag(dL/dλ) V^T`` reuses the forward pass's eigenvectors."""
    return _host_eigvalsh_function().apply(A)


@lru_cache(maxsize=1)
def _host_eigvalsh_function():
    """The autograd function behind :func:`host_eigvalsh`, defined once torch is imported."""
    torch = import_torch()

    class _HostEigvalsh(torch.autograd.Function):
        @staticmethod
        def forward(ctx, M):
            lam, vec = _host_eigh(M.detach().cpu())  # LAPACK reads the lower triangle: no symmetrised copy
            V = vec.to(device=M.device, dtype=M.dtype)
            ctx.save_for_backward(V)
            return lam.to(device=M.device, dtype=M.dtype)

        @staticmethod
        def backward(ctx, grad):
            (V,) = ctx.saved_tensors
            return (V * grad.unsqueeze(-2)) @ V.transpose(-1, -2)

    return _HostEigvalsh


def total_correlation(S, sigma: float, alpha: float = 1.01, route: str = "auto"):
    """Batched TC of the p columns of ``S`` (..., N, p) -> (...); the joint Gram matrix (the Hadamard product of
    the Gaussian kernels) is the kernel of the summed squared distances; p + 1 entropies in one batch."""
    torch = import_torch()
    if route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
    x = S.transpose(-1, -2)  # (..., p, N)
    D = (x.unsqueeze(-1) - x.unsqueeze(-2)) ** 2  # (..., p, N, N)
    scale = -0.5 / float(sigma) ** 2
    n = S.shape[-2]
    # Gaussian kernels have unit diagonal, so trace(K) = N for every marginal and the joint.
    K = torch.cat([torch.exp(D * scale), torch.exp(D.sum(-3, keepdim=True) * scale)], dim=-3) / n
    H = _renyi_from_normalised(K, float(alpha), route)  # (..., p + 1)
    return H[..., :-1].sum(-1) - H[..., -1]


def resolve_width(kernel_width: Optional[float], n_samples: int, n_dims: int) -> float:
    """The given kernel width, or Silverman's rule for the batch size and output dimension."""
    if kernel_width is None:
        return silverman_width(n_samples, n_dims)
    if kernel_width <= 0:
        raise ValueError(f"kernel_width must be positive, got {kernel_width}")
    return float(kernel_width)
