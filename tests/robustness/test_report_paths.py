"""The report and the compare command write only inside their output directory, check it
before any work, and name a damaged file (issue #27, items 3, 5 and 7).

Each test's first docstring line is its probe ("probe: <what the user does> -> <what must
happen>"), read by ``docs/scripts/reliability_table.py`` into the Reliability page.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
from _study import MINIMAL_STUDY, write_study

from bellmodels.cli import main
from bellmodels.report import write_report
from bellmodels.report.document import save_figure
from bellmodels.study import run_study

matplotlib.use("Agg")


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("paths")
    study = write_study(tmp, MINIMAL_STUDY)
    run_study(study, tmp / "run" / "out", workers=1, progressbar=False, report=False)
    return tmp / "run" / "out"


@pytest.mark.parametrize(
    "name", ["diagnostics_main_../../../evil.png", "/tmp/evil.png", "..", "sweep_S_vs_a/b.png"]
)
def test_figure_names_from_input_stay_in_the_figure_directory(tmp_path, name):
    """probe: a figure name built from a model name or sweep axis holding ../, / or an absolute path -> the PNG is written inside figures/, nothing elsewhere"""
    import matplotlib.pyplot as plt

    fig_dir = tmp_path / "out" / "figures"
    fig_dir.mkdir(parents=True)
    fig = plt.figure()
    rel = save_figure(fig, fig_dir, name)
    written = _files(tmp_path)
    assert written == {tmp_path / "out" / rel} and (tmp_path / "out" / rel).parent == fig_dir
    assert (tmp_path / "out" / rel).read_bytes()[:4] == b"\x89PNG"


def test_report_on_tampered_task_ids_writes_nothing_outside(study_dir, tmp_path):
    """probe: bellmodels report DIR on a results file whose task coordinate holds ../ -> an error naming the bad task id, nothing written outside DIR"""
    import xarray as xr

    from bellmodels.study.store import load_study, write_results

    out = tmp_path / "copy" / "out"
    out.mkdir(parents=True)
    for p in study_dir.rglob("*"):
        if p.is_file():
            (out / p.relative_to(study_dir)).parent.mkdir(parents=True, exist_ok=True)
            (out / p.relative_to(study_dir)).write_bytes(p.read_bytes())
    ds = load_study(out)
    ds["task"] = xr.full_like(ds["task"], "../../../escape")
    write_results(ds, out)
    before = _files(tmp_path)
    with pytest.raises(ValueError, match=r"task id '\.\./\.\./\.\./escape'"):
        write_report(out)
    assert {p for p in _files(tmp_path) - before if out not in p.parents} == set()


def test_report_names_a_damaged_task_file(study_dir, tmp_path, capsys):
    """probe: bellmodels report DIR after a task file was truncated -> exit 2 with an error naming that file (not h5py's bare "truncated file")"""
    out = tmp_path / "out"
    out.mkdir()
    for p in study_dir.rglob("*"):
        if p.is_file():
            (out / p.relative_to(study_dir)).parent.mkdir(parents=True, exist_ok=True)
            (out / p.relative_to(study_dir)).write_bytes(p.read_bytes())
    victim = sorted((out / "tasks").glob("*.nc"))[0]
    victim.write_bytes(victim.read_bytes()[:2000])
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(victim) in err and "damaged or incomplete" in err
    (out / "results.nc").write_bytes(b"")
    assert main(["report", str(out)]) == 2
    assert str(out / "results.nc") in capsys.readouterr().err


def test_report_on_a_directory_without_results_writes_nothing(tmp_path, capsys):
    """probe: bellmodels report on a directory that holds no results.nc -> exit 2 naming results.nc, no figures/ directory made"""
    assert main(["report", str(tmp_path)]) == 2
    assert "results.nc" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["file", "under_a_file"])
def test_compare_checks_out_before_fitting(tmp_path, monkeypatch, capsys, kind):
    """probe: bellmodels compare --out EXISTING_FILE (or a path under a file) -> refused at once, before any fit, the file untouched"""
    import bellmodels.comparison

    def no_fit(*args, **kwargs):
        raise AssertionError("compare ran before --out was checked")

    monkeypatch.setattr(bellmodels.comparison, "compare", no_fit)
    existing = tmp_path / "results.txt"
    existing.write_text("keep me")
    out = existing if kind == "file" else existing / "fits"
    argv = ["compare", "--data", "weihs1998", "--models", "quantum-singlet", "--out", str(out)]
    assert main(argv) == 2
    assert "--out" in capsys.readouterr().err
    assert existing.read_text() == "keep me"
