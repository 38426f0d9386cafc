"""Matrix-based Rényi entropy and total correlation against hand-computed values."""

import numpy as np
import pytest

from deepunmix.engine.ddica.entropy import silverman_width, total_correlation


# the numpy reference of the batched torch functions
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


torch = pytest.importorskip("torch")
torch.set_num_threads(1)


@pytest.mark.parametrize("alpha", [0.75, 1.01, 2.0, 3.0])
def test_identity_gram_has_log2_n_bits(alpha):
    # A = I/4: four eigenvalues 1/4 -> log2(4 * 4^-alpha) / (1 - alpha) = 2 bits for every alpha
    assert renyi_entropy_np(np.eye(4), alpha) == pytest.approx(2.0, abs=1e-9)


def test_constant_samples_have_zero_entropy():
    K = gram_matrix_np(np.zeros(5), sigma=0.3)  # all ones -> eigenvalues (1, 0, 0, 0, 0)
    assert renyi_entropy_np(K, 1.01) == pytest.approx(0.0, abs=1e-6)
    assert renyi_entropy_np(K, 2.0) == pytest.approx(0.0, abs=1e-12)


def test_two_point_entropy_by_hand():
    sigma, alpha = 1.0, 2.0
    k = np.exp(-1 / (2 * sigma**2))  # samples 0 and 1
    lam = np.array([1 + k, 1 - k]) / 2  # eigenvalues of [[1, k], [k, 1]] / 2
    expected = np.log2((lam**alpha).sum()) / (1 - alpha)
    assert renyi_entropy_np(gram_matrix_np(np.array([0.0, 1.0]), sigma), alpha) == pytest.approx(expected)


def test_tc_zero_on_product_grid_and_positive_when_dependent():
    a, b = np.meshgrid(np.array([0.0, 0.4, 1.3]), np.array([-1.0, 0.2, 0.5, 2.0]))
    grid = np.stack([a.ravel(), b.ravel()], 1)  # every (a_i, b_j) pair once: Kronecker-product Gram
    for alpha in (1.01, 2.0):
        assert total_correlation_np(grid, 0.5, alpha) == pytest.approx(0.0, abs=1e-8)
    x = np.linspace(-1, 1, 12)
    dep = np.stack([x, x**2], 1)
    assert total_correlation_np(dep, 0.5, 1.01) > 0.5


def test_joint_of_identical_components_equals_marginal():
    K = gram_matrix_np(np.array([0.0, 0.3, 1.0, 2.0]), 0.5)
    # Hadamard product of K with itself is K^2 elementwise: entropy <= 2 * marginal, >= marginal
    h = renyi_entropy_np(K, 1.01)
    hj = joint_entropy_np([K, K], 1.01)
    assert h <= hj + 1e-9 <= 2 * h + 1e-9


@pytest.mark.parametrize(
    "alpha,route",
    [
        (1.01, "batched"),
        (1.01, "loop"),
        (1.01, "host"),
        (2.0, "auto"),
        (2.0, "batched"),
        (0.75, "auto"),
        (0.75, "host"),
    ],
)
def test_torch_matches_numpy(alpha, route):
    rng = np.random.default_rng(0)
    S = rng.normal(size=(2, 20, 3))
    S[1, :, 2] = S[1, :, 0] ** 2
    got = total_correlation(torch.tensor(S), 0.6, alpha, route).numpy()
    want = [total_correlation_np(s, 0.6, alpha) for s in S]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    assert got[1] > got[0]


def test_closed_form_route_rejects_other_alpha():
    with pytest.raises(ValueError):
        total_correlation(torch.zeros(4, 2, dtype=torch.float64), 0.5, 1.01, "closed")


@pytest.mark.parametrize("alpha", [1.01, 2.0])
def test_gradients_finite_even_with_repeated_samples(alpha):
    S = torch.tensor(np.r_[np.zeros((5, 3)), np.random.default_rng(1).normal(size=(11, 3))], requires_grad=True)
    total_correlation(S, silverman_width(16, 3), alpha).backward()
    assert torch.isfinite(S.grad).all()
    assert S.grad.abs().sum() > 0


def test_silverman_width():
    assert silverman_width(2000, 3) == pytest.approx(2000 ** (-1 / 7))


def test_ill_conditioned_gram_batch_gives_finite_entropy_and_gradients():
    """Batch 1024: duplicated pixels and nearly constant outputs (rank-deficient, clustered eigenvalues)."""
    from deepunmix.engine.ddica.entropy import total_correlation

    gen = torch.Generator().manual_seed(0)
    base = 0.5 + 1e-6 * torch.randn(64, 2, generator=gen)
    S = base.repeat(16, 1)  # 1024 samples, 64 distinct
    S = torch.cat([S[None], torch.softmax(torch.randn(1, 1024, 2, generator=gen) * 1e-4, -1)]).requires_grad_()
    tc = total_correlation(S, 0.1, 1.01)
    tc.sum().backward()
    assert torch.isfinite(tc).all() and torch.isfinite(S.grad).all()


def test_eigen_solver_failure_falls_back(monkeypatch):
    """When eigvalsh fails to converge the entropy is still computed (float64 + jitter, then CPU, then SVD)."""
    from deepunmix.engine.ddica import entropy

    real = torch.linalg.eigvalsh
    A = torch.softmax(torch.randn(2, 50, 3, generator=torch.Generator().manual_seed(1)), -1).requires_grad_()
    expected = entropy.total_correlation(A, 0.2, 1.01, "batched").detach()
    for n_failures, route in ((1, "jitter_float64"), (2, "cpu_float64"), (3, "svd")):
        calls = {"n": 0}

        def flaky(M, *a, **k):
            calls["n"] += 1
            if calls["n"] <= n_failures:
                raise torch._C._LinAlgError(
                    "linalg.eigh: The algorithm failed to converge because the input matrix is ill-conditioned"
                )
            return real(M, *a, **k)

        before = entropy.FALLBACKS[route]
        monkeypatch.setattr(torch.linalg, "eigvalsh", flaky)
        tc = entropy.total_correlation(A, 0.2, 1.01, "batched")
        tc.sum().backward()
        monkeypatch.setattr(torch.linalg, "eigvalsh", real)
        assert entropy.FALLBACKS[route] == before + 1
        torch.testing.assert_close(tc.detach(), expected, atol=1e-4, rtol=0)
        assert torch.isfinite(A.grad).all()
        A.grad = None


def test_host_route_gradient_equals_autograd_eigvalsh():
    """The host route's hand-written backward (V diag(g) V^T) gives torch's eigvalsh gradient."""
    from deepunmix.engine.ddica.entropy import host_eigvalsh

    gen = torch.Generator().manual_seed(3)
    X = torch.randn(6, 40, 40, generator=gen, dtype=torch.float64)
    A = (X @ X.transpose(-1, -2) / 40).requires_grad_()
    weights = torch.rand(6, 40, generator=gen, dtype=torch.float64)
    (host_eigvalsh(A) * weights).sum().backward()
    got = A.grad.clone()
    A.grad = None
    (torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2))) * weights).sum().backward()
    torch.testing.assert_close(got, A.grad, atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(host_eigvalsh(A.detach()), torch.linalg.eigvalsh(A.detach()), atol=1e-10, rtol=0)


def test_host_route_rescues_a_failing_eigen_solver(monkeypatch):
    from deepunmix.engine.ddica import entropy

    real = torch.linalg.eigh
    calls = {"n": 0}

    def flaky(M, *a, **k):
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch._C._LinAlgError("linalg.eigh: The algorithm failed to converge")
        return real(M, *a, **k)

    S = torch.softmax(torch.randn(1, 64, 3, generator=torch.Generator().manual_seed(2)), -1)
    expected = entropy.total_correlation(S, 0.1, 1.01, "batched")
    monkeypatch.setattr(torch.linalg, "eigh", flaky)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)  # one call, so the first one fails
    got = entropy.total_correlation(S, 0.1, 1.01, "host")
    assert calls["n"] == 2
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)


def test_auto_route_is_host_on_the_cpu_and_independent_of_the_thread_count():
    from deepunmix.engine.ddica.entropy import _auto_route, total_correlation

    assert _auto_route(torch.eye(4)[None]) == "host"
    S = torch.softmax(torch.randn(6, 200, 3, generator=torch.Generator().manual_seed(5)), -1)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = total_correlation(S, 0.1, 1.01, "auto")
        torch.set_num_threads(2)
        two = total_correlation(S, 0.1, 1.01, "auto")
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, two)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_auto_route_on_cuda_times_both_and_agrees_with_cpu():
    from deepunmix.engine.ddica import entropy

    S = torch.softmax(torch.randn(8, 128, 3, generator=torch.Generator().manual_seed(0)), -1)
    want = entropy.total_correlation(S.double(), 0.1, 1.01, "batched")
    got = entropy.total_correlation(S.cuda(), 0.1, 1.01, "auto").cpu().double()
    torch.testing.assert_close(got, want, atol=1e-3, rtol=0)
    (choice,) = [v for k, v in entropy.AUTO_CHOICES.items() if "cuda" in k[1]]
    assert choice["route"] in ("batched", "host") and set(choice["seconds"]) == {"batched", "host"}
