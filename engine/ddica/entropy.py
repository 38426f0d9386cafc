"""Matrix-based Rényi α-order entropy and total correlation (Giraldo et al.; Yu et al.).

For samples ``s`` of one variable, ``K[n, m] = exp(-(s_n - s_m)^2 / (2 σ^2))`` and
``A = K / trace(K)``; ``H_α(A) = log2(Σ λ_n(A)^α) / (1 - α)``. The joint entropy uses the
Hadamard product of the per-component Gram matrices, normalised by its trace, and the total
correlation is ``TC = Σ_i H(s_i) - H(s_1, ..., s_p)``.

Two implementations: a plain numpy reference (tests, small data) and a batched torch version
(training) that takes ``S`` of shape (..., N, p) and returns one TC per leading index, with
the eigendecomposition route selectable and the α = 2 closed form ``H_2(A) = -log2 ||A||_F^2``
used automatically. Routes:

- ``'batched'``: one ``torch.linalg.eigvalsh`` over all matrices, on the tensors' device;
- ``'loop'``: ``eigvalsh`` per matrix (a reference for the batched call);
- ``'host'``: the matrices copied to the CPU, eigendecomposed there (several threads over the
  batch; float64 with jitter for a matrix that fails), eigenvalues copied back; the gradient ``V diag(g) V^T`` is formed on the
  tensors' device. torch's CUDA ``eigh`` loops over a batch of matrices larger than 32 x 32 one
  cuSOLVER call at a time, which made DDICA slower on a GPU than on the CPU;
- ``'auto'``: the closed form for α = 2; on the CPU ``'host'`` (one single-threaded LAPACK call
  per worker thread: 2.2x faster than ``'batched'`` on 16 cores, a few percent on 2, and the same
  eigenvalues whatever the thread count); on CUDA whichever of ``'batched'`` and ``'host'`` is
  faster for that batch shape, timed once per shape and process (:data:`AUTO_CHOICES` records the
  choices and times). Measurements: ``benchmarks/results/gpu_session.md``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

import numpy as np

ROUTES = ("auto", "batched", "loop", "host", "closed")
HOST_INNER_THREADS = 1  # LAPACK threads inside each 'host' worker (None: leave torch's setting)
AUTO_CHOICES: dict = {}  # (shape, device, dtype) -> {"route": ..., "seconds": {route: s}}


def silverman_width(n_samples: int, n_dims: int) -> float:
    """Silverman's rule for unit-variance data: ``N^(-1/(4+d))``."""
    return float(n_samples) ** (-1.0 / (4.0 + n_dims))


def _entropy_from_eigenvalues_np(lam: np.ndarray, alpha: float) -> float:
    lam = np.clip(lam, 0.0, None)
    if abs(alpha - 1.0) < 1e-9:
        nz = lam[lam > 0]
        return float(-(nz * np.log2(nz)).sum())
    return float(np.log2((lam**alpha).sum()) / (1.0 - alpha))


def gram_matrix_np(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian Gram matrix of samples ``x`` ((N,) or (N, d))."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    return np.exp(-d2 / (2.0 * sigma**2))


def renyi_entropy_np(K: np.ndarray, alpha: float = 1.01) -> float:
    """Rényi α-entropy (bits) of a Gram matrix, normalised by its trace first."""
    A = np.asarray(K, dtype=np.float64)
    A = A / np.trace(A)
    if alpha == 2.0:
        return float(-np.log2((A**2).sum()))
    return _entropy_from_eigenvalues_np(np.linalg.eigvalsh(A), alpha)


def joint_entropy_np(grams: list, alpha: float = 1.01) -> float:
    """Joint entropy from the Hadamard product of Gram matrices."""
    H = np.ones_like(np.asarray(grams[0], dtype=np.float64))
    for K in grams:
        H = H * (np.asarray(K, dtype=np.float64) / np.trace(K))
    return renyi_entropy_np(H, alpha)


def total_correlation_np(S: np.ndarray, sigma: float, alpha: float = 1.01) -> float:
    """TC of the columns of ``S`` (N, p): Σ H(s_i) − H(s_1..s_p)."""
    S = np.asarray(S, dtype=np.float64)
    grams = [gram_matrix_np(S[:, i], sigma) for i in range(S.shape[1])]
    return float(sum(renyi_entropy_np(K, alpha) for K in grams) - joint_entropy_np(grams, alpha))


# ---------------------------------------------------------------- torch (batched)


def _renyi_from_normalised(A, alpha: float, route: str):
    """Entropies of normalised Gram matrices A (..., N, N) -> (...)."""
    import torch  # noqa: PLC0415 - only reached when torch is present

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
    """Eigenvalues of symmetric matrices A (..., N, N) that do not fail on ill-conditioned input.

    ``eigvalsh`` (LAPACK/cuSOLVER) can stop with "failed to converge" on large, nearly singular
    Gram matrices (nearly constant outputs, duplicated pixels, N = 1024 on CUDA). The matrix is
    symmetrised first; on failure it is retried in float64 with ``jitter`` x trace/N added to the
    diagonal (moves every eigenvalue by that amount: ~1e-7 of the mean eigenvalue), then on the CPU in
    float64, and at last as singular values (= |eigenvalues| of a symmetric matrix, the authors'
    ``abs``), whose SVD routes differ from the eigen-solver's. Gradients flow through every route.
    The result has A's dtype and device.
    """
    import torch  # noqa: PLC0415

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
    import time  # noqa: PLC0415

    import torch  # noqa: PLC0415

    if A.device.type == "cpu":
        return "host"
    key = (tuple(A.shape), str(A.device), str(A.dtype))
    if key not in AUTO_CHOICES:
        probe = A.detach()
        seconds = {}
        for route, solve in (("batched", robust_eigvalsh), ("host", host_eigvalsh)):
            solve(probe)  # warm-up: handles, workspaces, thread pool
            _synchronise(torch, A.device)
            t0 = time.perf_counter()
            solve(probe)
            _synchronise(torch, A.device)
            seconds[route] = time.perf_counter() - t0
        AUTO_CHOICES[key] = {"route": min(seconds, key=seconds.get), "seconds": seconds}
    return AUTO_CHOICES[key]["route"]


def _synchronise(torch, device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _host_eigh(B):
    """Eigenvalues and eigenvectors of the CPU matrices B (..., N, N), split over threads (float64 if one fails)."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    import torch  # noqa: PLC0415

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
    import torch  # noqa: PLC0415

    try:
        return torch.linalg.eigh(B)
    except RuntimeError:
        shifted, shift = _with_jitter(B.double(), jitter)
        FALLBACKS["jitter_float64"] += 1
        lam, vec = torch.linalg.eigh(shifted)
        return lam - shift[..., None], vec


def _with_jitter(B, jitter: float):
    """B (..., N, N) + ``jitter`` x |trace / N| on the diagonal, and that shift (...)."""
    import torch  # noqa: PLC0415

    n = B.shape[-1]
    shift = jitter * (B.diagonal(dim1=-2, dim2=-1).sum(-1) / n).abs()
    return B + shift[..., None, None] * torch.eye(n, dtype=B.dtype, device=B.device), shift


def host_eigvalsh(A):
    """Eigenvalues of symmetric A (..., N, N) computed on the CPU, differentiable, on A's device (only the lower
    triangle of A is read, as LAPACK does; the Gram matrices here are exactly symmetric).

    The backward pass is the eigenvalues' gradient ``V diag(dL/dλ) V^T`` with the eigenvectors kept
    from the forward pass (no second decomposition), formed on A's device.
    """
    return _host_eigvalsh_function().apply(A)


@lru_cache(maxsize=1)
def _host_eigvalsh_function():
    """The autograd function behind :func:`host_eigvalsh`, defined once torch is imported."""
    import torch  # noqa: PLC0415

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


def total_correlation(S, sigma: float, alpha: float = 1.01, route: str = "auto", return_parts: bool = False):
    """Batched TC of the p columns of ``S`` (..., N, p) -> (...).

    Per-component squared distances are built once (..., p, N, N) and summed for the joint
    Gram matrix (whose Hadamard product of Gaussian kernels is the kernel of the summed
    distances). All p + 1 entropies go through one batched eigendecomposition.
    """
    import torch  # noqa: PLC0415

    if route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
    x = S.transpose(-1, -2)  # (..., p, N)
    D = (x.unsqueeze(-1) - x.unsqueeze(-2)) ** 2  # (..., p, N, N)
    scale = -0.5 / float(sigma) ** 2
    n = S.shape[-2]
    # Gaussian kernels have unit diagonal, so trace(K) = N for every marginal and the joint.
    K = torch.cat([torch.exp(D * scale), torch.exp(D.sum(-3, keepdim=True) * scale)], dim=-3) / n
    H = _renyi_from_normalised(K, float(alpha), route)  # (..., p + 1)
    tc = H[..., :-1].sum(-1) - H[..., -1]
    if return_parts:
        return tc, H[..., :-1], H[..., -1]
    return tc


def resolve_width(kernel_width: Optional[float], n_samples: int, n_dims: int) -> float:
    """The given kernel width, or Silverman's rule for the batch size and output dimension."""
    if kernel_width is None:
        return silverman_width(n_samples, n_dims)
    if kernel_width <= 0:
        raise ValueError(f"kernel_width must be positive, got {kernel_width}")
    return float(kernel_width)
