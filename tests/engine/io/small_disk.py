"""A full disk for tests: a 2 MB tmpfs of its own (needs root: skipped otherwise), and a filler."""

import os
import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB file system of its own, unmounted after the test."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill ``folder``'s file system up to ``leave`` bytes free."""
    st = os.statvfs(folder)
    with open(folder / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
