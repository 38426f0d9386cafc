"""Output paths that would lose data are refused; a failed final rename leaves nothing behind."""

import os

import pytest

from deepunmix.engine.core.errors import DeepUnmixError, OutputError
from deepunmix.engine.io.paths import check_output_paths
from deepunmix.engine.io.raster import atomic_output


def test_output_equal_to_input_by_real_path(tmp_path):
    src = tmp_path / "in.tif"
    src.write_bytes(b"x")
    os.symlink(src, tmp_path / "link.tif")
    for spelling in (src, tmp_path / "." / "in.tif", tmp_path / "sub" / ".." / "in.tif", tmp_path / "link.tif"):
        with pytest.raises(OutputError, match="is the input INPUT"):
            check_output_paths({"OUT": str(spelling)}, {"INPUT": str(src)})


def test_two_outputs_on_one_path(tmp_path):
    with pytest.raises(OutputError, match="same file"):
        check_output_paths({"A": str(tmp_path / "x.csv"), "B": str(tmp_path / "x.csv")}, {})


def test_folder_as_output(tmp_path):
    with pytest.raises(OutputError, match="folder"):
        check_output_paths({"A": str(tmp_path)}, {})


def test_distinct_paths_pass(tmp_path):
    check_output_paths(
        {"A": str(tmp_path / "a.tif"), "B": str(tmp_path / "b.csv"), "C": None},
        {"INPUT": str(tmp_path / "in.tif"), "E": ""},
    )


def test_errors_are_value_errors():
    assert issubclass(OutputError, DeepUnmixError) and issubclass(DeepUnmixError, ValueError)


def test_failed_final_rename_leaves_no_partial(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep").write_text("x")  # a non-empty folder: os.replace fails
    with pytest.raises(OutputError, match="could not write"):
        with atomic_output(target) as tmp:
            tmp.write_text("data")
            (tmp.parent / (tmp.name + ".aux.xml")).write_text("aux")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert (target / "keep").read_text() == "x"


def test_output_transaction_all_or_none(tmp_path):
    import numpy as np

    from deepunmix.engine.io.endmember_csv import write_endmembers_csv
    from deepunmix.engine.io.raster import open_raster, output_transaction, write_abundances

    A = np.full((2, 4, 5), 0.5, np.float32)
    (tmp_path / "a.tif").write_bytes(b"previous")
    with pytest.raises(RuntimeError):
        with output_transaction():
            write_abundances(tmp_path / "a.tif", A, ["x", "y"])
            with open_raster(tmp_path / "a.tif") as ds:  # a pending output reads back from its temporary file
                assert ds.count == 2
            raise RuntimeError("failed after the first output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif"]
    assert (tmp_path / "a.tif").read_bytes() == b"previous"
    with output_transaction():
        write_abundances(tmp_path / "a.tif", A, ["x", "y"])
        write_endmembers_csv(tmp_path / "e.csv", np.ones((3, 2)), ["x", "y"])
        assert not (tmp_path / "e.csv").exists()  # nothing appears before the end
    assert {p.name for p in tmp_path.iterdir()} == {"a.tif", "e.csv", "e.csvt"}
