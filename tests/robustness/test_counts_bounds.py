"""Probes of the one bound on counts (issue #27 item 2): the API, CSV, NetCDF, datasets, simulate.

Every count and every total is a whole number in 0..MAX_COUNT (2**53); anything else is refused
with the package's error naming the argument or the file, row and cell. Nothing wraps.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from bellmodels import Scenario, datasets, simulate_singlet
from bellmodels.data import MAX_COUNT, CountError, Counts, DataFormatError, read_counts
from bellmodels.scenario import DIMS_BEHAVIOUR

HEADER = "setting_a,setting_b,outcome_a,outcome_b,count\n"
CELL0 = r"counts\[setting_a=a, setting_b=b, outcome_a=-1, outcome_b=-1\]"


@pytest.fixture
def chsh():
    return Scenario.chsh()


def _netcdf(tmp_path, values, name="t.nc", **attrs):
    da = xr.DataArray(values, dims=DIMS_BEHAVIOUR, coords=Scenario.chsh().coords(), name="counts")
    da.attrs.update(attrs)
    path = tmp_path / name
    da.to_netcdf(path, engine="h5netcdf")
    return path


def test_max_count_is_the_float64_exact_integer_bound():
    """probe: ask what MAX_COUNT is -> 2**53, the last bound below which float64 holds every whole number."""
    assert MAX_COUNT == 2**53
    assert float(MAX_COUNT) == MAX_COUNT and float(MAX_COUNT + 1) != MAX_COUNT + 1
    assert float(MAX_COUNT - 1) == MAX_COUNT - 1


def test_counts_of_2_to_62_do_not_wrap(chsh):
    """probe: Counts(np.full((2, 2, 2, 2), 2**62)) -> CountError naming the first cell and MAX_COUNT, not total 0."""
    with pytest.raises(CountError, match=CELL0 + r": count 4611686018427387904 exceeds MAX_COUNT"):
        Counts(np.full((2, 2, 2, 2), 2**62), chsh)


def test_counts_whose_total_overflows_name_the_total(chsh):
    """probe: 16 cells of 2**50 (each fine, total 2**54) -> CountError on 'total' with the exact sum."""
    with pytest.raises(CountError, match=r"values: total: the counts add up to 18014398509481984"):
        Counts(np.full((2, 2, 2, 2), 2**50), chsh)


def test_counts_at_the_bound_are_kept_exactly(chsh):
    """probe: one cell of exactly 2**53, the rest 0 -> accepted, total exactly 2**53."""
    values = np.zeros((2, 2, 2, 2), dtype=np.int64)
    values[1, 0, 1, 0] = MAX_COUNT
    c = Counts(values, chsh)
    assert c.total == MAX_COUNT and int(c.values[1, 0, 1, 0]) == MAX_COUNT
    assert Counts(values.astype(float), chsh) == c  # 2.0**53 is a whole number too


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.uint64(2**64 - 1), "count 18446744073709551615 exceeds MAX_COUNT"),
        (2**70, "count 1180591620717411303424 exceeds MAX_COUNT"),
        (1e300, "exceeds MAX_COUNT"),
        (float("nan"), "count nan is not a non-negative whole number"),
        (float("inf"), "count inf is not a non-negative whole number"),
        (-1, "count -1 is not a non-negative whole number"),
        (2.5, "count 2.5 is not a non-negative whole number"),
        (MAX_COUNT + 1, "count 9007199254740993 exceeds MAX_COUNT"),
    ],
)
def test_bad_cell_values_are_refused_naming_the_cell(chsh, value, message):
    """probe: one cell that is too large, NaN, infinite, negative or fractional -> CountError naming cell and value."""
    values = np.zeros((2, 2, 2, 2), dtype=object)
    values[0, 1, 1, 0] = value
    with pytest.raises(CountError) as info:
        Counts(values, chsh)
    assert message in str(info.value)
    assert info.value.field == "counts[setting_a=a, setting_b=b', outcome_a=+1, outcome_b=-1]"
    assert info.value.index == (0, 1, 1, 0) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "values",
    [
        np.ones((2, 2, 2, 2), dtype=bool),
        np.full((2, 2, 2, 2), "3"),
        np.ones((2, 2, 2, 2), dtype=complex),
    ],
)
def test_non_numeric_dtypes_are_refused(chsh, values):
    """probe: counts as booleans, text or complex numbers -> CountError 'must be whole numbers, got dtype'."""
    with pytest.raises(CountError, match=r"values: counts must be whole numbers, got dtype"):
        Counts(values, chsh)


def test_wrong_shape_names_the_expected_shape(chsh):
    """probe: Counts(np.ones((2, 2, 2))) -> CountError naming the expected (2, 2, 2, 2) shape."""
    with pytest.raises(CountError, match=r"must have shape \(2, 2, 2, 2\)"):
        Counts(np.ones((2, 2, 2)), chsh)


def test_csv_count_just_above_the_bound_is_read_exactly(tmp_path):
    """probe: a CSV count of 9007199254740993 (2**53 + 1, rounds to 2**53 in float64) -> refused, file/line/column named."""
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "0,0,1,1,5\n0,1,1,1,9007199254740993\n")
    with pytest.raises(DataFormatError, match=r"big\.csv: line 3, column 'count': count "):
        read_counts(path)
    path.write_text(HEADER + "0,1,1,1,9007199254740992\n")
    assert read_counts(path).total == MAX_COUNT


@pytest.mark.parametrize("text", ["1e400", "1e999999999", "99999999999999999999999"])
def test_csv_huge_counts_are_refused_quickly(tmp_path, text):
    """probe: a CSV count of 1e400 / 1e999999999 / 23 digits -> 'exceeds MAX_COUNT' naming the line (no hang, no inf)."""
    path = tmp_path / "huge.csv"
    path.write_text(HEADER + f"0,0,1,1,{text}\n")
    with pytest.raises(
        DataFormatError, match=r"huge\.csv: line 2, column 'count': count .* exceeds"
    ):
        read_counts(path)


def test_csv_total_over_the_bound_names_the_row(tmp_path):
    """probe: a CSV table whose cells are each 2**52 but add up past 2**53 -> error on the row where the sum passes it."""
    rows = "".join(f"{a},{b},1,1,{2**52}\n" for a in range(2) for b in range(2))
    path = tmp_path / "sum.csv"
    path.write_text(HEADER + rows)
    with pytest.raises(
        DataFormatError, match=r"sum\.csv: line 4, column 'count': the counts up to this row add up"
    ):
        read_counts(path)


def test_csv_float_counts_are_whole_or_refused(tmp_path):
    """probe: CSV counts written as 3.0 and 1e3 -> read as 3 and 1000; 1e-3 -> refused as not whole."""
    path = tmp_path / "f.csv"
    path.write_text(HEADER + "0,0,1,1,3.0\n0,1,1,1,1e3\n")
    assert read_counts(path).total == 1003
    path.write_text(HEADER + "0,0,1,1,1e-3\n")
    with pytest.raises(DataFormatError, match=r"line 2, column 'count': count '1e-3' is not"):
        read_counts(path)


@pytest.mark.parametrize(
    ("dtype", "value", "message"),
    [
        (np.int64, 2**62, "count 4611686018427387904 exceeds MAX_COUNT"),
        (np.uint64, 2**64 - 1, "count 18446744073709551615 exceeds MAX_COUNT"),
        (np.float64, 1e20, "count 100000000000000000000 exceeds MAX_COUNT"),
        (np.float64, np.nan, "count nan is not a non-negative whole number"),
        (np.int64, -5, "count -5 is not a non-negative whole number"),
        (np.float32, 0.5, "count 0.5 is not a non-negative whole number"),
    ],
)
def test_netcdf_large_or_bad_counts_name_file_and_cell(tmp_path, dtype, value, message):
    """probe: a NetCDF table with a count of 2**62, 2**64-1, 1e20, NaN, -5 or 0.5 -> DataFormatError naming the file and cell."""
    values = np.ones((2, 2, 2, 2), dtype=dtype)
    values[1, 1, 0, 0] = value
    path = _netcdf(tmp_path, values)
    with pytest.raises(DataFormatError) as info:
        read_counts(path)
    text = str(info.value)
    assert text.startswith(f"{path}: field counts[setting_a=a', setting_b=b', outcome_a=-1")
    assert message in text


def test_netcdf_total_over_the_bound_is_refused(tmp_path):
    """probe: a NetCDF table of 16 cells of 2**50 (total 2**54) -> DataFormatError 'field total', not 'holds no trials'."""
    path = _netcdf(tmp_path, np.full((2, 2, 2, 2), 2**50, dtype=np.int64))
    with pytest.raises(DataFormatError, match=r"t\.nc: field total: the counts add up to"):
        read_counts(path)


def test_netcdf_boolean_counts_are_refused(tmp_path):
    """probe: a NetCDF table of booleans -> DataFormatError naming the dtype."""
    path = _netcdf(tmp_path, np.ones((2, 2, 2, 2), dtype=bool))
    with pytest.raises(DataFormatError, match=r"t\.nc: field counts: counts must be whole numbers"):
        read_counts(path)


def test_simulate_refuses_more_trials_than_the_bound(chsh):
    """probe: simulate_singlet(n_trials=2**53 + 1) -> ValueError naming n and MAX_COUNT, before drawing anything."""
    with pytest.raises(
        ValueError, match=r"n_trials = 9007199254740993 exceeds MAX_COUNT = 2\*\*53"
    ):
        simulate_singlet(chsh, MAX_COUNT + 1, seed=0)


def test_shipped_datasets_are_within_the_bound():
    """probe: load every shipped dataset -> each total is exact and within MAX_COUNT (vienna2015 = 3,502,784,150)."""
    totals = {name: datasets.load(name).total for name in datasets.names()}
    assert totals["vienna2015"] == 3_502_784_150
    assert all(0 < t <= MAX_COUNT for t in totals.values())


def test_a_dataarray_with_wrong_dims_is_refused(chsh):
    """probe: Counts(xr.DataArray with dims x, y, z, w) -> ValueError naming the expected dims, not a transpose traceback."""
    da = xr.DataArray(np.ones((2, 2, 2, 2)), dims=("x", "y", "z", "w"))
    with pytest.raises(ValueError, match=r"values: dims must be \['setting_a', 'setting_b'"):
        Counts(da, chsh)


def test_counts_from_python_integers_beyond_int64_do_not_overflow(chsh):
    """probe: Counts of nested Python lists holding 2**64 -> CountError 'exceeds MAX_COUNT', not an OverflowError."""
    values = [[[[0, 0], [0, 0]], [[0, 0], [0, 0]]], [[[0, 0], [0, 0]], [[0, 0], [0, 2**64]]]]
    with pytest.raises(CountError, match=r"count 18446744073709551616 exceeds MAX_COUNT"):
        Counts(values, chsh)
