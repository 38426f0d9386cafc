"""A canceled DeepUnmix run reads as a cancel in the algorithm dialog (QGIS 3.22), nothing written."""

import pytest
from qgis.core import QgsApplication, QgsProcessingFeedback


@pytest.fixture
def dialog_class(deepunmix):
    from processing.gui.AlgorithmDialog import AlgorithmDialog

    from deepunmix.gui import cancel_display

    assert cancel_display.install()
    yield AlgorithmDialog
    cancel_display.uninstall()
    assert not getattr(AlgorithmDialog.finish, "_deepunmix", False)
    assert "createFeedback" not in AlgorithmDialog.__dict__


class _Dialog:
    def __init__(self, alg_id):
        self.alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
        self.info = []
        self.reset = 0

    def algorithm(self):
        return self.alg

    def resetGui(self):  # noqa: N802
        self.reset += 1

    def setInfo(self, text, escapeHtml=False):  # noqa: N802
        self.info.append(text)

    def tr(self, text):
        return text


def test_finish_after_cancel_says_canceled(dialog_class):
    dialog = _Dialog("deepunmix:fcls")
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    dialog_class.finish(dialog, False, {}, None, feedback)
    assert dialog.info == ["Canceled: no output was written"] and dialog.reset == 1


def test_failure_of_another_provider_is_left_to_qgis(dialog_class):
    dialog = _Dialog("native:buffer")
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    with pytest.raises(Exception):  # the original finish, which needs a real dialog
        dialog_class.finish(dialog, False, {}, None, feedback)
    assert dialog.info == []


def test_dialog_feedback_turns_the_failed_line_into_a_cancel(dialog_class, qgis_iface, monkeypatch):
    from qgis.gui import QgsBrowserGuiModel

    browser = QgsBrowserGuiModel()
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: browser, raising=False)
    alg = QgsApplication.processingRegistry().createAlgorithmById("deepunmix:fcls")
    dialog = dialog_class(alg)
    feedback = dialog.createFeedback()
    seen = []
    feedback.pushWarning = seen.append  # record what reaches the log
    feedback.cancel()
    feedback.reportError("Execution failed after 1.00 seconds")
    assert seen == ["Canceled: no output was written"]


def test_cancelled_run_writes_nothing(deepunmix, scene, tmp_path):
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingException

    feedback = QgsProcessingFeedback()
    feedback.cancel()
    with pytest.raises(QgsProcessingException, match="Canceled"):
        processing.run(
            "deepunmix:fcls",
            {
                "INPUT": scene["cube"],
                "ENDMEMBERS": scene["endmembers"],
                "OUTPUT_ABUNDANCES": str(tmp_path / "a.tif"),
                "OUTPUT_REPORT": str(tmp_path / "r.html"),
            },
            context=QgsProcessingContext(),
            feedback=feedback,
        )
    assert not (tmp_path / "a.tif").exists() and not (tmp_path / "r.html").exists()
