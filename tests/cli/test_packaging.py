"""What an installed bellmodels offers without a clone: ``python -m bellmodels``, the shipped
studies by name (``bellmodels run weinstein2017``), and (slow) all of it from a wheel installed
into a fresh virtual environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bellmodels import studies
from bellmodels.cli import main
from bellmodels.study import load_study_file

ROOT = Path(__file__).resolve().parents[2]
TINY = '[study]\nname = "tiny"\n[data]\nsource = "simulate"\n[models]\ninclude = ["bell1964"]\n'


def test_python_dash_m_runs_the_command() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "bellmodels", "datasets", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "delft2015"  # the result on stdout, nothing else
    assert proc.stderr == ""


def test_a_shipped_study_is_found_by_name_and_a_file_wins(tmp_path, monkeypatch) -> None:
    cfg = load_study_file("weinstein2017")
    assert cfg.name == "weinstein2017"
    assert cfg.config["data"]["n_trials"] == 100_000  # the main job, not a stand-in
    assert Path(cfg.source) == ROOT / "bellmodels" / "studies" / "weinstein2017.toml"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "weinstein2017.toml").write_text(TINY)
    assert load_study_file("weinstein2017.toml").config["models"]["include"] == ["bell1964"]
    assert load_study_file("weinstein2017").name == "weinstein2017"  # the name: the shipped one


def test_an_unknown_study_lists_the_shipped_ones_with_a_suggestion(capsys) -> None:
    assert main(["run", "weinstien2017", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'weinstein2017'?" in err
    assert ", ".join(studies.names()) in err
    assert main(["run", "nothing_like_it"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "shipped studies: evidence_20k" in err


def test_a_missing_path_is_an_error_not_the_shipped_study(tmp_path, capsys) -> None:
    missing = tmp_path / "studies" / "weinstein2017.toml"
    assert main(["run", str(missing), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"study file {str(missing)!r} does not exist" in err
    assert "bellmodels run weinstein2017" in err  # the way to the shipped one
    assert not (tmp_path / "o").exists()


def test_run_help_names_the_shipped_studies(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert f"shipped studies: {', '.join(studies.names())}" in capsys.readouterr().out


def test_the_wheel_declares_the_studies_as_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = pyproject["tool"]["setuptools"]["package-data"]["bellmodels"]
    assert "studies/*.toml" in data
    assert (ROOT / "bellmodels" / "studies" / "__init__.py").is_file()  # found as a package


def _copy_source(dest: Path) -> Path:
    """The files a wheel is built from, copied so the build leaves nothing in the checkout."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(
        ROOT / "bellmodels", dest / "bellmodels", ignore=shutil.ignore_patterns("__pycache__")
    )
    return dest


def _in(venv: Path, tool: str) -> str:
    return str(venv / ("Scripts" if os.name == "nt" else "bin") / tool)


@pytest.mark.slow
def test_a_wheel_in_a_fresh_venv_runs_the_main_job_by_name(tmp_path) -> None:
    """``pip wheel`` of the checkout, installed with its dependencies (from pip's index and cache)
    into a new venv without the system's packages; then, in an empty directory, the main job by
    its name with the smallest settings that still fit one model with PyMC: every model audited
    (the RBM trained), quantum-singlet fitted with 200 draws, no evidence, no figures."""
    src = _copy_source(tmp_path / "src")
    wheels = tmp_path / "wheels"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*cmd: str, cwd: Path = tmp_path, timeout: int = 1200) -> str:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert proc.returncode == 0, (
            f"{' '.join(cmd)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        )
        return proc.stdout

    run(sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(wheels), "-q")
    (wheel,) = wheels.glob("bellmodels-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    run(_in(venv, "python"), "-m", "pip", "install", "-q", str(wheel))
    work = tmp_path / "work"
    work.mkdir()
    listing = run(_in(venv, "python"), "-m", "bellmodels", "datasets", "list", cwd=work)
    assert "delft2015" in listing
    run(
        _in(venv, "bellmodels"),
        "run",
        "weinstein2017",
        "--out",
        "x",
        "--quiet",
        *("--set", "data.n_trials=2000", "--set", "inference.fit=false"),
        *("--set", "models.quantum-singlet.fit=true", "--set", "inference.tune=200"),
        *("--set", "models.quantum-singlet.inference={draws=200}"),
        *("--set", "inference.evidence=false", "--set", "report.figures=false"),
        cwd=work,
    )
    assert (work / "x" / "results.nc").is_file() and (work / "x" / "report.md").is_file()
    check = (
        "import xarray as xr; ds = xr.open_dataset('x/results.nc'); "
        "print(','.join(sorted({str(s) for s in ds['status'].values.ravel()})), "
        "ds.attrs['study'], int(ds['elpd_loo'].notnull().sum()))"
    )
    assert run(_in(venv, "python"), "-c", check, cwd=work).split() == ["done", "weinstein2017", "1"]
