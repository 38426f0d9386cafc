"""benchmarks/_harness.py: the case dispatcher and the shared arguments every study uses."""

import sys

import numpy as np
import pytest
from _harness import Case, exact_fcls, main, parse, parser


def _study(seen):
    def run():
        seen.append(list(sys.argv))

    return {"one": Case("page_one", run, rows=("a",)), "two": Case("page_two", run, fixed=("--mode",))}


def test_main_runs_the_named_case_with_its_fixed_and_given_arguments(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "argv", ["study.py"])
    main(_study(seen), ["--case", "two", "--quick"])
    assert seen == [["study.py --case two", "--mode", "--quick"]]


def test_main_without_a_case_lists_the_cases(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["study.py"])
    with pytest.raises(SystemExit) as stop:
        main(_study([]), ["--help"])
    assert stop.value.code == 0 and "--case {one,two}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(_study([]), [])
    assert stop.value.code == 2
    with pytest.raises(SystemExit):
        main(_study([]), ["--case", "three"])


@pytest.mark.parametrize(
    ("argv", "out", "seeds"),
    [
        ([], "demo", 5),
        (["--quick"], "quick/demo", 1),
        (["--quick", "--out", "x"], "x", 1),
        (["--seeds", "3"], "demo", 3),
    ],
)
def test_parse_sends_a_quick_run_to_its_own_files(monkeypatch, argv, out, seeds):
    monkeypatch.setattr(sys, "argv", ["study.py --case demo", *argv])
    args = parse(parser("A demo case.\n\nMore.", "demo", "shorter", 5), "demo", seeds=1)
    assert (args.out, args.seeds) == (out, seeds)


def test_exact_fcls_is_the_constrained_optimum():
    rng = np.random.default_rng(0)
    E = rng.uniform(0.1, 1.0, (12, 3))
    A = exact_fcls(E @ rng.dirichlet(np.ones(3), 50).T + rng.normal(0, 0.05, (12, 50)), E)
    assert np.allclose(A.sum(0), 1) and A.min() >= 0
    pure = exact_fcls(E, E)
    assert np.allclose(pure, np.eye(3), atol=1e-9)
