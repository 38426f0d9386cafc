"""One engine per process: the modules the algorithms run are the modules the tests (and users) import."""

import sys


def test_algorithms_and_test_fixtures_share_one_engine(deepunmix, scene):
    # `scene` builds its files with the engine as the tests import it; the algorithms import it as ..engine
    import deepunmix.algorithms.base as base
    import deepunmix.engine.core.progress as progress

    assert base.Cancelled is progress.Cancelled
    assert sorted(m for m in sys.modules if m == "engine" or m.startswith("engine.")) == []
