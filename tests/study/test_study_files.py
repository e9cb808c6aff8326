"""The shipped study files parse and keep their scientific design and gate-sized inference.

Running them is minutes to an hour (see each file's header for the measured wall time and the
diagnostics-gate outcome); these checks are parse-only and take about a second.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from _registry import shipped_model_names

from bellmodels import studies
from bellmodels.study import load_study_file

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ROOT / "bellmodels" / "studies"
# The gate wants bulk and tail ESS >= 400; the explicit models give 0.2-0.9 ESS per draw, the
# machines less. Fewer than 2 x 1000 draws per fit cannot pass it reliably (measured: the
# headers of real_data.toml and noise_sweep.toml).
MIN_TOTAL_DRAWS = 2000


def test_the_studies_ship_inside_the_package() -> None:
    """The shipped studies are package data (so ``bellmodels run NAME`` works from a wheel): a
    study file left in a top-level ``studies/`` (an old branch merged) would not ship."""
    assert not list(ROOT.glob("studies/*.toml")), "move them to bellmodels/studies/"
    assert sorted(p.stem for p in STUDIES.glob("*.toml")) == studies.names()
    assert studies.names(), "no shipped study"


@pytest.mark.parametrize("path", sorted(STUDIES.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_study_parses_and_expands(path: Path) -> None:
    cfg = load_study_file(path)
    assert cfg.tasks(), f"{path.name}: no tasks"
    for task in cfg.tasks():
        if task.config["options"].get("fit"):
            inf = task.config["inference"]
            total = int(inf["draws"]) * int(inf["chains"])
            assert total >= MIN_TOTAL_DRAWS, f"{path.name}: {task.id} has {total} draws"


def test_real_data_fits_every_model_on_every_experiment() -> None:
    cfg = load_study_file(STUDIES / "real_data.toml")
    assert [list(a.values) for a in cfg.axes] == [["delft2015", "weihs1998", "vienna2015"]]
    assert set(cfg.models()) == set(shipped_model_names())
    assert len(cfg.tasks()) == 3 * len(shipped_model_names())


def test_noise_sweep_crosses_the_local_bound_over_three_decades_of_trials() -> None:
    cfg = load_study_file(STUDIES / "noise_sweep.toml")
    axes = {a.name: a.values for a in cfg.axes}
    vis, trials = axes["visibility"], axes["n_trials"]
    # S = 2 sqrt2 V: points on both sides of the local bound 2 (V = 1/sqrt2), up to V = 1
    assert min(vis) <= 0.5 and max(vis) == 1.0
    assert any(v < 1 / math.sqrt(2) for v in vis) and any(v > 1 / math.sqrt(2) for v in vis)
    assert min(trials) == 1_000 and max(trials) == 1_000_000
    assert {"local-polytope", "quantum-singlet"} <= set(cfg.models())
    assert "rbm" not in cfg.models()  # its cost; md_frontier.toml covers the machines
    assert len(cfg.tasks()) == len(vis) * len(trials) * len(cfg.models())


def test_renaming_trials_to_n_trials_keeps_every_task_id():
    """Task ids are hashed under the 0.1 key names: a study rerun into its old output directory
    after the rename finds its finished tasks (ids computed by bellmodels 0.1 on the same text
    with ``trials = [1000, 2000]``)."""
    from bellmodels.study import parse_study

    text = (
        '[data]\nsource = "simulate"\nn_trials = [1000, 2000]\nvisibility = 0.9\n'
        '[models]\ninclude = ["bell1964", "quantum-singlet"]\n[inference]\ndraws = 300\n'
    )
    cfg = parse_study(text)
    assert [t.id for t in cfg.tasks()] == [
        "bell1964-14b4c565fe",
        "quantum-singlet-ab2176c45e",
        "bell1964-4cc8d5bfe7",
        "quantum-singlet-d9b5669de5",
    ]
    assert cfg.tasks()[0].config["data"]["n_trials"] == 1000
    with pytest.raises(
        ValueError, match=r"key 'data\.trials' is unknown \(renamed to 'n_trials'\)"
    ):
        parse_study(text.replace("n_trials", "trials"), source="old.toml")
