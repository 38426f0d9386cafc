"""Make a canceled DeepUnmix run read as a cancel in QGIS 3.22's algorithm dialog.

QGIS 3.22 logs a canceled run as "Execution failed" and then says "HTML output has been generated" although
nothing was written. For the DeepUnmix provider's algorithms the plugin wraps ``AlgorithmDialog.createFeedback``
(the error becomes the warning "Canceled: no output was written") and ``finish`` (the dialog is reset and says
"Canceled"). Other providers' dialogs are untouched; ``uninstall`` restores the originals.
"""

from __future__ import annotations

CANCELED = "Canceled: no output was written"


def _is_ours(dialog) -> bool:
    try:
        alg = dialog.algorithm()
        provider = alg.provider() if alg is not None else None
        return provider is not None and provider.id() == "deepunmix"
    except RuntimeError:  # the C++ side is gone
        return False


def _dialog_class():
    from processing.gui.AlgorithmDialog import AlgorithmDialog

    return AlgorithmDialog


def install() -> bool:
    try:
        cls = _dialog_class()
    except ImportError:
        return False
    if getattr(cls.finish, "_deepunmix", False):
        return True
    original_finish, original_create = cls.finish, cls.createFeedback

    def finish(self, successful, result, context, feedback, in_place=False):
        if not successful and feedback is not None and feedback.isCanceled() and _is_ours(self):
            self.resetGui()
            self.setInfo(self.tr(CANCELED), escapeHtml=False)
            return None
        return original_finish(self, successful, result, context, feedback, in_place)

    def create_feedback(self):
        feedback = original_create(self)
        if _is_ours(self):
            report_error = feedback.reportError

            def reportError(text, fatalError=False):
                if feedback.isCanceled():
                    feedback.pushWarning(self.tr(CANCELED))
                    return None
                return report_error(text, fatalError)

            feedback.reportError = reportError
        return feedback

    for name, wrapper, original in (
        ("finish", finish, original_finish),
        ("createFeedback", create_feedback, original_create),
    ):
        wrapper._deepunmix = True
        wrapper._original = original if name in cls.__dict__ else None  # None: inherited from the C++ base
    cls.finish, cls.createFeedback = finish, create_feedback
    return True


def uninstall() -> None:
    try:
        cls = _dialog_class()
    except ImportError:
        return
    for name in ("finish", "createFeedback"):
        method = getattr(cls, name)
        if getattr(method, "_deepunmix", False):
            if method._original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, method._original)
