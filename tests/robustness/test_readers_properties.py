"""Property-based probes of the CSV and NetCDF readers (hypothesis).

Whatever the file holds -- random bytes, CSV text with plausible and implausible cells and
headers, NetCDF files with random variables, dims, dtypes, values and attributes -- reading it
gives a valid :class:`Counts` / :class:`Trials` or :class:`DataFormatError` naming the file;
never another exception, never a hang (each example has a hypothesis ``deadline``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bellmodels import Scenario
from bellmodels.data import MAX_COUNT, Counts, DataFormatError, Trials, read_counts, read_trials
from bellmodels.data.bounds import cell_name
from bellmodels.scenario import DIMS_BEHAVIOUR

SETTINGS = settings(
    max_examples=60,
    deadline=5000,  # ms per example: generous for a loaded 2-core machine, far below a hang
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NETCDF_SETTINGS = settings(SETTINGS, max_examples=40)  # a NetCDF write + read is ~50 ms
TRIAL_COLUMNS = ["setting_a", "setting_b", "outcome_a", "outcome_b"]

plausible = st.sampled_from(["0", "1", "a", "a'", "b", "b'", "+1", "-1", "1.0", "3", " 2 "])
implausible = st.one_of(
    st.sampled_from(
        ["", "NaN", "inf", "-0", "2.5", "1e400", "1e999999999", "9007199254740993", '"1,2"']
    ),
    st.sampled_from(["0x10", "\u00a0", "１", "None", "True", "-1e-3", "18446744073709551616"]),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)
cell = st.one_of(plausible, plausible, implausible)
header = st.one_of(
    st.just(TRIAL_COLUMNS),
    st.just([*TRIAL_COLUMNS, "count"]),
    st.permutations([*TRIAL_COLUMNS, "count"]),
    st.lists(st.sampled_from([*TRIAL_COLUMNS, "count", "weight", " count ", "x"]), max_size=7),
    st.lists(st.text(max_size=8), max_size=4),
)


def _check(path: Path, read) -> None:
    """``read(path)`` is valid data or DataFormatError naming ``path``; nothing else."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = read(path)
    except DataFormatError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        assert exc.path == str(path)
        return
    if isinstance(result, Counts):
        values = result.values
        assert values.dtype == np.int64 and (values >= 0).all()
        assert result.total == sum(values.ravel().tolist()) <= MAX_COUNT
    else:
        assert isinstance(result, Trials)
        assert set(np.unique(result.outcome_a)) <= {-1, 1}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("readers")


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".txt", ".nc"]))
def test_random_bytes_give_counts_or_a_data_format_error(folder, data, suffix):
    """probe: read_counts / read_trials of random bytes (as .csv, .txt, .nc) -> Counts/Trials or DataFormatError naming the file."""
    path = folder / f"bytes{suffix}"
    path.write_bytes(data)
    _check(path, read_counts)
    _check(path, read_trials)


@SETTINGS
@given(
    columns=header,
    rows=st.lists(st.lists(cell, min_size=3, max_size=6), max_size=8),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_random_csv_text_gives_counts_or_a_data_format_error(folder, columns, rows, newline, bom):
    """probe: read_counts / read_trials of CSV text with random headers and cells -> Counts/Trials or DataFormatError naming the file."""
    lines = [",".join(columns)] + [",".join(r) for r in rows]
    text = ("\ufeff" if bom else "") + newline.join(lines) + newline
    path = folder / "text.csv"
    path.write_text(text, encoding="utf-8", newline="")
    _check(path, read_counts)
    _check(path, read_trials)


@SETTINGS
@given(
    counts=st.lists(
        st.sampled_from(["0", "1", "7", "3.0", "-2", "2.5", "x", "", "1e16"]),
        min_size=16,
        max_size=16,
    ),
)
def test_count_tables_with_random_counts_are_read_exactly(folder, counts):
    """probe: a full count table whose counts are random text -> the exact counts when all are whole and in range, else the first bad line named."""
    rows = [
        f"{a},{b},{x},{y},{n}"
        for (a, b, x, y), n in zip(
            [(a, b, x, y) for a in (0, 1) for b in (0, 1) for x in (-1, 1) for y in (-1, 1)],
            counts,
            strict=True,
        )
    ]
    path = folder / "table.csv"
    path.write_text("\n".join(["setting_a,setting_b,outcome_a,outcome_b,count", *rows]) + "\n")
    good = {"0": 0, "1": 1, "7": 7, "3.0": 3}
    if all(c in good for c in counts):
        c = read_counts(path)
        assert c.values.ravel().tolist() == [good[n] for n in counts]
        return
    first = next(i for i, c in enumerate(counts) if c not in good)
    with pytest.raises(DataFormatError) as info:
        read_counts(path)
    assert info.value.line == first + 2 and info.value.field == "count"
    if counts[first] == "1e16":
        assert "exceeds MAX_COUNT = 2**53" in str(info.value)


dims = st.lists(
    st.sampled_from([*DIMS_BEHAVIOUR, "trial", "x"]), min_size=0, max_size=5, unique=True
)
dtypes = st.sampled_from(["int8", "int64", "uint64", "float32", "float64", "bool"])
attr_values = st.one_of(
    st.text(max_size=20),
    st.integers(-(2**31), 2**31),
    st.floats(allow_nan=True),
    st.just(Scenario.chsh().to_json()),
    st.just(json.dumps({"angles_a": [0, 1]})),
    st.just(json.dumps({"source": "x"})),
    st.just("[1, 2]"),
)


@NETCDF_SETTINGS
@given(
    dim_names=dims,
    sizes=st.lists(st.integers(1, 3), min_size=5, max_size=5),
    dtype=dtypes,
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1, 10**6, 2**53, 2**62]),
    coord_kind=st.sampled_from(["outcomes", "reversed", "strings", "none", "zeros"]),
    attrs=st.dictionaries(
        st.sampled_from(["scenario", "provenance", "units", "other"]), attr_values
    ),
    extra_variable=st.booleans(),
)
def test_random_netcdf_files_give_counts_or_a_data_format_error(
    folder, dim_names, sizes, dtype, seed, scale, coord_kind, attrs, extra_variable
):
    """probe: read_counts of NetCDF files with random dims, sizes, dtypes, values, coords and attrs -> Counts or DataFormatError naming the file."""
    rng = np.random.default_rng(seed)
    shape = tuple(
        2 if d.startswith("outcome") else s for d, s in zip(dim_names, sizes, strict=False)
    )
    raw = rng.integers(-2, 4, size=shape) * scale if scale < 2**62 else np.full(shape, scale)
    if dtype.startswith("float"):
        raw = raw.astype(float)
        raw.flat[: rng.integers(0, 2)] = np.nan
    values = raw.astype(dtype)
    coords = {}
    for d in dim_names:
        if d.startswith("outcome") and coord_kind != "none":
            coords[d] = {
                "outcomes": [-1, 1],
                "reversed": [1, -1],
                "strings": ["-", "+"],
                "zeros": [0, 0],
            }[coord_kind]
    da = xr.DataArray(values, dims=dim_names, coords=coords, name="counts", attrs=attrs)
    path = folder / "random.nc"
    try:
        obj = da.to_dataset() if not extra_variable else xr.Dataset({"counts": da, "more": da})
        obj.to_netcdf(path, engine="h5netcdf")
    except (TypeError, ValueError):  # a combination netCDF cannot store: not a reader probe
        assume(False)
    _check(path, read_counts)


@NETCDF_SETTINGS
@given(
    dtype=st.sampled_from(["int8", "int32", "int64", "uint32", "uint64", "float32", "float64"]),
    cells=st.lists(
        st.one_of(
            st.integers(0, 1000),
            st.integers(-3, 3),
            st.sampled_from([2**53, 2**53 + 2, 2**62, 2**64 - 1, 0.5, float("nan"), 1e300]),
        ),
        min_size=16,
        max_size=16,
    ),
)
def test_well_formed_netcdf_tables_give_their_counts_or_name_the_cell(folder, dtype, cells):
    """probe: a well-formed NetCDF table with random cell values of a random dtype -> exactly those counts, or the first bad cell (or the total) named."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.array(cells, dtype=object).astype(dtype).reshape(2, 2, 2, 2)
    except (OverflowError, ValueError, TypeError):  # not representable in dtype: skip
        assume(False)
    as_given = np.array(cells, dtype=object).reshape(2, 2, 2, 2)
    assume(dtype.startswith("float") or np.array_equal(values.astype(object), as_given))
    da = Counts(np.zeros((2, 2, 2, 2), dtype=int), Scenario.chsh()).array.copy(data=values)
    path = folder / "table.nc"
    da.to_netcdf(path, engine="h5netcdf")
    flat = values.ravel().tolist()
    ok = [isinstance(v, int) or float(v).is_integer() for v in flat]
    ok = [k and 0 <= v <= MAX_COUNT for k, v in zip(ok, flat, strict=True)]
    if all(ok) and sum(int(v) for v in flat) <= MAX_COUNT:
        assert read_counts(path).values.ravel().tolist() == [int(v) for v in flat]
        return
    with pytest.raises(DataFormatError) as info:
        read_counts(path)
    if not all(ok):
        first = ok.index(False)
        index = np.unravel_index(first, (2, 2, 2, 2))
        assert info.value.field == cell_name(Scenario.chsh(), index)
    else:
        assert info.value.field == "total"
