"""Lazy access to PyTorch (the classic methods never import it): ``torch = import_torch()`` where it is needed.

A PyTorch installed by the plugin keeps the dependencies QGIS's Python already has in its own ``torch_private``
folder beside the ``torch`` package (Debian 12's sympy is too old for ``torch._dynamo``): ``import_torch`` imports
torch with that folder first, then puts back what ``sys.modules`` held, so everyone else keeps the system's.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import warnings

import numpy as np

from .errors import DependencyError, DeviceError, ParameterError

# beside the torch package, the dependencies only torch sees (gui.torch_installer writes it)
PRIVATE_FOLDER = "torch_private"
# what imports sympy at module level; torch.optim imports it lazily on the first optimiser
_NEEDS_PRIVATE = ("torch", "torch._dynamo")
# the plugin's menu entry (gui.torch_installer.PyTorchMenu): the one route to install torch
INSTALL_ACTION = "Install / repair / remove PyTorch…"
MENU_PATH = f"Raster → DeepUnmix → {INSTALL_ACTION}"
INSTALL_ROUTE = (
    f"In QGIS: {MENU_PATH} (outside QGIS: pip install 'deepunmix[deep]'; see the README, section 'Deep methods')."
)
INSTALL_HINT = "PyTorch is not installed for QGIS's Python. " + INSTALL_ROUTE
_LOCK = threading.Lock()


def private_folder():
    """The ``torch_private`` folder beside an importable torch package, or None."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = os.path.join(os.path.dirname(location), PRIVATE_FOLDER)
        if os.path.isdir(folder):
            return folder
    return None


def _private_names(folder: str) -> set:
    return {
        entry[:-3] if entry.endswith(".py") else entry
        for entry in os.listdir(folder)
        if not entry.endswith((".dist-info", ".pth", ".data")) and entry not in ("bin", "__pycache__")
    }


def _import_with_private(folder: str) -> None:
    names = _private_names(folder)

    def private(module: str) -> bool:
        return module.partition(".")[0] in names

    saved = {name: module for name, module in sys.modules.items() if private(name)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, folder)
    try:
        for name in _NEEDS_PRIVATE:
            importlib.import_module(name)
    finally:
        sys.path.remove(folder)
        for name in [name for name in sys.modules if private(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
        importlib.invalidate_caches()


class _NoTriton:
    """A meta-path entry under which ``import triton`` fails: DeepUnmix never compiles, and loading triton (in
    PyPI's CUDA build) crashed the QGIS 3.40 desktop inside ``torch._dynamo``'s import."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] == "triton":
            raise ModuleNotFoundError("triton is not used by DeepUnmix", name=name)
        return None


def _import_dynamo(folder) -> None:
    """Import torch._dynamo (which the optimisers need) with torch's private dependencies and without triton."""
    blocker = None if "triton" in sys.modules else _NoTriton()
    if blocker:
        sys.meta_path.insert(0, blocker)
    try:
        if folder:
            _import_with_private(folder)
        else:
            importlib.import_module("torch._dynamo")
        triton = getattr(sys.modules.get("torch.utils._triton"), "has_triton_package", None)
        if triton is not None:
            triton()  # cached: torch asks once, here, and learns there is no triton
    finally:
        if blocker:
            sys.meta_path.remove(blocker)


def import_torch():
    """Import and return torch, or raise DependencyError that says how to install it."""
    try:
        if "torch._dynamo" not in sys.modules:
            with _LOCK:
                if "torch._dynamo" not in sys.modules and importlib.util.find_spec("torch") is not None:
                    _import_dynamo(private_folder())
        torch = importlib.import_module("torch")
    except ImportError as exc:
        if importlib.util.find_spec("torch") is None:
            raise DependencyError(INSTALL_HINT) from exc
        raise DependencyError(f"PyTorch is installed but does not import ({exc}). {INSTALL_ROUTE}") from exc
    return torch


def cpu_threads() -> int:
    """Threads for torch on the CPU: ``DEEPUNMIX_TORCH_THREADS`` (a positive whole number, capped at the cores with a
    warning), else half the cores: the small networks gain little from more, and oversubscribed threads are slow."""
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
    """'cpu', 'cuda', 'cuda:N' or 'auto' as a torch.device (DeviceError when CUDA is asked but absent); sets torch's
    CPU threads (:func:`cpu_threads`)."""
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
    gen = import_torch().Generator(device=device)
    if random_state is None:
        gen.seed()
    else:
        gen.manual_seed(int(np.random.SeedSequence(random_state).generate_state(1)[0]))
    return gen
