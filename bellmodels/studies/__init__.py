"""The study files shipped with bellmodels, so ``bellmodels run NAME`` works from an installed wheel.

Each study is one package file ``NAME.toml`` (the format of :mod:`bellmodels.study.config`); its
header comment says what it asks and how its inference sizes were chosen. A study is named
either by a path to a TOML file or by the name of a shipped study; a path wins, so a local
``weinstein2017.toml`` is run rather than the shipped one.

Studies
-------
``weinstein2017``
    The main job: Weinstein, arXiv:1707.03114 (2017), rerun on 100,000 simulated singlet
    trials; every model audited, fitted and compared.
``md_frontier``
    The RBM's measurement-dependence frontier: S and MI of machines trained with an MI penalty.
``noise_sweep``
    Where the local model stops being competitive, over visibility and trial count.
``real_data``
    Every model on the real Bell tests shipped in :mod:`bellmodels.datasets`.
``evidence_20k``
    The evidence check of the main job at 20,000 trials.
``hidden_units``
    How many hidden units the EPR machine needs: the RBM and the conditional RBM with 1 to 8
    hidden units, by evidence and LOO, on delft2015 and simulated singlet data.

Example
-------
>>> from bellmodels import studies
>>> "weinstein2017" in studies.names()
True
>>> studies.resolve("weinstein2017").name
'weinstein2017.toml'
>>> studies.resolve("weinstien2017")
Traceback (most recent call last):
...
FileNotFoundError: 'weinstien2017' is neither a study file nor a shipped study (did you mean 'weinstein2017'?); shipped studies: evidence_20k, hidden_units, md_frontier, noise_sweep, real_data, weinstein2017
"""

from __future__ import annotations

import difflib
import os
from importlib import resources
from pathlib import Path

_PACKAGE = "bellmodels.studies"


def names() -> list[str]:
    """Names of the shipped studies (the stems of the package's ``.toml`` files), sorted.

    >>> names()[:2]
    ['evidence_20k', 'hidden_units']
    """
    return sorted(p.name[: -len(".toml")] for p in _dir().iterdir() if p.name.endswith(".toml"))


def _dir() -> Path:
    # a wheel or an editable install both put the package on the file system, so the files are
    # real paths (load_study_file reads relative data paths against the file's directory)
    return Path(str(resources.files(_PACKAGE)))


def path(name: str) -> Path:
    """The file of the shipped study ``name`` (with or without ``.toml``).

    Raises ``FileNotFoundError`` listing the shipped studies, with the closest name first when
    one is close.

    >>> path("noise_sweep.toml").name
    'noise_sweep.toml'
    """
    stem = name[: -len(".toml")] if name.endswith(".toml") else name
    if stem in names():
        return _dir() / f"{stem}.toml"
    close = difflib.get_close_matches(stem, names(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise FileNotFoundError(
        f"{name!r} is neither a study file nor a shipped study{hint}; "
        f"shipped studies: {', '.join(names())}"
    )


def resolve(study: str | os.PathLike[str]) -> Path:
    """The study file meant by ``study``: an existing file as it is, else the shipped study
    of that name (:func:`path`).

    A path with a directory part must exist: ``mydir/weinstein2017.toml`` that does not is an
    error (naming the shipped study of that name), never silently the shipped study.

    >>> resolve("md_frontier") == path("md_frontier")
    True
    """
    p = Path(study)
    if p.is_file():
        return p
    if p.exists():
        raise FileNotFoundError(f"study file {str(p)!r} is not a file")
    if p.name != str(study) or p.suffix not in ("", ".toml"):
        shipped = p.stem in names()
        hint = f"; the shipped study is `bellmodels run {p.stem}`" if shipped else ""
        raise FileNotFoundError(f"study file {str(study)!r} does not exist{hint}")
    return path(p.name)


__all__ = ["names", "path", "resolve"]
