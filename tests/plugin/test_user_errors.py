"""What the user sees: engine problems as one-line messages, engine warnings in the log, bugs as bugs."""

import warnings

import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback


class Log(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.warnings = []

    def pushWarning(self, text):
        self.warnings.append(text)


def _fcls(scene):
    return {"INPUT": scene["cube"], "ENDMEMBERS": scene["endmembers"], "OUTPUT_ABUNDANCES": str(scene["dir"] / "a.tif")}


def test_a_genuine_bug_shows_as_one(run_alg, scene, monkeypatch):
    import deepunmix.algorithms.fcls as module

    def buggy(*args, **kwargs):
        return {}["foo"]

    monkeypatch.setattr(module, "read_endmembers_csv", buggy)
    with pytest.raises(QgsProcessingException) as err:
        run_alg("deepunmix:fcls", _fcls(scene))
    assert "Traceback" in str(err.value) and "KeyError" in str(err.value)
    assert not (scene["dir"] / "a.tif").exists()


def test_a_user_problem_is_one_line_without_traceback(run_alg, scene):
    (scene["dir"] / "bad.csv").write_text("band,wavelength,a,b\n1,400,x,0.2\n")
    with pytest.raises(QgsProcessingException) as err:
        run_alg("deepunmix:fcls", {**_fcls(scene), "ENDMEMBERS": str(scene["dir"] / "bad.csv")})
    assert "not a number" in str(err.value) and "Traceback" not in str(err.value)


def test_out_of_memory_says_what_to_change(run_alg, scene, monkeypatch):
    import deepunmix.engine.io.blockwise as module  # what the FCLS run streams with

    def exhausted(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(module, "apply_blockwise", exhausted)
    with pytest.raises(QgsProcessingException, match="Out of memory: lower MEMORY_MB"):
        run_alg("deepunmix:fcls", _fcls(scene))


def test_engine_warnings_reach_the_log(run_alg, scene, monkeypatch):
    import deepunmix.engine.abundances.fcls as module  # the FCLS run's solver

    original = module.fcls

    def warns(Y, E, **kwargs):
        warnings.warn("FCLS: 3 pixel(s) stopped at max_iter", RuntimeWarning)
        return original(Y, E, **kwargs)

    monkeypatch.setattr(module, "fcls", warns)
    log = Log()
    run_alg("deepunmix:fcls", _fcls(scene), feedback=log)
    assert any("RuntimeWarning: FCLS: 3 pixel(s) stopped at max_iter" in w for w in log.warnings)


def test_torch_allocation_failures_read_as_out_of_memory():
    from deepunmix.algorithms.errors import user_message

    for text in (
        "could not create a primitive",
        "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory",
    ):
        assert user_message(RuntimeError(text)).startswith("Out of memory")

    class OutOfMemoryError(RuntimeError):  # torch.cuda's, by name
        pass

    assert user_message(OutOfMemoryError("CUDA error")).startswith("Out of memory")
    assert user_message(RuntimeError("shape mismatch")) is None  # other runtime errors stay bugs
