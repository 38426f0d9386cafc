"""Lazy access to PyTorch: the classic methods never import it."""

from __future__ import annotations

from .errors import DependencyError, DeviceError

INSTALL_HINT = (
    "PyTorch is not installed for QGIS's Python. Install the CPU build with "
    "'make setup' in the plugin's source folder, or "
    "'/usr/bin/python3 -m pip install --target <QGIS profile>/python/deepunmix_deps torch' "
    "(see the README, section 'Deep methods')."
)


def import_torch():
    """Import and return torch, or raise ImportError that says how to install it."""
    try:
        import torch  # noqa: PLC0415 - lazy on purpose
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise DependencyError(INSTALL_HINT) from exc
    return torch


def cpu_threads() -> int:
    """Threads for torch on the CPU: ``DEEPUNMIX_TORCH_THREADS``, else half the cores (at least 1).

    The small per-pixel and image-prior networks gain little from more threads, and when the other
    cores are busy (QGIS rendering, a second job) oversubscribed torch threads run many times slower.
    A value that is not a positive whole number raises ParameterError; one above the number of cores is
    capped there, with a warning.
    """
    import os
    import warnings

    from .errors import ParameterError

    cores = os.cpu_count() or 2
    env = os.environ.get("DEEPUNMIX_TORCH_THREADS", "").strip()
    if not env:
        return max(1, cores // 2)
    try:
        n = int(env)
    except ValueError:
        n = 0
    if n < 1:
        raise ParameterError(
            f"DEEPUNMIX_TORCH_THREADS must be a positive whole number of threads, got {env!r}; "
            f"unset it for the default ({max(1, cores // 2)} on this machine)"
        )
    if n > cores:
        warnings.warn(
            f"DEEPUNMIX_TORCH_THREADS = {n} is more than this machine's {cores} cores: using {cores}", stacklevel=2
        )
        return cores
    return n


def resolve_device(device: str = "cpu"):
    """Turn 'cpu', 'cuda', 'cuda:N' or 'auto' into a torch.device; error if CUDA is asked but absent.

    Also sets torch's CPU thread count deliberately (see ``cpu_threads``).
    """
    torch = import_torch()
    threads = cpu_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    name = (device or "cpu").lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError("CUDA was requested but no CUDA device is available; use DEVICE=cpu")
    return torch.device(name)


def seeded_generator(random_state, device) -> "object":
    """A torch.Generator seeded from an int (or None -> fresh entropy) on ``device``."""
    import numpy as np

    torch = import_torch()
    seed = int(np.random.SeedSequence(random_state).generate_state(1)[0]) if random_state is not None else None
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)
    return gen
