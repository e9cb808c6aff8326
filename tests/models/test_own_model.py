"""A model of one's own is first-class (issue #24 item 4, #27): stated once, checked, registered.

The example package ``tests/fixtures/bm_example_models`` (its model is the tutorial's) is
installed with pip into a temporary directory (``--no-deps --no-build-isolation --target``) and
put on the ``PYTHONPATH`` of subprocesses only, so nothing is installed into the shared venvs and
the registry of this test process never sees it. Routes: the entry point, ``--import``, a study's
``modules`` on the process pool and on Dask, the report, ``load_fit`` in a fresh process; the
ones that sample are slow, each has a fast sibling that does not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from bellmodels import models
from bellmodels.models import HiddenVariableModel, Parameter
from bellmodels.models.blocks import arc_partition, arc_signs, one_hot, product_response
from bellmodels.models.priors import Beta, Interval, Normal

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "bm_example_models"
MODEL_FILE = FIXTURE / "bm_example_models" / "leaky.py"
TUTORIAL = ROOT / "docs" / "tutorials" / "own_model.md"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package installed by pip into a temporary target directory."""
    target = tmp_path_factory.mktemp("site")
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    proc = subprocess.run(
        [*cmd, "--target", str(target), str(FIXTURE)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert (target / "bm_example_models" / "leaky.py").is_file()
    return target


def run(args: list[str], *paths: Path, cwd: Path | None = None, timeout: float = 600) -> Any:
    """Run ``args`` with ``PYTHONPATH`` = the worktree plus ``paths`` (and nothing inherited)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BELLMODELS_IMPORT")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT), *map(str, paths)]),
        OMP_NUM_THREADS="1",
        MPLBACKEND="Agg",
    )
    return subprocess.run(
        args, cwd=cwd or ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def cli(*args: str) -> list[str]:
    """The ``bellmodels`` command of this interpreter."""
    return [
        sys.executable,
        "-c",
        "import sys; from bellmodels.cli import main; sys.exit(main())",
        *args,
    ]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


STUDY = """
[study]
name = "own"
{modules}

[data]
source = "simulate"
n_trials = 4000
seed = 3

[models]
include = ["leaky-bell", "bell1964"]

[inference]
fit = {fit}
draws = 100
tune = 100
chains = 2
evidence = false

[report]
figures = false
"""


# ---------------------------------------------------------------------------------------------
# the tutorial
# ---------------------------------------------------------------------------------------------
def test_tutorial_model_is_the_fixture_file_and_short() -> None:
    blocks = python_blocks(TUTORIAL.read_text(encoding="utf-8"))
    source = MODEL_FILE.read_text(encoding="utf-8")
    assert blocks[0] == source
    assert len(source.splitlines()) <= 40


def test_tutorial_runs_checked_and_registered() -> None:
    """Every Python block but the comparison, in a fresh process (the fixture's source on the
    path, as a reader who saved the file would have it)."""
    code = "\n".join(b for b in python_blocks(TUTORIAL.read_text())[1:] if "bm.compare" not in b)
    proc = run([sys.executable, "-c", code], FIXTURE)
    assert proc.returncode == 0, proc.stderr
    assert "PASS  sampler" in proc.stdout and "FAIL" not in proc.stdout
    assert "parameter 'efficiency' of model 'leaky-bell': 1.2 is outside [0, 1]" in proc.stdout


@pytest.mark.slow
def test_tutorial_comparison_with_the_singlet() -> None:
    code = "\n".join(python_blocks(TUTORIAL.read_text())[1:])
    proc = run([sys.executable, "-c", code], FIXTURE, timeout=1500)
    assert proc.returncode == 0, proc.stderr
    assert "quantum-singlet" in proc.stdout and "leaky-bell" in proc.stdout


# ---------------------------------------------------------------------------------------------
# the model itself: physics, defaults, derived tensor form (loaded without registering it)
# ---------------------------------------------------------------------------------------------
class Leaky(HiddenVariableModel):
    """The tutorial's model, unregistered (this process's registry stays the package's)."""

    name = "test-leaky"
    family = "local"
    assumption_dropped = "none"
    citation = "Bell, Physics 1, 195 (1964); Garg & Mermin, PRD 35, 3831 (1987)"
    parameters: ClassVar[dict[str, Parameter]] = {
        "efficiency": Parameter(prior=Beta(5, 1), default=0.9)
    }

    def ontic(self, p: Any, xp: Any) -> Any:
        a, b = self.scenario.angles_a, self.scenario.angles_b
        lo, hi = arc_partition(a, b)
        eta = p["efficiency"]
        no_click = one_hot(np.ones((1, 1)))
        resp_a = eta * one_hot(arc_signs(lo, hi, a).T) + (1 - eta) * no_click
        resp_b = eta * one_hot(-arc_signs(lo, hi, b).T) + (1 - eta) * no_click
        return (hi - lo) / (2 * np.pi), product_response(resp_a, resp_b)


def correlators(p: np.ndarray) -> np.ndarray:
    return p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]


def test_efficiency_scales_bells_correlator() -> None:
    """E = eta^2 E_Bell + (1 - eta)^2 (Bell's detected outcomes have fair marginals)."""
    e_bell = correlators(models.get("bell1964").behaviour())
    for eta in (1.0, 0.8, 0.3):
        e = correlators(Leaky(efficiency=eta).behaviour())
        np.testing.assert_allclose(e, eta**2 * e_bell + (1 - eta) ** 2, atol=1e-12)
    assert Leaky().params()["efficiency"] == 0.9
    assert Leaky.parameters["efficiency"].name == "efficiency"
    assert Leaky.parameters["efficiency"].prior_repr == "Beta(5, 1)"


def test_derived_tensor_form_and_sampler() -> None:
    import pytensor
    import pytensor.tensor as pt

    m = Leaky()
    eta = pt.dscalar("efficiency")
    fn = pytensor.function([eta], m.behaviour_tensor({"efficiency": eta}), mode="FAST_COMPILE")
    for value in (0.2, 0.9):
        np.testing.assert_allclose(fn(value), m.behaviour({"efficiency": value}), atol=1e-14)
    t = m.sample_trials(2000, seed=4)
    assert np.array_equal(t.outcome_a, m.sample_trials(2000, seed=4).outcome_a)
    # no-click -> +1: A's marginal P(+1) = eta/2 + (1 - eta) = 0.55
    assert abs((t.outcome_a == 1).mean() - 0.55) < 0.04


def test_a_model_without_an_ontic_table_is_refused() -> None:
    with pytest.raises(TypeError, match=r"must define ontic\(self, params, xp\)"):

        class Empty(HiddenVariableModel):
            name, family, assumption_dropped, citation = "e", "local", "none", "none"
            parameters: ClassVar[dict[str, Parameter]] = {}


# ---------------------------------------------------------------------------------------------
# parameter ranges and names (issue #27)
# ---------------------------------------------------------------------------------------------
def test_out_of_range_values_name_parameter_value_and_range() -> None:
    with pytest.raises(
        ValueError, match=r"'visibility' of model 'quantum-singlet': 1.5 is outside \[0, 1\]"
    ):
        models.get("quantum-singlet", visibility=1.5)
    with pytest.raises(ValueError, match=r"'efficiency' of model 'test-leaky': -0.1 is outside"):
        Leaky().behaviour({"efficiency": -0.1})


def test_typo_suggests_the_nearest_names() -> None:
    with pytest.raises(
        ValueError, match=r"unknown model 'quantum-singlte' \(did you mean 'quantum-singlet'\?\)"
    ):
        models.get("quantum-singlte")
    with pytest.raises(ValueError, match="entry point") as info:
        models.get("zzzz")
    assert "did you mean" not in str(info.value)


# ---------------------------------------------------------------------------------------------
# bm.models.check: every shipped model passes; each broken variant is caught and named
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", models.names())
def test_check_passes_on_every_shipped_model(name: str) -> None:
    result = models.check(models.get(name), draws=2, trials=10_000, seed=1)
    assert result.ok, result.report()
    assert repr(result) == f"CheckResult({name!r}: all 6 checks pass)"


class TensorBug(Leaky):
    def behaviour_tensor(self, params: Any) -> Any:
        return 0.99 * super().behaviour_tensor(params) + 0.0025  # normalised, but not the model


class BehaviourBug(Leaky):
    def behaviour(self, params: Any = None) -> np.ndarray:
        p = super().behaviour(params)
        return p[:, :, ::-1].copy()  # A's outcome labels swapped


class Unnormalised(Leaky):
    def ontic(self, p: Any, xp: Any) -> Any:
        p_lam, resp = super().ontic(p, xp)
        return 1.1 * p_lam, resp


class SamplerBug(Leaky):
    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Any:
        t = super().sample_trials(n, seed, setting_probs)
        flip = np.random.default_rng(seed).random(n) < 0.05  # 5% of B's outcomes flipped
        t.outcome_b[flip] = -t.outcome_b[flip]
        return t


class FamilyBug(Leaky):
    family = "nonlocal"


class PriorBug(Leaky):
    parameters: ClassVar[dict[str, Parameter]] = {
        "efficiency": Parameter(prior=Normal(0.9, 0.5), default=0.9, support=Interval(0, 1))
    }


class DefaultBug(Leaky):
    @property
    def parameters(self) -> dict[str, Parameter]:
        return {"efficiency": Parameter("efficiency", prior=Beta(5, 1), default=1.5)}


@pytest.mark.parametrize(
    ("cls", "failed", "says"),
    [
        (TensorBug, ["tensor"], "behaviour_tensor differs from behaviour by"),
        (BehaviourBug, ["tensor", "ontic", "sampler"], "sums to a behaviour"),
        (Unnormalised, ["tensor", "ontic", "sampler", "family"], "p_lambda"),
        (SamplerBug, ["sampler"], "disagree with the behaviour: chi-square p ="),
        (FamilyBug, ["family"], "declared family 'nonlocal' but the audit"),
        (PriorBug, ["priors"], "leaves the declared support"),
        (DefaultBug, ["parameters", "tensor", "ontic", "sampler", "family"], "1.5 is outside"),
    ],
)
def test_check_catches_and_names_each_failure(cls: type, failed: list[str], says: str) -> None:
    model = cls()
    result = models.check(model, draws=2, trials=10_000, seed=1)
    assert result.failed == failed, result.report()
    assert f"FAILED {', '.join(failed)}" in repr(result)
    detail = {i.name: i.detail for i in result.items}[
        failed[0] if cls is not BehaviourBug else "ontic"
    ]
    assert says in detail, result.report()
    with pytest.raises(AssertionError, match="FAIL"):
        result.raise_if_failed()


# ---------------------------------------------------------------------------------------------
# registration routes (subprocesses; fast ones need no sampling)
# ---------------------------------------------------------------------------------------------
def test_entry_point_route_cli_audit(installed: Path) -> None:
    proc = run(cli("audit", "leaky-bell", "--json"), installed)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["classification"] == "local & measurement-independent"
    assert abs(report["S"]) <= 2.0 + 1e-12


def test_import_route_cli_audit_and_its_absence() -> None:
    proc = run(cli("--import", "bm_example_models.leaky", "audit", "leaky-bell", "--json"), FIXTURE)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["classification"] == "local & measurement-independent"
    after = run(
        cli("audit", "--import", "bm_example_models.leaky", "leaky-bell", "--json"), FIXTURE
    )
    assert after.returncode == 0, after.stderr
    missing = run(cli("audit", "leaky-bell"), FIXTURE)  # neither installed nor imported
    assert missing.returncode == 2 and "--import MODULE" in missing.stderr
    bad = run(cli("--import", "no_such_pkg.models", "audit", "leaky-bell"))
    assert bad.returncode == 2 and "cannot import model module 'no_such_pkg.models'" in bad.stderr


# Dask itself is checked against the pool in the fast suite (tests/study/test_runner_dask.py);
# a cluster's start-up is the cost of this route on it, so it runs with the slow tests
@pytest.mark.parametrize("runner", ["pool", pytest.param("dask", marks=pytest.mark.slow)])
def test_study_modules_route_without_fits(tmp_path: Path, runner: str) -> None:
    """``[study] modules`` on the process pool and on Dask, then ``bellmodels report``; the
    package is only on the path (no entry point), so the workers must import the module."""
    if runner == "dask":
        pytest.importorskip("distributed")
    study = tmp_path / "own.toml"
    study.write_text(STUDY.format(modules='modules = ["bm_example_models.leaky"]', fit="false"))
    extra = ["--dask"] if runner == "dask" else []
    out = tmp_path / "out"
    proc = run(
        cli("run", str(study), "--out", str(out), "--workers", "2", "--quiet", *extra), FIXTURE
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert not list((out / "tasks").glob("*.failed.json"))
    from bellmodels.study import load_study

    ds = load_study(out)
    by_model = {
        str(m): c for m, c in zip(ds["model"].values, ds["classification"].values, strict=True)
    }
    assert by_model["leaky-bell"] == "local & measurement-independent"
    report = run(cli("report", str(out)), FIXTURE)
    assert report.returncode == 0, report.stderr
    assert "leaky-bell" in (out / "report.md").read_text()


def test_study_without_modules_names_the_fix_and_import_reaches_the_workers(
    tmp_path: Path,
) -> None:
    """Without ``modules`` the study is refused, naming the ways out; ``--import`` instead
    imports the module here and (through ``BELLMODELS_IMPORT``) in the pool's workers."""
    study = tmp_path / "own.toml"
    study.write_text(STUDY.format(modules="", fit="false"))
    proc = run(cli("run", str(study), "--out", str(tmp_path / "o"), "--quiet"), FIXTURE)
    assert proc.returncode == 2 and "unknown model 'leaky-bell'" in proc.stderr
    assert "modules = [...]" in proc.stderr
    out = tmp_path / "o2"
    args = ["--import", "bm_example_models.leaky", "run", str(study), "--out", str(out)]
    proc = run(cli(*args, "--quiet", "--workers", "2", "--no-report"), FIXTURE)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert len(list((out / "tasks").glob("leaky-bell-*.nc"))) == 1


def _fake_fit(path: Path) -> None:
    """A saved fit of leaky-bell with the attrs ``fit`` writes, without sampling."""
    import xarray as xr

    from bellmodels import _arviz

    desc = Leaky(efficiency=0.7).describe()
    desc |= {"name": "leaky-bell", "module": "bm_example_models.leaky", "class": "LeakyBell"}
    post = xr.Dataset({"efficiency": (("chain", "draw"), np.full((1, 3), 0.7))})
    idata = _arviz.inference_data({"posterior": post}, attrs={"model_describe": json.dumps(desc)})
    _arviz.to_netcdf(idata, str(path))


LOAD = (
    "import sys; from bellmodels.inference import load_fit; m, _ = load_fit(sys.argv[1]); "
    "print(m.name, float(m.params()['efficiency']), type(m).__module__)"
)


def test_load_fit_imports_the_recorded_module_in_a_fresh_process(tmp_path: Path) -> None:
    nc = tmp_path / "leaky.nc"
    _fake_fit(nc)
    proc = run([sys.executable, "-c", LOAD, str(nc)], FIXTURE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["leaky-bell", "0.7", "bm_example_models.leaky"]
    missing = run([sys.executable, "-c", LOAD, str(nc)])
    assert missing.returncode != 0
    assert "install the package that provides 'bm_example_models.leaky'" in missing.stderr


# ---------------------------------------------------------------------------------------------
# the sampling routes (slow, small draws)
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_compare_route_and_load_fit_of_its_saved_fit(installed: Path, tmp_path: Path) -> None:
    out = tmp_path / "fits"
    args = ["compare", "--data", "delft2015", "--models", "leaky-bell,quantum-singlet"]
    args += ["--draws", "200", "--tune", "200", "--chains", "2", "--seed", "1", "--json"]
    proc = run(cli(*args, "--no-evidence", "--out", str(out)), installed, timeout=1500)
    assert proc.returncode in (0, 1), proc.stderr  # 1: a fit missed the gate at this size
    rows = json.loads(proc.stdout)
    assert {r["model"] for r in rows} == {"leaky-bell", "quantum-singlet"}
    assert max(r["S_mean"] for r in rows if r["model"] == "leaky-bell") <= 2.0 + 1e-9
    loaded = run([sys.executable, "-c", LOAD, str(out / "leaky-bell.nc")], installed)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split()[0] == "leaky-bell"


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["pool", "dask"])
def test_study_route_with_fits(tmp_path: Path, runner: str) -> None:
    if runner == "dask":
        pytest.importorskip("distributed")
    study = tmp_path / "own.toml"
    study.write_text(STUDY.format(modules='modules = ["bm_example_models.leaky"]', fit="true"))
    out = tmp_path / "out"
    extra = ["--dask"] if runner == "dask" else []
    proc = run(
        cli("run", str(study), "--out", str(out), "--workers", "2", "--quiet", *extra),
        FIXTURE,
        timeout=1500,
    )
    assert proc.returncode in (0, 1), proc.stderr + proc.stdout
    assert not list((out / "tasks").glob("*.failed.json"))
    assert "leaky-bell" in (out / "report.md").read_text()


@pytest.mark.parametrize("draws", [0, 1])
def test_check_with_few_prior_draws(draws: int) -> None:
    """``pm.draw`` drops the draws axis for one draw; zero draws only builds the priors."""
    result = models.check(Leaky(), draws=draws, trials=2000, seed=2)
    assert result.ok, result.report()
    assert f"{draws} draws" in result.items[2].detail
