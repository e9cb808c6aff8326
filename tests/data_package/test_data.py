"""Reading and writing Bell-test data: CSV count tables, per-trial CSV (streamed), NetCDF."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bellmodels import Counts, Scenario, Trials
from bellmodels.data import DataFormatError, read_counts, read_trials, write_counts

TRIAL_HEADER = "setting_a,setting_b,outcome_a,outcome_b\n"
COUNT_HEADER = "setting_a,setting_b,outcome_a,outcome_b,count\n"


def random_trials(scenario: Scenario, n: int, seed: int) -> Trials:
    rng = np.random.default_rng(seed)
    return Trials(
        scenario,
        rng.integers(0, scenario.n_a, n),
        rng.integers(0, scenario.n_b, n),
        rng.choice([-1, 1], n),
        rng.choice([-1, 1], n),
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "form"), [("c.csv", "counts"), ("t.csv", "trials"), ("c.nc", "counts")]
)
def test_round_trip_every_format(tmp_path, chsh, name, form):
    trials = random_trials(chsh, 2000, seed=3)
    path = write_counts(trials, tmp_path / name, form=form)
    again = read_counts(path)
    assert again == trials.counts()
    assert again.total == 2000
    if form == "trials":
        back = read_trials(path)
        for field in ("setting_a", "setting_b", "outcome_a", "outcome_b"):
            assert np.array_equal(getattr(back, field), getattr(trials, field)), field


def test_round_trip_counts_to_per_trial_rows_and_k3_scenario(tmp_path):
    scn = Scenario.chained(3)
    counts = random_trials(scn, 500, seed=1).counts()
    path = write_counts(counts, tmp_path / "rows.csv", form="trials")
    assert sum(1 for _ in path.open()) == 1 + 500
    assert read_counts(path, scenario=scn) == counts


def test_netcdf_keeps_scenario_and_provenance(tmp_path):
    scn = Scenario.from_angles([0.0, 0.3, 1.0], [0.2, 0.4], labels_a=["x", "y", "z"])
    counts = Counts(np.arange(3 * 2 * 4).reshape(scn.shape), scn, provenance={"lab": "test"})
    path = write_counts(counts, tmp_path / "c.nc")
    again = read_counts(path)  # no scenario argument needed: it is in the file
    assert again == counts and again.scenario == scn
    assert again.provenance["lab"] == "test"
    with pytest.raises(DataFormatError, match=r"c\.nc: field scenario: the file's scenario"):
        read_counts(path, scenario=Scenario.chsh())


def test_labels_and_outcome_spellings_are_accepted(tmp_path, chsh):
    path = write(
        tmp_path,
        "labels.csv",
        TRIAL_HEADER + "a,b',+1,-1\na',b,1,-1\n1,1,-1,-1\n0,1, 1,-1\n",
    )
    counts = read_counts(path)
    assert counts.values[0, 1, 1, 0] == 2  # (a, b', +1, -1) twice
    assert counts.values[1, 0, 1, 0] == 1 and counts.values[1, 1, 0, 0] == 1
    assert counts.total == 4


def test_zero_trial_pairs_are_kept_and_reported(tmp_path):
    path = write(tmp_path, "z.csv", COUNT_HEADER + "0,0,+1,+1,5\n1,1,-1,+1,2\n")
    counts = read_counts(path)
    assert counts.total == 7
    assert counts.empty_pairs() == [("a", "b'"), ("a'", "b")]
    header_only = read_counts(write(tmp_path, "h.csv", TRIAL_HEADER))
    assert header_only.total == 0 and len(header_only.empty_pairs()) == 4


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path, chsh, monkeypatch):
    counts = random_trials(chsh, 100, seed=0).counts()
    target = write_counts(counts, tmp_path / "c.csv")
    before = target.read_text()
    other = random_trials(chsh, 50, seed=1).counts()

    def broken_write(data, tmp, form):
        Path(tmp).write_text("half a fi")
        raise OSError("disk full")

    monkeypatch.setattr("bellmodels.data.files._write_csv", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_counts(other, target)
    assert target.read_text() == before  # the old file is untouched
    assert sorted(os.listdir(tmp_path)) == ["c.csv"]  # and the temp file is gone


def test_write_rejects_bad_form_and_trials_as_netcdf(tmp_path, chsh):
    counts = random_trials(chsh, 10, seed=0).counts()
    with pytest.raises(ValueError, match="form must be"):
        write_counts(counts, tmp_path / "c.csv", form="rows")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NetCDF files hold count tables"):
        write_counts(counts, tmp_path / "c.nc", form="trials")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_counts(counts, tmp_path / "no" / "c.csv")


# -- streaming --------------------------------------------------------------------------------


def test_chunked_reading_equals_one_chunk(tmp_path, chsh):
    trials = random_trials(chsh, 201, seed=7)
    path = write_counts(trials, tmp_path / "t.csv", form="trials")
    whole = read_counts(path, chunk_rows=10**6)
    for chunk_rows in (7, 50, 200):
        assert read_counts(path, chunk_rows=chunk_rows) == whole
    assert whole == trials.counts()
    assert read_counts(path, chunk_rows=7).provenance["rows"] == 201
    small = write_counts(random_trials(chsh, 12, seed=8), tmp_path / "s.csv", form="trials")
    assert read_counts(small, chunk_rows=1) == read_counts(small)


def test_error_in_a_later_chunk_reports_the_absolute_line(tmp_path, chsh):
    trials = random_trials(chsh, 100, seed=2)
    path = write_counts(trials, tmp_path / "t.csv", form="trials")
    lines = path.read_text().splitlines(keepends=True)
    lines[60] = "1,0,+1,2\n"  # line 61 of the file (the header is line 1)
    path.write_text("".join(lines))
    for chunk_rows in (7, 60, 1000):
        with pytest.raises(DataFormatError) as info:
            read_counts(path, chunk_rows=chunk_rows)
        assert info.value.line == 61 and info.value.field == "outcome_b"
        assert "t.csv: line 61, column 'outcome_b': 2 is not +1 or -1" in str(info.value)


def test_duplicate_cell_across_chunks_is_an_error(tmp_path):
    text = COUNT_HEADER + "0,0,+1,+1,1\n0,1,+1,+1,1\n1,0,+1,+1,1\na,b,1,1,4\n"
    path = write(tmp_path, "dup.csv", text)
    for chunk_rows in (1, 2, 100):
        with pytest.raises(
            DataFormatError, match=r"line 5, column 'count': duplicate row .*line 2"
        ):
            read_counts(path, chunk_rows=chunk_rows)


# -- validation: one test per rule, each asserting the message names file, line and column ----


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            TRIAL_HEADER + "0,1,+1,-1\nc,b,1,1\n",
            r"bad\.csv: line 3, column 'setting_a': 'c' is not an index 0\.\.1 or one of the labels",
        ),
        (TRIAL_HEADER + "0,2,+1,-1\n", r"line 2, column 'setting_b': 2 is not an index"),
        (TRIAL_HEADER + "0,1,+1,-1\n0,1,0,1\n", r"line 3, column 'outcome_a': 0 is not \+1 or -1"),
        (TRIAL_HEADER + "0,1,+1,-1\n0,1,1,yes\n", r"line 3, column 'outcome_b': 'yes' is not"),
        (TRIAL_HEADER + "0,1,+1,-1\n0,,1,1\n", r"line 3, column 'setting_b': empty cell \(NaN\)"),
        (TRIAL_HEADER + "0,1,+1,-1\n0,1,NaN,1\n", r"line 3, column 'outcome_a': empty cell"),
        (TRIAL_HEADER + "0,1,+1,-1\n\n0,1,1,1\n", r"line 3, column 'setting_a': blank line"),
        (TRIAL_HEADER + "0,1,+1,-1\n0,1,1,1,5\n", r"line 3: row has 5 fields, the header has 4"),
        (COUNT_HEADER + "0,1,+1,-1,3\n0,0,1,1,-2\n", r"line 3, column 'count': negative count"),
        (COUNT_HEADER + "0,0,1,1,2.5\n", r"line 2, column 'count': count '2\.5' is not a non-neg"),
        (COUNT_HEADER + "0,0,1,1,abc\n", r"line 2, column 'count': count 'abc' is not"),
        (COUNT_HEADER + "0,0,1,1,\n", r"line 2, column 'count': empty cell"),
        (
            "setting_a,setting_b,outcome_a\n0,1,+1\n",
            r"bad\.csv: line 1, column 'outcome_b': missing column\(s\) \['outcome_b'\]",
        ),
        (
            "setting_a,setting_b,outcome_a,outcome_b,weight\n0,1,+1,-1,3\n",
            r"line 1, column 'weight': unknown column\(s\) \['weight'\]",
        ),
        ("", r"bad\.csv: line 1: empty file"),
    ],
)
def test_bad_csv_names_file_line_and_column(tmp_path, text, pattern):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(DataFormatError, match=pattern):
        read_counts(path)


def test_earliest_bad_line_is_reported_whatever_the_column(tmp_path):
    path = write(tmp_path, "two.csv", TRIAL_HEADER + "0,1,+1,-1\n0,1,+1,7\n9,1,+1,-1\n")
    with pytest.raises(DataFormatError, match=r"line 3, column 'outcome_b'"):
        read_counts(path)


def test_missing_file_and_bad_netcdf(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        read_counts(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError, match=r"nope\.nc"):
        read_counts(tmp_path / "nope.nc")
    fake = write(tmp_path, "fake.nc", "not netcdf")
    with pytest.raises(DataFormatError, match=r"fake\.nc: not a NetCDF count array"):
        read_counts(fake)


def test_netcdf_with_a_bad_cell_names_the_cell(tmp_path, chsh):
    counts = random_trials(chsh, 100, seed=0).counts()
    da = counts.array.astype(float)
    da[1, 0, 1, 0] = np.nan
    path = tmp_path / "nan.nc"
    da.to_netcdf(path, engine="h5netcdf")
    with pytest.raises(
        DataFormatError,
        match=r"nan\.nc: field counts\[setting_a=a', setting_b=b, outcome_a=\+1, outcome_b=-1\]: "
        r"count nan is not a non-negative whole number",
    ):
        read_counts(path)


def test_read_trials_refuses_a_count_table(tmp_path):
    path = write(tmp_path, "c.csv", COUNT_HEADER + "0,0,1,1,2\n")
    with pytest.raises(DataFormatError, match="count table"):
        read_trials(path)


# -- property: any count table survives every format ------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    ka=st.integers(2, 3),
    kb=st.integers(2, 3),
    seed=st.integers(0, 2**32 - 1),
    zero_pair=st.booleans(),
)
def test_any_counts_round_trip_through_every_format(tmp_path_factory, ka, kb, seed, zero_pair):
    rng = np.random.default_rng(seed)
    scn = Scenario.from_angles(rng.uniform(0, np.pi, ka), rng.uniform(0, np.pi, kb))
    values = rng.integers(0, 40, size=scn.shape)
    if zero_pair:
        values[ka - 1, kb - 1] = 0
    counts = Counts(values, scn)
    tmp = tmp_path_factory.mktemp("rt")
    for name, form in (("c.csv", "counts"), ("t.csv", "trials"), ("c.nc", "counts")):
        again = read_counts(write_counts(counts, tmp / name, form=form), scenario=scn)
        assert again == counts, name
        assert again.empty_pairs() == counts.empty_pairs()
