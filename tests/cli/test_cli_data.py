"""The ``simulate``, ``datasets`` and ``audit`` commands (through ``bellmodels.cli.main``)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from bellmodels import Scenario
from bellmodels.cli import main
from bellmodels.data import read_counts, read_trials


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_audit_delft2015_json_prints_published_S_and_SE(capsys):
    code, out, err = run(capsys, "audit", "--data", "delft2015", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert f"{report['S']:.2f}" == "2.42"
    assert f"{report['S_se']:.2f}" == "0.20"
    assert report["correlators"][1][1] == pytest.approx(-31 / 51)


def test_audit_delft2015_json_via_subprocess():
    cmd = [
        sys.executable,
        "-c",
        "import sys; from bellmodels.cli import main; sys.exit(main())",
        "audit",
        "--data",
        "delft2015",
        "--json",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert round(report["S"], 2) == 2.42 and round(report["S_se"], 2) == 0.20


def test_audit_data_file_human_table(tmp_path, capsys):
    path = tmp_path / "sim.csv"
    assert run(capsys, "simulate", "--n-trials", "20000", "--seed", "4", "--out", str(path))[0] == 0
    code, out, _ = run(capsys, "audit", "--data", str(path), "--skip-min-mi")
    assert code == 0
    assert "S = max_k |S_k|" in out and "no-signalling" in out


def test_audit_model_json(capsys):
    code, out, err = run(capsys, "audit", "quantum-singlet", "--json", "--skip-min-mi")
    assert code == 0, err
    report = json.loads(out)
    assert report["S"] == pytest.approx(2 * np.sqrt(2), abs=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["audit", "--data", "delft2016"], "no data file or dataset named 'delft2016'"),
        (["audit", "--data", "missing/file.csv"], "'missing/file.csv'"),
        (["audit"], "give either a MODEL name or --data"),
        (["audit", "no-such-model"], "unknown model 'no-such-model'"),
        (["datasets", "show", "nope"], "unknown dataset 'nope'"),
        (["simulate", "--n-trials", "10", "--seed", "0", "--visibility", "1.5"], "visibility"),
        (
            ["simulate", "--n-trials", "10", "--seed", "0", "--form", "trials"],
            "--form trials needs",
        ),
    ],
)
def test_errors_exit_2_with_one_line_and_no_traceback(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_bad_data_file_names_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("setting_a,setting_b,outcome_a,outcome_b\n0,1,+1,-1\n0,1,+1,3\n")
    code, _, err = run(capsys, "audit", "--data", str(bad))
    assert code == 2
    assert "bad.csv: line 3, column 'outcome_b'" in err


def test_debug_shows_the_traceback():
    with pytest.raises(FileNotFoundError):
        main(["--debug", "audit", "--data", "delft2016"])


@pytest.mark.parametrize("suffix", [".csv", ".nc"])
def test_simulate_writes_a_readable_file(tmp_path, capsys, suffix):
    path = tmp_path / f"s{suffix}"
    code, _, err = run(capsys, "simulate", "--n-trials", "1e4", "--seed", "3", "--out", str(path))
    assert code == 0 and "wrote 10000" in err
    counts = read_counts(path)
    assert counts.total == 10_000
    again = tmp_path / f"again{suffix}"
    run(capsys, "simulate", "--n-trials", "10000", "--seed", "3", "--out", str(again))
    assert read_counts(again) == counts  # same seed, same data
    assert counts.kind == "complete"  # every simulated trial is in the table (# kind: / attr)


def test_simulate_trials_form_and_stdout(tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    code, *_ = run(
        capsys,
        "simulate",
        "--n-trials",
        "500",
        "--seed",
        "1",
        "--form",
        "trials",
        "--out",
        str(rows),
    )
    assert code == 0 and len(read_trials(rows)) == 500
    code, out, _ = run(capsys, "simulate", "--n-trials", "500", "--seed", "1", "--visibility", "0")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[:2] == ["# kind: complete", "setting_a,setting_b,outcome_a,outcome_b,count"]
    assert len(lines) == 18
    assert sum(int(line.rsplit(",", 1)[1]) for line in lines[2:]) == 500


def test_simulate_with_a_scenario_json(tmp_path, capsys):
    scn = Scenario.chained(3)
    spec = tmp_path / "k3.json"
    spec.write_text(scn.to_json())
    out = tmp_path / "k3.nc"
    argv = ["simulate", "--n-trials", "3000", "--seed", "0", "--scenario-json", str(spec)]
    assert run(capsys, *argv, "--out", str(out))[0] == 0
    assert read_counts(out).scenario == scn
    code, _, err = run(
        capsys, "simulate", "--n-trials", "5", "--seed", "0", "--scenario-json", "{}"
    )
    assert code == 2 and "--scenario-json: not a scenario" in err


def test_datasets_list_and_show(capsys):
    code, out, _ = run(capsys, "datasets", "list")
    assert code == 0 and "delft2015" in out and "weihs1998" in out and "2.42 ± 0.20" in out
    code, out, _ = run(capsys, "datasets", "list", "--json")
    assert {r["name"] for r in json.loads(out)} == {"delft2015", "vienna2015", "weihs1998"}
    code, out, _ = run(capsys, "datasets", "show", "delft2015")
    assert code == 0 and "10.1038/nature15759" in out and "(a', b'): 4, 20, 21, 6" in out
    code, out, _ = run(capsys, "datasets", "show", "weihs1998", "--json")
    record = json.loads(out)
    assert record["doi"] == "10.1103/PhysRevLett.81.5039"
    assert np.asarray(record["counts"]).sum() == 14_573
