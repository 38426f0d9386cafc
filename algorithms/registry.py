"""The list of algorithm classes the provider offers."""


def algorithm_classes():
    from .evaluate import EvaluateUnmixing
    from .extract_endmembers import ExtractEndmembers
    from .fcls import FullyConstrainedLeastSquares
    from .import_mat import ImportMatDataset

    return [ExtractEndmembers, FullyConstrainedLeastSquares, EvaluateUnmixing, ImportMatDataset]
