"""Reading a NetCDF count table (as :func:`~bellmodels.data.write_counts` writes it), defensively.

A NetCDF file given as data may be anything: another program's output, a file with several
variables, strings or booleans for counts, a scenario attribute that is not JSON. Every way it
can fail becomes :class:`~bellmodels.data.DataFormatError` naming the file and the variable,
dimension or attribute at fault; the counts themselves go through the package's one check
(:func:`bellmodels.data.bounds.checked_counts`). Messages quote only the names of dimensions
and attributes, never the file's data.

Example
-------
>>> import tempfile, pathlib
>>> from bellmodels import Scenario, Trials, read_counts, write_counts
>>> t = Trials(Scenario.chsh(), [0, 1], [1, 1], [1, -1], [-1, -1])
>>> f = write_counts(t, pathlib.Path(tempfile.mkdtemp()) / "c.nc")
>>> read_netcdf(f, None).total
2
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bellmodels.data.format import DataFormatError
from bellmodels.data.tables import TABLE_KINDS, Counts, counts_from_file
from bellmodels.scenario import DIMS_BEHAVIOUR, OUTCOMES, Scenario

if TYPE_CHECKING:
    import xarray as xr

_REASON_CHARS = 160


def _short(exc: BaseException) -> str:
    """``ExcType: message`` cut to a line (library messages can be long)."""
    text = " ".join(str(exc).split())
    if len(text) > _REASON_CHARS:
        text = text[:_REASON_CHARS] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _open(path: Path) -> xr.DataArray:
    import xarray as xr  # on first use: ``import bellmodels`` and the CLI's --help skip it

    try:
        with xr.open_dataarray(path, engine="h5netcdf") as opened:
            return opened.load()
    except MemoryError:
        raise
    except Exception as exc:  # a parse boundary: any library failure is a bad file
        raise DataFormatError(
            f"not a NetCDF count array as written by write_counts ({_short(exc)})", path=path
        ) from None


def _scenario(da: xr.DataArray, path: Path, scenario: Scenario | None) -> Scenario:
    if "scenario" not in da.attrs:
        return Scenario.chsh() if scenario is None else scenario
    try:
        file_scenario = Scenario.from_json(da.attrs["scenario"])
    except MemoryError:
        raise
    except Exception as exc:  # any malformed attribute is a bad file
        raise DataFormatError(
            f"attribute 'scenario' is not a scenario ({_short(exc)})", path=path, field="scenario"
        ) from None
    if scenario is not None and scenario != file_scenario:
        raise DataFormatError(
            f"the file's scenario {file_scenario.to_json()} differs from the one given "
            f"({scenario.to_json()})",
            path=path,
            field="scenario",
        )
    return file_scenario


def _outcome_axes(da: xr.DataArray, path: Path) -> xr.DataArray:
    for dim in ("outcome_a", "outcome_b"):
        coord = np.asarray(da[dim].values) if dim in da.coords else None
        ok = (
            coord is not None
            and coord.dtype.kind in "iuf"
            and coord.shape == (2,)
            and sorted(coord.tolist()) == [-1, 1]
        )
        if not ok:
            raise DataFormatError(
                f"coordinate {dim} must be the two outcomes [-1, +1]", path=path, field=dim
            )
        da = da.sel({dim: list(OUTCOMES)})
    return da


def _provenance(da: xr.DataArray, path: Path) -> dict[str, Any]:
    provenance: dict[str, Any] = {}
    if "provenance" in da.attrs:
        raw = da.attrs["provenance"]
        try:
            provenance = json.loads(raw) if isinstance(raw, (str, bytes)) else None
        except ValueError as exc:
            raise DataFormatError(
                f"attribute 'provenance' is not JSON ({_short(exc)})",
                path=path,
                field="provenance",
            ) from None
        if not isinstance(provenance, dict):
            raise DataFormatError(
                "attribute 'provenance' must be a JSON object", path=path, field="provenance"
            )
    provenance.setdefault("source", str(path))
    return provenance


def read_netcdf(path: Path, scenario: Scenario | None) -> Counts:
    """:class:`Counts` from a NetCDF file holding one count DataArray (see the module docstring).

    Parameters
    ----------
    path
        The file (an existing file; :func:`~bellmodels.data.read_counts` checks that).
    scenario
        ``None`` (use the file's ``scenario`` attribute, else CHSH) or a scenario that must equal
        the file's.

    Raises
    ------
    DataFormatError
        Naming the file and the dimension, coordinate, attribute or cell at fault.
    """
    path = Path(path)
    da = _open(path)
    missing = [d for d in DIMS_BEHAVIOUR if d not in da.dims]
    extra = [str(d) for d in da.dims if d not in DIMS_BEHAVIOUR]
    if missing or extra:
        problem = f"missing {missing}" if missing else f"{len(extra)} unknown dimension(s)"
        raise DataFormatError(
            f"the count array's dims must be {list(DIMS_BEHAVIOUR)} ({problem})",
            path=path,
            field=str(missing[0]) if missing else "counts",
        )
    scn = _scenario(da, path, scenario)
    da = _outcome_axes(da, path).transpose(*DIMS_BEHAVIOUR)
    if da.shape != scn.shape:
        raise DataFormatError(
            f"shape {da.shape} does not match the scenario's {scn.shape}", path=path, field="counts"
        )
    return counts_from_file(
        np.asarray(da.values), scn, _provenance(da, path), path, kind=_kind(da, path)
    )


def _kind(da: xr.DataArray, path: Path) -> str | None:
    """The table's kind from the attribute ``kind`` (``None`` when the file states none)."""
    kind = da.attrs.get("kind")
    if kind is not None and kind not in TABLE_KINDS:
        raise DataFormatError(
            f"attribute 'kind' must be one of {TABLE_KINDS}, got {str(kind)[:42]!r}",
            path=path,
            field="kind",
        )
    return kind


__all__ = ["read_netcdf"]
