"""A really full disk under a study run: a tiny tmpfs as the output directory (issue #27).

Needs ``mount`` (root, or a container that allows it); where mounting is not possible the test
is skipped, and ``test_runner_faults.py::test_disk_full_then_rerun_gives_the_same_results``
covers the same path with a simulated ``ENOSPC``.

Each test's first docstring line is its probe ("probe: <what the user does> -> <what must
happen>"), read by ``docs/scripts/reliability_table.py`` into the Reliability page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _study import write_study

from bellmodels.study import run_study

STUDY = """
[study]
name = "diskfull"
[data]
source = "simulate"
n_trials = 3000
visibility = [0.7, 0.85, 1.0]
seed = 4
[models]
include = ["bell1964", "quantum-singlet"]
[inference]
fit = false
[report]
figures = false
"""

NUMBERS = ("S", "mi_bits", "hall_M", "ch_J", "data_S", "data_S_se", "n_trials")


def _mount(where: Path, size: str) -> None:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); simulated ENOSPC only")


@pytest.mark.slow
def test_full_tmpfs_then_more_space_then_rerun(tmp_path):
    """probe: run a study into a 64 KB tmpfs (the disk fills mid-run), then grow it and rerun -> the run ends with the error printed, no traceback, no temporaries; the rerun equals an undisturbed run"""
    study = write_study(tmp_path, STUDY)
    reference = run_study(study, tmp_path / "reference", workers=2, progressbar=False, report=False)
    disk = tmp_path / "disk"
    _mount(disk, "64k")
    try:
        out = disk / "out"
        cli = "import sys; from bellmodels.cli import main; sys.exit(main())"
        cmd = [sys.executable, "-c", cli, "run", str(study), "--out", str(out)]
        env = dict(os.environ, PYTHONPATH=os.getcwd())
        done = subprocess.run(
            [*cmd, "--quiet", "--no-report", "--workers", "2"],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert done.returncode in (1, 2), done.stderr
        assert "No space left on device" in done.stderr
        assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
        assert not [*out.rglob("*.tmp"), *out.rglob(".*.running")]
        subprocess.run(["mount", "-o", "remount,size=4m", str(disk)], check=True)
        again = run_study(study, out, workers=2, progressbar=False, report=False)
        assert list(again["task"].values.ravel()) == list(reference["task"].values.ravel())
        assert (again["status"] == "done").all()
        for var in NUMBERS:
            np.testing.assert_array_equal(again[var].values, reference[var].values, err_msg=var)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
