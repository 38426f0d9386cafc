"""Engine-independent post-nonlinear (PNL) mixtures in the style of the DDICA paper's Table 1.

The paper mixes two 16 kHz speech recordings and uniform noise with a 3x3 matrix, then applies
tanh(x), (x + x^3)/2 and exp(x) per channel. The recordings are not available here, so two
speech-like sources stand in for them: white Laplacian noise through a random resonant AR(2)
filter ("formant"), amplitude-modulated by a slow random syllable envelope that is often
near zero (speech is heavy-tailed and bursty). The third source is uniform noise.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
from scipy.signal import lfilter


def _speech_like(n: int, rng: np.random.Generator) -> np.ndarray:
    freq = rng.uniform(0.05, 0.25)  # cycles per sample of the resonance
    r = rng.uniform(0.85, 0.97)
    carrier = lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * freq), r * r], rng.laplace(size=n))
    n_syll = max(2, n // 250)
    knots = np.maximum(rng.normal(0.0, 1.0, n_syll + 1), 0.0) ** 2  # many silent stretches
    env = np.interp(np.arange(n), np.linspace(0, n - 1, n_syll + 1), knots)
    return carrier * env


def make_pnl_sources(n_samples: int = 2000, random_state=None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (S (n, 3) z-scored sources, X (n, 3) z-scored PNL mixtures, A (3, 3) mixing matrix)."""
    rng = np.random.default_rng(random_state)
    S = np.c_[_speech_like(n_samples, rng), _speech_like(n_samples, rng), rng.uniform(-1, 1, n_samples)]
    S = (S - S.mean(0)) / S.std(0)
    A = rng.uniform(0.3, 1.0, size=(3, 3)) * rng.choice([-1.0, 1.0], size=(3, 3))
    A /= np.linalg.norm(A, axis=1, keepdims=True)  # each mixture has unit variance before the nonlinearity
    L = S @ A.T
    X = np.c_[np.tanh(L[:, 0]), (L[:, 1] + L[:, 1] ** 3) / 2.0, np.exp(L[:, 2])]
    X = (X - X.mean(0)) / X.std(0)
    return S, X, A
