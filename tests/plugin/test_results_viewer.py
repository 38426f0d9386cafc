"""Batch mode with an HTML report (QGIS's addResult bug, 3.22 to 3.44 at least) and Results Viewer names."""

import inspect

import pytest
from qgis.core import QgsApplication


class _BatchDialog:
    """Just what BatchAlgorithmDialog.loadHTMLResults uses of its dialog."""

    def __init__(self, algorithm):
        self._algorithm = algorithm

    def algorithm(self):
        return self._algorithm


def _load_html_results(results):
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog

    alg = QgsApplication.processingRegistry().createAlgorithmById("deepunmix:estimate_n_endmembers")
    # loadHTMLResults in QGIS 3.22, loadHtmlResults from 3.40 (same code, same missing timestamp)
    load = getattr(BatchAlgorithmDialog, "loadHtmlResults", None) or BatchAlgorithmDialog.loadHTMLResults
    load(_BatchDialog(alg), results, 0)


@pytest.fixture
def results_list(deepunmix):
    from processing.core.ProcessingResults import resultsList

    from deepunmix.gui import results_viewer

    results_viewer.uninstall()
    before = list(resultsList.results)
    yield resultsList
    results_viewer.uninstall()
    resultsList.results[:] = before


def test_batch_report_without_workaround_fails_on_this_qgis(results_list, run_alg, tmp_path, scene):
    from processing.core.ProcessingResults import ProcessingResults

    if inspect.signature(ProcessingResults.addResult).parameters["timestamp"].default is not inspect.Parameter.empty:
        pytest.skip("this QGIS gives addResult's timestamp a default: the bug is fixed upstream")
    res = run_alg(
        "deepunmix:estimate_n_endmembers", {"INPUT": scene["cube"], "OUTPUT_REPORT": str(tmp_path / "r.html")}
    )
    with pytest.raises(TypeError, match="timestamp"):
        _load_html_results(res)


def test_batch_report_with_workaround_is_listed_by_title(results_list, run_alg, tmp_path, scene):
    from deepunmix.gui import results_viewer

    assert results_viewer.install()
    res = run_alg(
        "deepunmix:estimate_n_endmembers", {"INPUT": scene["cube"], "OUTPUT_REPORT": str(tmp_path / "r.html")}
    )
    _load_html_results(res)
    entry = results_list.getResults()[-1]
    assert entry.name == "Endmember count report (scene) [0]"
    assert entry.timestamp is not None and entry.filename == str(tmp_path / "r.html")
    # other files keep the name QGIS gives them
    other = tmp_path / "other.html"
    other.write_text("<html><head><title>Something else</title></head></html>")
    results_list.addResult(icon=None, name="Other [3]", result=str(other))
    assert results_list.getResults()[-1].name == "Other [3]"
    results_viewer.uninstall()
    with pytest.raises(TypeError):
        results_list.addResult(icon=None, name="x", result=str(other))
