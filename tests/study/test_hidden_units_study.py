"""The hidden-units study (issue #26): its file expands to the sweep the issue asks for, one
``n_hidden`` axis shared by the two machines, and a dataset's tasks shared by the simulated sizes.

Parse-only (about a second); the run itself is ``bellmodels/studies/hidden_units.toml``'s header.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bellmodels.study import load_study_file, parse_study

STUDIES = Path(__file__).resolve().parents[2] / "bellmodels" / "studies"

TWO_MACHINES = """
[data]
source = "simulate"
n_trials = 500
[models]
include = ["rbm", "crbm"]
[models.rbm]
params = {{ n_hidden = {rbm} }}
[models.crbm]
params = {{ n_hidden = {crbm} }}
[inference]
fit = false
"""


def test_hidden_units_study_sweeps_both_machines_over_one_to_eight_units_on_every_data():
    cfg = load_study_file(STUDIES / "hidden_units.toml")
    axes = {a.name: a for a in cfg.axes}
    assert list(axes) == ["source", "n_trials", "visibility", "n_hidden"]
    assert axes["n_hidden"].values == tuple(range(1, 9))
    assert set(axes["n_trials"].values) == {1_000, 10_000, 100_000}
    assert set(axes["visibility"].values) == {0.9, 1.0}
    tasks = cfg.tasks()
    # 8 sizes x 2 machines x (delft2015 + 3 sizes x 2 visibilities), each machine trained (its
    # maximum-likelihood KL) and fitted with the weinstein2017.toml sizes of the machines
    assert len(tasks) == 8 * 2 * (1 + 3 * 2)
    # more draws (inference_at) only for the small crbm whose chains mix slowly: 2-3 units on
    # the noisy simulations (3 trial counts x 2 sizes) and 1 unit on Delft; tempered SMC for the
    # six two-unit fits NUTS cannot sample (two modes it does not cross, or a start at a local
    # optimum of the likelihood); bridge sampling for the one-unit machines' evidence on
    # simulated data, where forward SMC reads low
    smc_points = {
        ("crbm", 100_000, 0.9),
        ("crbm", 10_000, 1.0),
        *(("rbm", t, v) for t in (100_000, 10_000) for v in (1.0, 0.9)),
    }
    longer = set()
    for t in tasks:
        assert t.model in ("rbm", "crbm")
        assert t.config["options"]["train"] and t.config["options"]["fit"]
        inf = t.config["inference"]
        assert inf["evidence_draws"] == 1000 and inf["evidence_hmc_steps"] == 8
        data, n = t.config["data"], t.config["options"]["params"]["n_hidden"]
        one_unit_simulated = n == 1 and data["source"] == "simulate"
        assert inf["evidence"] and inf["evidence_method"] == (
            "bridge" if one_unit_simulated else "smc"
        )
        if inf["sampler"] == "smc":
            assert n == 2 and (t.model, data["n_trials"], data["visibility"]) in smc_points
            more = (t.model, data["n_trials"], data["visibility"]) == ("rbm", 100_000, 0.9)
            assert (inf["draws"], inf["chains"]) == (4000 if more else 2000, 4)
        elif (inf["draws"], inf["chains"]) == (12000, 4):
            longer.add((t.model, data["source"], data.get("visibility"), n))
            assert t.model == "crbm"
        else:
            assert (inf["draws"], inf["chains"]) == (3000, 2) and inf["sampler"] == "auto"
    assert sum(1 for t in tasks if t.config["inference"]["sampler"] == "smc") == 6
    assert sum(1 for t in tasks if t.config["inference"]["evidence_method"] == "bridge") == 12
    assert sum(1 for t in tasks if t.config["inference"]["draws"] == 12000) == 6
    assert {(s, v, n) for _, s, v, n in longer} >= {("simulate", 0.9, 2), ("simulate", 0.9, 3)}
    assert any(s == "dataset" and n == 1 for _, s, _, n in longer)
    delft = [t for t in tasks if t.config["data"]["source"] == "dataset"]
    assert {t.config["data"]["dataset"] for t in delft} == {"delft2015"}
    sizes = {(t.model, t.config["options"]["params"]["n_hidden"]) for t in delft}
    assert len(delft) == len(sizes) == 16
    # the main job's data (studies/weinstein2017.toml) is one of the points
    main = load_study_file(STUDIES / "weinstein2017.toml").config["data"]
    assert any(
        {k: t.config["data"][k] for k in ("n_trials", "visibility", "seed", "scenario")}
        == {k: main[k] for k in ("n_trials", "visibility", "seed", "scenario")}
        for t in tasks
    )


def test_a_parameter_swept_alike_in_two_models_is_one_axis_and_otherwise_a_product():
    one = parse_study(TWO_MACHINES.format(rbm="[1, 2, 3]", crbm="[1, 2, 3]"))
    assert [(a.name, a.values) for a in one.axes] == [("n_hidden", (1, 2, 3))]
    pairs = [
        (
            c["models"]["options"]["rbm"]["params"]["n_hidden"],
            c["models"]["options"]["crbm"]["params"]["n_hidden"],
        )
        for _, c in one.points()
    ]
    assert pairs == [(1, 1), (2, 2), (3, 3)]
    assert len(one.tasks()) == 6
    assert '"also": ["models.options.crbm.params.n_hidden"]' in one.to_json()
    # different values: two axes, named by their keys, and their product
    two = parse_study(TWO_MACHINES.format(rbm="[1, 2]", crbm="[1, 2, 3]"))
    assert [a.name for a in two.axes] == [
        "models_options_rbm_params_n_hidden",
        "models_options_crbm_params_n_hidden",
    ]
    assert two.shape == (2, 3) and len(two.tasks()) == 5


def test_fields_a_data_source_does_not_read_do_not_split_its_tasks():
    text = """
    [data]
    source = ["dataset", "simulate"]
    dataset = "delft2015"
    n_trials = [1000, 2000]
    [models]
    include = ["bell1964"]
    [inference]
    fit = false
    """
    cfg = parse_study(text.replace("\n    ", "\n"))
    assert cfg.shape == (2, 2)
    by_source = {}
    for coords, tasks in cfg.grid():
        by_source.setdefault(coords["source"], set()).update(t.id for t in tasks)
    assert len(by_source["dataset"]) == 1  # the dataset's task, shared by both trial counts
    assert len(by_source["simulate"]) == 2


@pytest.mark.parametrize(
    ("study", "first_ids"),
    [
        ("real_data.toml", ["local-polytope-a5bc3c2eaf", "bell1964-42b41929be"]),
        ("weinstein2017.toml", ["crbm-6a9ea99a15", "rbm-8c3ce4798c"]),
    ],
)
def test_task_ids_of_the_other_shipped_studies_are_unchanged(study, first_ids):
    """Results already on disk resume: the identity of a task whose data fields are all read
    (or at their defaults) is the one it had before unread fields were normalised."""
    assert [t.id for t in load_study_file(STUDIES / study).tasks()][:2] == first_ids
