"""The list of algorithm classes the provider offers (none of them imports torch at load time)."""


def algorithm_classes():
    from .buddip import BUDDIPUnmixing
    from .ddica import DDICAUnmixing
    from .estimate_n_endmembers import EstimateNEndmembers
    from .evaluate import EvaluateUnmixing
    from .extract_endmembers import ExtractEndmembers
    from .fcls import FullyConstrainedLeastSquares
    from .ica import DeepICAComponents
    from .import_mat import ImportMatDataset
    from .minvol_nmf import MinVolNMFUnmixing
    from .undip import UnDIPUnmixing

    return [
        ExtractEndmembers,
        EstimateNEndmembers,
        FullyConstrainedLeastSquares,
        UnDIPUnmixing,
        DDICAUnmixing,
        BUDDIPUnmixing,
        MinVolNMFUnmixing,
        DeepICAComponents,
        EvaluateUnmixing,
        ImportMatDataset,
    ]
