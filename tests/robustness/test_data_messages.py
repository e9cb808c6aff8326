"""Probes of the data room's messages (issue #27 item 10) and size bounds (item 6), API and CLI.

Each message names the file (or argument), the row or field, and what is wrong; a file that is
not a Bell-test table is named but its content is never echoed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from bellmodels import Scenario, Trials
from bellmodels.cli import main
from bellmodels.data import Counts, DataFormatError, read_counts, read_trials
from bellmodels.models.boltzmann import RBM
from bellmodels.models.boltzmann.training import MAX_TRAINED_HIDDEN, fit_machine
from bellmodels.significance import significance, test_factor_test

COUNT_HEADER = "setting_a,setting_b,outcome_a,outcome_b,count\n"
SECRET = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv: str) -> str:
    """stderr of a command that argparse refuses (exit 2)."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("command", ["test", "audit"])
def test_a_directory_as_data_is_named_as_a_directory(capsys, tmp_path, command):
    """probe: bellmodels test|audit --data <a directory> -> exit 2, '<dir>: is a directory, not a data file'."""
    code, _, err = run(capsys, command, "--data", str(tmp_path))
    assert code == 2
    assert f"{tmp_path}: is a directory, not a data file" in err
    assert "no data file or dataset named" not in err


def test_read_counts_of_a_directory_names_it(tmp_path):
    """probe: read_counts(<directory>) / read_trials(<directory>.nc) -> DataFormatError 'is a directory'."""
    with pytest.raises(DataFormatError, match=r"is a directory, not a data file"):
        read_counts(tmp_path)
    (tmp_path / "d.nc").mkdir()
    with pytest.raises(DataFormatError, match=r"d\.nc: is a directory"):
        read_counts(tmp_path / "d.nc")
    with pytest.raises(DataFormatError, match=r"d\.nc: is a directory"):
        read_trials(tmp_path / "d.nc")


@pytest.mark.parametrize(
    ("name", "text"),
    [("header.csv", COUNT_HEADER), ("zeros.csv", COUNT_HEADER + "0,0,1,1,0\n1,1,-1,-1,0\n")],
)
def test_a_table_without_trials_names_the_file(capsys, tmp_path, name, text):
    """probe: bellmodels test --data <header-only or all-zero table> -> exit 2, '<file>: the table holds no trials'."""
    path = tmp_path / name
    path.write_text(text)
    code, _, err = run(capsys, "test", "--data", str(path), "--bootstrap", "0")
    assert code == 2 and f"{path}: the table holds no trials" in err
    with pytest.raises(ValueError, match=rf"^{path}: the table holds no trials"):
        significance(read_counts(path), bootstrap=0)


def test_empty_trials_name_themselves():
    """probe: test_factor_test(Trials with no trials) -> ValueError 'trials: the table holds no trials'."""
    trials = Trials(Scenario.chsh(), *(np.empty(0, dtype=np.int8) for _ in range(4)))
    with pytest.raises(ValueError, match=r"^trials: the table holds no trials"):
        test_factor_test(trials)


def test_a_system_file_is_named_but_never_echoed(capsys, tmp_path):
    """probe: bellmodels test --data <a passwd-like file> -> names the file, says 'not a Bell-test table', echoes none of its text."""
    path = tmp_path / "passwd"
    path.write_text(SECRET)
    code, _, err = run(capsys, "test", "--data", str(path), "--bootstrap", "0")
    assert code == 2
    assert f"{path}: line 1: not a Bell-test table" in err
    for word in ("root", "daemon", "bash", "nologin"):
        assert word not in err.replace(str(path), "")
    with pytest.raises(DataFormatError) as info:
        read_counts(path)
    assert info.value.line == 1 and "root" not in info.value.reason


def test_a_binary_file_is_named_but_never_echoed(tmp_path):
    """probe: read_counts of PNG bytes saved as .csv -> DataFormatError naming the file, no bytes of it echoed."""
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR,secretword,\xff\xfe")
    with pytest.raises(DataFormatError) as info:
        read_counts(path)
    assert str(info.value).startswith(str(path)) and "secretword" not in str(info.value)


def test_a_long_unknown_column_is_cut(tmp_path):
    """probe: a Bell-test header with an extra 500-character column -> 'unknown column(s)' quoting 40 characters of it."""
    path = tmp_path / "wide.csv"
    path.write_text(COUNT_HEADER.strip() + ",weight" + "w" * 500 + "\n0,0,1,1,1,2\n")
    with pytest.raises(
        DataFormatError, match=r"wide\.csv: line 1, column 'weightw+\.\.\.'"
    ) as info:
        read_counts(path)
    assert len(str(info.value)) < 400


def test_a_missing_column_message_does_not_echo_the_header(tmp_path):
    """probe: a header with a Bell-test column but not all -> 'missing column(s)' naming the missing ones, not the header's text."""
    path = tmp_path / "part.csv"
    path.write_text("setting_a,password123,outcome_a\n0,1,1\n")
    with pytest.raises(
        DataFormatError, match=r"part\.csv: line 1, column 'setting_b': missing"
    ) as info:
        read_counts(path)
    assert "password123" not in str(info.value)


def test_netcdf_garbage_and_several_variables_name_the_file(tmp_path):
    """probe: read_counts of text saved as .nc, and of a NetCDF with two variables -> DataFormatError naming the file."""
    fake = tmp_path / "fake.nc"
    fake.write_text("secretword " * 50)
    with pytest.raises(DataFormatError, match=r"fake\.nc: not a NetCDF count array") as info:
        read_counts(fake)
    assert "secretword" not in str(info.value)
    two = tmp_path / "two.nc"
    da = xr.DataArray(
        np.ones((2, 2, 2, 2)), dims=("setting_a", "setting_b", "outcome_a", "outcome_b")
    )
    xr.Dataset({"a": da, "b": da}).to_netcdf(two, engine="h5netcdf")
    with pytest.raises(DataFormatError, match=r"two\.nc: not a NetCDF count array"):
        read_counts(two)


def test_netcdf_bad_attributes_name_the_attribute(tmp_path):
    """probe: a NetCDF table whose 'scenario' is not a scenario, or whose 'provenance' is a JSON list -> the attribute named."""
    counts = Counts(np.ones((2, 2, 2, 2), dtype=int), Scenario.chsh())
    for attr, text, pattern in [
        ("scenario", "[1, 2]", r"field scenario: attribute 'scenario' is not a scenario"),
        ("provenance", "[1, 2]", r"field provenance: attribute 'provenance' must be a JSON object"),
        ("provenance", "{oops", r"field provenance: attribute 'provenance' is not JSON"),
    ]:
        da = counts.array.copy()
        da.attrs[attr] = text
        path = tmp_path / f"{attr}.nc"
        da.to_netcdf(path, engine="h5netcdf")
        with pytest.raises(DataFormatError, match=pattern):
            read_counts(path)


def test_netcdf_with_wrong_outcome_coordinates_names_the_dimension(tmp_path):
    """probe: a NetCDF table whose outcome_b coordinate is [0, 1] -> DataFormatError naming outcome_b and [-1, +1]."""
    da = Counts(np.ones((2, 2, 2, 2), dtype=int), Scenario.chsh()).array
    da = da.assign_coords(outcome_b=[0, 1])
    path = tmp_path / "coords.nc"
    da.to_netcdf(path, engine="h5netcdf")
    with pytest.raises(
        DataFormatError, match=r"coords\.nc: field outcome_b: coordinate outcome_b must be"
    ):
        read_counts(path)


def test_cli_large_count_names_file_line_and_column(capsys, tmp_path):
    """probe: bellmodels test --data <CSV with a count of 2**62> -> exit 2 naming file, line 2, column 'count' and MAX_COUNT."""
    path = tmp_path / "huge.csv"
    path.write_text(COUNT_HEADER + f"0,0,1,1,{2**62}\n")
    code, _, err = run(capsys, "test", "--data", str(path), "--bootstrap", "0")
    assert code == 2
    assert f"{path}: line 2, column 'count': count '4611686018427387904' exceeds MAX_COUNT" in err


def test_cli_test_on_a_table_with_a_2_to_40_count(capsys, tmp_path):
    """probe: bellmodels test --data <table with one count of 2**40> --json -> finishes, split sizes add up to the total."""
    path = tmp_path / "big.csv"
    path.write_text(COUNT_HEADER + f"0,0,1,1,{2**40}\n0,1,1,-1,30\n1,0,-1,1,20\n1,1,1,1,10\n")
    code, out, err = run(capsys, "test", "--data", str(path), "--bootstrap", "0", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["test_factor"]["n_train"] + result["test_factor"]["n_test"] == 2**40 + 60


def test_train_rbm_refuses_more_hidden_units_than_its_audit_lists(capsys):
    """probe: bellmodels train-rbm --n-hidden 100000 -> exit 2 at once, naming MAX_ENUMERATED_HIDDEN = 16 and why."""
    err = usage_error(capsys, "train-rbm", "--data", "weihs1998", "--n-hidden", "100000")
    assert "argument --n-hidden: 100000 hidden units" in err
    assert "at most MAX_ENUMERATED_HIDDEN = 16" in err


def test_fit_machine_refuses_more_than_max_trained_hidden():
    """probe: fit_machine on an RBM with 100000 hidden units -> ValueError naming MAX_TRAINED_HIDDEN = 1024 before any training."""
    counts = Counts(np.full((2, 2, 2, 2), 5), Scenario.chsh())
    with pytest.raises(ValueError, match=r"n_hidden = 100000 exceeds MAX_TRAINED_HIDDEN = 1024"):
        fit_machine(RBM(n_hidden=100_000, seed=0), counts)
    assert MAX_TRAINED_HIDDEN >= 4 * counts.values.size  # Le Roux & Bengio: m + 1 suffice


def test_simulate_refuses_an_n_beyond_the_bound(capsys):
    """probe: bellmodels simulate --n-trials 1e17 -> exit 2, naming MAX_COUNT = 2**53."""
    err = usage_error(capsys, "simulate", "--n-trials", "1e17", "--seed", "1")
    assert "argument --n-trials: '1e17' exceeds MAX_COUNT = 2**53" in err


def test_counts_repr_and_html_table():
    """probe: end a notebook cell with a Counts -> repr with total, settings and source; HTML table settings x outcomes."""
    values = np.arange(16).reshape(2, 2, 2, 2)
    c = Counts(values, Scenario.chsh(), provenance={"source": "lab<1>.csv"})
    assert repr(c) == "Counts(total=120, settings=2x2, source='lab<1>.csv')"
    html = c._repr_html_()
    assert "<th>(a, b&#x27;)</th><td>7</td><td>6</td><td>5</td><td>4</td><td>22</td>" in html
    assert "lab&lt;1&gt;.csv" in html and "<1>" not in html
    assert html.count("<tr>") == 1 + 4


def test_a_long_bad_setting_cell_is_quoted_cut(tmp_path):
    """probe: a per-trial row whose setting cell is 10000 characters -> the line and column named, the cell quoted in at most 42 characters."""
    path = tmp_path / "long.csv"
    path.write_text("setting_a,setting_b,outcome_a,outcome_b\n" + "z" * 10_000 + ",b,+1,-1\n")
    with pytest.raises(
        DataFormatError, match=r"long\.csv: line 2, column 'setting_a': 'z+\.\.\. is not"
    ) as info:
        read_counts(path)
    assert len(info.value.reason) < 150


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--n-restarts", "5000", "argument --n-restarts: 5000 is more than MAX_RESTARTS = 1_000"),
        ("--n-iter", "2000000", "2000000 is more than MAX_ITERATIONS = 1_000_000"),
        ("--n-iter", "0", "must be a positive whole number, got '0'"),
    ],
)
def test_train_rbm_bounds_its_run_time(capsys, flag, value, message):
    """probe: bellmodels train-rbm --n-restarts 5000 / --n-iter 2000000 / 0 -> exit 2 at once, naming the bound."""
    assert message in usage_error(capsys, "train-rbm", "--data", "weihs1998", flag, value)
