"""Robustness of a study's inputs: changed data files, names that would leave the output
directory, mistakes every task would hit, and files that are not TOML (issue #27, study half).

Each test's first docstring line is its probe ("probe: <what the user does> -> <what must
happen>"), read by ``docs/scripts/reliability_table.py`` into the Reliability page.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest
from _study import write_study

from bellmodels.cli import main
from bellmodels.data import write_counts
from bellmodels.scenario import Scenario
from bellmodels.simulate import simulate_singlet
from bellmodels.study import load_study_file, run_study

FILE_STUDY = """
[study]
name = "onfile"
[data]
source = "file"
path = "data.csv"
[models]
include = ["bell1964", "quantum-singlet"]
[inference]
fit = false
[report]
figures = false
"""

SIM_STUDY = """
[study]
name = "sim"
[data]
source = "simulate"
n_trials = 500
visibility = [0.7, 1.0]
[models]
include = ["bell1964"]
[inference]
fit = false
"""


def _simulate(path: Path, n: int, seed: int, visibility: float) -> None:
    trials = simulate_singlet(Scenario.chsh(), n_trials=n, seed=seed, visibility=visibility)
    write_counts(trials.counts(), path)


def _events(out: Path, event: str) -> list[dict]:
    lines = (out / "journal.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == event]


def test_changed_data_file_reruns_its_tasks(tmp_path, caplog):
    """probe: overwrite a study's data file with other data, rerun into the same --out -> every task reruns on the new data and the journal and the report say so"""
    data = tmp_path / "data.csv"
    _simulate(data, 20_000, seed=1, visibility=1.0)
    study = write_study(tmp_path, FILE_STUDY)
    out = tmp_path / "out"
    first = run_study(study, out, workers=1, progressbar=False, report=False)
    s_first = float(first["data_S"])
    assert s_first > 2.6  # the singlet at full visibility: S near 2 sqrt 2
    recorded = json.loads((out / "study.json").read_text())["inputs"]
    assert list(recorded) == [str(data.resolve())] and len(recorded[str(data)]) == 64

    _simulate(data, 50_000, seed=3, visibility=0.5)  # what the user did in the issue
    with caplog.at_level(logging.WARNING, logger="bellmodels"):
        second = run_study(study, out, workers=1, progressbar=True, report=False)
    err = caplog.text  # a warning of the bellmodels logger (the CLI shows it on stderr)
    assert f"data file {data.resolve()} changed since the last run: 2 tasks rerun" in err
    # the new data, not the old: S of V = 0.5 is near sqrt 2, below the local bound
    assert float(second["data_S"]) < 1.6 and int(second["n_trials"]) == 50_000
    assert set(second["task"].values).isdisjoint(set(first["task"].values))
    (change,) = _events(out, "input_changed")
    assert change["tasks"] == 2 and change["old_sha256"] == recorded[str(data)]
    from bellmodels.report import write_report

    report = write_report(out).read_text()
    assert "changed since the last run: 2 tasks rerun" in report

    third = run_study(
        study, out, workers=1, progressbar=False, report=False
    )  # unchanged now: all reused
    assert _events(out, "input_changed") == [change]
    assert list(third["task"].values) == list(second["task"].values)


def test_file_changed_during_the_run_fails_its_task_not_silently(tmp_path):
    """probe: a data file changes between reading the study and running its tasks -> the task fails naming the file, no result from the other version"""
    from bellmodels.study.worker import task_entry

    data = tmp_path / "data.csv"
    _simulate(data, 2000, seed=1, visibility=1.0)
    cfg = load_study_file(write_study(tmp_path, FILE_STUDY))
    _simulate(data, 2000, seed=2, visibility=1.0)
    (tmp_path / "out" / "tasks").mkdir(parents=True)
    summary = task_entry(cfg.tasks()[0].to_json(), str(tmp_path / "out"))
    assert summary["status"] == "failed"
    assert str(data) in summary["error"] and "changed since the study was read" in summary["error"]
    assert not list((tmp_path / "out" / "tasks").glob("*.nc"))


@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "a/b", "..", ".hidden", "a\\b"])
def test_study_name_cannot_leave_out(tmp_path, monkeypatch, name):
    """probe: [study] name = "../../x" (or absolute, or with a slash) run without --out -> refused naming the key, nothing written"""
    monkeypatch.chdir(tmp_path)
    study = write_study(tmp_path, SIM_STUDY.replace('name = "sim"', f"name = {json.dumps(name)}"))
    with pytest.raises(ValueError, match=r"study\.toml: key 'study\.name'"):
        run_study(study, progressbar=False, report=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.toml"]


def test_file_stem_becomes_a_safe_default_name(tmp_path):
    """probe: a study file named "my study;x.toml" without [study] name -> the default name is a safe directory name under out/"""
    text = SIM_STUDY.replace('[study]\nname = "sim"\n', "")
    cfg = load_study_file(write_study(tmp_path, text, "my study;x.toml"))
    assert cfg.name == "my_study_x"


BAD = [
    ("visibility = [0.7, 1.0]", "visibility = 1.7", "data.visibility", "[0, 1]"),
    ("visibility = [0.7, 1.0]", "visibility = [0.7, 1.7]", "data.visibility", "[0, 1]"),
    (
        "n_trials = 500",
        "n_trials = 500\nsetting_probs = [[0.5, 0.5], [0.5, 0.5]]",
        "data.setting_probs",
        "",
    ),
    (
        "n_trials = 500",
        "n_trials = 500\nsetting_probs = [[0.25, 0.25, 0.25], [0.25]]",
        "data.setting_probs",
        "",
    ),
    ("fit = false", 'fit = true\nsampler = "metropolis"', "inference.sampler", "sampler"),
    ("fit = false", 'fit = true\ninit = "random"', "inference.init", "expected one of"),
    ("fit = false", "fit = true\ntarget_accept = 1.0", "inference.target_accept", "[0.5, 1)"),
    (
        'source = "simulate"',
        'source = "dataset"\ndataset = "delft2016"',
        "data.dataset",
        "delft2015",
    ),
    (
        'include = ["bell1964"]',
        'include = ["bell1964", "rbm"]\n[models.rbm]\nparams = { n_hidden = "four" }',
        "models.rbm.params",
        "rbm",
    ),
    ('source = "simulate"', 'source = "file"\npath = "missing.csv"', "data.path", "no file"),
]


@pytest.mark.parametrize(("old", "new", "key", "words"), BAD)
def test_every_task_mistake_is_found_before_anything_is_written(tmp_path, old, new, key, words):
    """probe: a study with a mistake every task would hit (visibility 1.7, bad sampler, init, target_accept, setting probabilities, dataset, model parameter) -> one error naming file and key before any output"""
    study = write_study(tmp_path, SIM_STUDY.replace(old, new))
    out = tmp_path / "out"
    with pytest.raises(ValueError) as info:
        run_study(study, out, progressbar=False, report=False)
    assert str(info.value).startswith(f"{study}: key '{key}'"), str(info.value)
    assert words in str(info.value)
    assert not out.exists()


def test_bad_csv_is_named_before_anything_is_written(tmp_path):
    """probe: a study whose data file is not a count table -> one error naming the study key and the data file, no output directory"""
    (tmp_path / "data.csv").write_text(
        "setting_a,setting_b,outcome_a,outcome_b,count\n0,0,+1,7,3\n"
    )
    study = write_study(tmp_path, FILE_STUDY)
    with pytest.raises(ValueError, match=r"key 'data\.path'") as info:
        run_study(study, tmp_path / "out", progressbar=False, report=False)
    assert "data.csv" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_quiet_run_prints_its_errors(tmp_path, capsys):
    """probe: bellmodels run --quiet on a study with a mistake, and on one whose task fails at run time -> the error is printed on stderr all the same"""
    bad = write_study(tmp_path, SIM_STUDY.replace("visibility = [0.7, 1.0]", "visibility = 1.7"))
    assert main(["run", str(bad), "--out", str(tmp_path / "o1"), "--quiet"]) == 2
    assert "key 'data.visibility'" in capsys.readouterr().err
    failing = SIM_STUDY.replace(
        'include = ["bell1964"]',
        'include = ["bell1964", "rbm"]\n[models.rbm]\ntrain = true\n'
        'train_options = { method = "no-such-method" }',
    ).replace("visibility = [0.7, 1.0]", "visibility = 1.0")
    path = write_study(tmp_path, failing, "failing.toml")
    code = main(["run", str(path), "--out", str(tmp_path / "o2"), "--quiet", "--no-report"])
    err = capsys.readouterr().err
    assert code == 1 and "task rbm-" in err and "no-such-method" in err


@pytest.mark.parametrize(
    "payload", [b"\xff\xfe[\x00d\x00a\x00t\x00a\x00]\x00", b"\x89PNG\r\n\x1a\n\x00\x00", b"\x80"]
)
def test_binary_study_file_is_named(tmp_path, payload, capsys):
    """probe: bellmodels run on a binary (or UTF-16) file -> an error naming the file, exit 2, no output"""
    path = tmp_path / "binary.toml"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=r"binary\.toml: not a study file"):
        load_study_file(path)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert f"{path}: not a study file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_second_runner_on_the_same_directory_is_refused(tmp_path):
    """probe: a second runner starts on an output directory a first runner holds -> refused with a message naming the lock; the first runner's files untouched"""
    import fcntl

    study = write_study(tmp_path, SIM_STUDY)
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ValueError, match="another runner is using"):
            run_study(study, out, progressbar=False, report=False)
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    finally:
        os.close(fd)
    ds = run_study(study, out, workers=1, progressbar=False, report=False)  # released: it runs
    assert (ds["status"] == "done").all()
    assert np.all(np.diff(ds["data_S"].values) > 0)  # S grows with the visibility
