"""A model that cannot describe a kind of table (complete vs post-selected) is refused by fit and
left unfitted, with its reason, by a study (issue #29 item 3)."""

from __future__ import annotations

import textwrap

import pytest

from bellmodels import datasets, models
from bellmodels.inference import resolve_model
from bellmodels.study import load_study_file
from bellmodels.study.store import read_task_summary, task_path
from bellmodels.study.worker import run_task


def test_fit_refuses_a_table_of_the_other_kind_naming_model_table_and_source() -> None:
    """probe: fit quantum-two-qubit (detection / no detection) to Weihs' coincidences -> refused"""
    weihs = datasets.load("weihs1998")
    assert weihs.kind == "post-selected"
    with pytest.raises(ValueError, match=r"quantum-two-qubit.*post-selected.*weihs1998"):
        resolve_model("quantum-two-qubit", weihs)
    # a model of p(outcomes | settings) of the kept trials takes either kind
    assert resolve_model("quantum-singlet", weihs).name == "quantum-singlet"


def test_study_task_on_the_other_kind_is_audited_and_not_fitted_with_its_reason(tmp_path) -> None:
    path = tmp_path / "kinds.toml"
    path.write_text(
        textwrap.dedent(
            """
            [study]
            name = "kinds"
            [data]
            source = "dataset"
            dataset = "weihs1998"
            [models]
            include = ["quantum-two-qubit", "local-detection-loophole"]
            [inference]
            fit = false
            """
        )
    )
    cfg = load_study_file(path)
    out = tmp_path / "out"
    for task in cfg.tasks():
        run_task(task, out)
    by_model = {t.model: read_task_summary(task_path(out, t.id)) for t in cfg.tasks()}
    refused = by_model["quantum-two-qubit"]
    assert refused["status"] == "done" and "fit" not in refused
    assert "cannot describe a post-selected count table" in refused["not_fitted"]
    assert refused["audit"]["classification"]  # audited all the same
    assert "not_fitted" not in by_model["local-detection-loophole"]
    assert models.get("local-detection-loophole").table == "post-selected"
