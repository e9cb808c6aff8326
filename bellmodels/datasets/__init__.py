"""Real Bell-test data shipped with bellmodels: CSV count tables with their provenance.

Each dataset is two package files: ``NAME.csv``, a count table in the format of
:func:`bellmodels.read_counts` (settings by label, outcomes +1/-1), and ``NAME.json``, its
provenance: experiment, paper, DOI, where the counts were taken from, the outcome and setting
conventions, the scenario (angles, stated as nominal where they are), the published summary
numbers and notes. :func:`load` reads the table through the same validating reader as any user
file, so shipped data obey the same rules.

Datasets
--------
``delft2015``
    Hensen et al., Nature 526, 682 (2015), doi:10.1038/nature15759 -- 245 events, S = 2.42 +- 0.20.
``weihs1998``
    Weihs et al., PRL 81, 5039 (1998), doi:10.1103/PhysRevLett.81.5039 -- 14,573 coincidences,
    S = 2.73 +- 0.02.
``vienna2015``
    Giustina et al., PRL 115, 250401 (2015), doi:10.1103/PhysRevLett.115.250401 -- a CH/Eberhard
    table of 3,502,784,150 trials (outcome +1 = detection, -1 = no detection), J = 7.27e-6.

Example
-------
>>> from bellmodels import datasets
>>> datasets.names()
['delft2015', 'vienna2015', 'weihs1998']
>>> c = datasets.load("delft2015")
>>> c.total, c.pair_totals().tolist()
(245, [[53, 79], [62, 51]])
>>> datasets.info("delft2015")["doi"]
'10.1038/nature15759'
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from bellmodels.data import Counts, read_counts
from bellmodels.scenario import Scenario

_PACKAGE = "bellmodels.datasets"


def _files() -> Any:
    return resources.files(_PACKAGE)


def names() -> list[str]:
    """Names of the shipped datasets (those with both a ``.csv`` table and a ``.json`` record).

    >>> "weihs1998" in names()
    True
    """
    entries = {p.name for p in _files().iterdir()}
    return sorted(
        n[: -len(".csv")]
        for n in entries
        if n.endswith(".csv") and n[: -len(".csv")] + ".json" in entries
    )


def _check(name: str) -> str:
    if not isinstance(name, str) or name not in names():
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(names())}")
    return name


def info(name: str) -> dict[str, Any]:
    """The provenance record of dataset ``name`` (a fresh dict).

    Keys: ``name``, ``experiment``, ``paper``, ``doi``, ``counts_source``,
    ``outcome_convention``, ``settings_convention``, ``angles``, ``scenario`` (as
    :meth:`Scenario.to_json` fields), ``published`` (the paper's n, S and SE) and ``notes``.

    Raises ``ValueError`` naming the known datasets when ``name`` is unknown.

    >>> info("weihs1998")["published"]["S"]
    2.73
    """
    _check(name)
    return json.loads((_files() / f"{name}.json").read_text(encoding="utf-8"))


def path(name: str) -> Path:
    """Filesystem path of the dataset's CSV count table.

    >>> path("delft2015").name
    'delft2015.csv'
    """
    _check(name)
    with resources.as_file(_files() / f"{name}.csv") as p:
        return Path(p)


def scenario(name: str) -> Scenario:
    """The dataset's scenario (settings, labels, effective angles; see ``info(name)["angles"]``).

    >>> import numpy as np
    >>> scn = scenario("delft2015")      # singlet-equivalent: B's axes of Scenario.chsh() + pi
    >>> bool(np.allclose(np.asarray(scn.angles_b) - np.pi, Scenario.chsh().angles_b))
    True
    """
    return Scenario.from_json(info(name)["scenario"])


def load(name: str) -> Counts:
    """The dataset's counts, with its provenance record in :attr:`Counts.provenance`.

    Parameters
    ----------
    name
        One of :func:`names`.

    Returns
    -------
    Counts
        ``provenance`` is :func:`info` minus the scenario, plus ``source`` (``"dataset:NAME"``).

    Example
    -------
    >>> c = load("weihs1998")
    >>> c.total, c.provenance["doi"], c.kind
    (14573, '10.1103/PhysRevLett.81.5039', 'post-selected')
    """
    record = info(name)
    counts = read_counts(path(name), scenario=Scenario.from_json(record.pop("scenario")))
    record["source"] = f"dataset:{name}"
    return Counts(counts.values, counts.scenario, provenance=record, kind=record.get("kind"))


__all__ = ["info", "load", "names", "path", "scenario"]
