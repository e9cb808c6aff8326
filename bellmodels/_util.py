"""Small utilities every room of the package shares, one copy each.

JSON conversion (:func:`to_jsonable`), atomic writes (:func:`atomic_write`, :func:`write_atomic`,
:func:`write_json_atomic`), package versions (:func:`versions`), seed drawing
(:func:`draw_seed`), one BLAS thread for the numerical work (:func:`one_blas_thread`), the
correlator formula (:func:`correlators`) and the comparison column list
(:data:`COMPARISON_COLUMNS`).

>>> to_jsonable({"a": (1, float("nan")), "b": np.float64(2.5)})
{'a': [1, None], 'b': 2.5}
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import platform
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

COMPARISON_COLUMNS: tuple[str, ...] = (
    "model",
    "elpd_loo",
    "se",
    "elpd_diff",
    "dse",
    "weight",
    "p_loo",
    "pareto_k_max",
    "log_evidence",
    "log_evidence_se",
    "log_evidence_method",
    "S_mean",
    "S_hdi",
    "mi_bits",
    "hall_M",
    "classification",
    "diagnostics_ok",
)
"""Columns of a model comparison, in order (the JSON row keys of ``docs/architecture.md``)."""

RENAMED_RESULT_KEYS: dict[str, str] = {"d_loo": "elpd_diff", "elpd_se": "se"}
"""Result keys older 0.x versions wrote (task summaries, ``results.nc`` variables): old -> new.
Readers convert on read (``docs/api/glossary.md`` lists the old names as forbidden synonyms)."""


# -- renamed keywords --------------------------------------------------------------------------
def renamed_keywords(**renamed: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: a call with an old keyword (``old="new"``) raises a TypeError naming the new one.

    The package is 0.x and renames instead of aliasing (one name per concept,
    ``docs/api/glossary.md``); this turns the bare "unexpected keyword" into the way forward.

    >>> @renamed_keywords(settings_probs="setting_probs")
    ... def f(*, setting_probs=None):
    ...     return setting_probs
    >>> f(settings_probs=1)
    Traceback (most recent call last):
    ...
    TypeError: f(): keyword 'settings_probs' was renamed to 'setting_probs'
    """
    import functools

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            for old in renamed.keys() & kwargs.keys():
                raise TypeError(
                    f"{func.__name__}(): keyword {old!r} was renamed to {renamed[old]!r}"
                )
            return func(*args, **kwargs)

        call.renamed_keywords = dict(renamed)  # type: ignore[attr-defined]
        return call

    return wrap


# -- JSON --------------------------------------------------------------------------------------
def to_jsonable(value: Any) -> Any:
    """``value`` as strict-JSON-ready Python: tuples and arrays -> lists, numpy scalars ->
    Python, NaN and +-inf -> ``None``, dict keys -> ``str``.

    >>> to_jsonable([np.int64(3), float("inf"), np.array([True, False])])
    [3, None, [True, False]]
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- atomic writes -----------------------------------------------------------------------------
def atomic_write(
    path: str | os.PathLike[str], write: Callable[[Path], Any], *, parents: bool = True
) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, fsync it, then ``os.replace``.

    A reader never sees a half-written file and an interrupted write leaves the old one intact.
    Parent directories are created (with ``parents=False`` a missing one raises
    ``FileNotFoundError``); the file gets the usual ``0o666 & ~umask`` mode (not
    ``mkstemp``'s 0600).

    >>> p = atomic_write(Path(tempfile.mkdtemp()) / "x.txt", lambda t: t.write_text("hi"))
    >>> p.read_text()
    'hi'
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if parents:
        parent.mkdir(parents=True, exist_ok=True)
    elif not parent.is_dir():
        raise FileNotFoundError(f"directory {parent} does not exist (writing {path})")
    fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return path


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to ``path`` atomically (:func:`atomic_write`).

    >>> p = write_atomic(Path(tempfile.mkdtemp()) / "sub" / "table.md", "| a |")
    >>> p.read_text()
    '| a |'
    """
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return atomic_write(path, lambda tmp: tmp.write_bytes(payload))


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented strict JSON (:func:`to_jsonable`) to ``path`` atomically.

    >>> p = Path(tempfile.mkdtemp()) / "x.json"
    >>> _ = write_json_atomic(p, {"a": float("nan")}); json.loads(p.read_text())
    {'a': None}
    """
    return write_atomic(path, json.dumps(to_jsonable(obj), indent=2, default=str))


# -- provenance --------------------------------------------------------------------------------
# clarabel: the audit's least MI, least M and the no-signalling fits are its solutions (_conic)
_REQUIRED = ("bellmodels", "numpy", "scipy", "xarray", "pymc", "pytensor", "arviz", "clarabel")
_OPTIONAL = ("nutpie", "numpyro")


def versions() -> dict[str, str]:
    """Python, platform and the versions of the packages a result depends on.

    Optional samplers are listed only when installed.

    >>> sorted(versions())[:3]
    ['arviz', 'bellmodels', 'clarabel']
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in (*_REQUIRED, *_OPTIONAL):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            if pkg in _REQUIRED:
                out[pkg] = "not installed"
    return out


def draw_seed(seed: int | None = None) -> int:
    """``seed`` checked (a non-negative integer), or a fresh one from OS entropy if ``None``.

    >>> draw_seed(7), 0 <= draw_seed() < 2**31 - 1
    (7, True)
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**31 - 1))
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


@functools.cache
def _blas_pools() -> Any:
    """The BLAS libraries of this process (NumPy's and SciPy's OpenBLAS), found once: SciPy's
    is loaded by importing ``scipy.linalg``, which importing NumPy does not do."""
    import scipy.linalg  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Inside, NumPy's and SciPy's BLAS run one thread each (threadpoolctl); as before on exit.

    Every numerical routine of the package works on small matrices (24 weights, 16 cells, a
    thousand particles), where a second BLAS thread gains nothing and costs much: its threads
    spin for work while the chains, the other worker or another program want the core, and a
    loaded 2-core machine then runs the SMC evidence's and L-BFGS's BLAS calls several times
    slower. A second thread also changes the last bits of reductions, so the maximum-likelihood
    training, the posterior mode the chains start from and therefore the draws would depend on
    the machine's core count; with one thread the same seed gives the same numbers everywhere
    (the study's worker processes and Dask's nanny set the same in the environment).

    >>> from threadpoolctl import threadpool_info
    >>> with one_blas_thread():
    ...     inside = {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}
    >>> inside
    {1}
    """
    with _blas_pools().limit(limits=1, user_api="blas"):
        yield


# -- physics formula shared by behaviour, inference and plots -----------------------------------
_SIGN = np.array([[1.0, -1.0], [-1.0, 1.0]])  # x_a * x_b in array order (index 0 <-> -1)


def correlators(p: Any) -> np.ndarray:
    """E(s_a, s_b) = P(same) - P(different) over the last two axes ``(2, 2)`` (outcome index
    0 <-> -1), vectorised over leading axes (a behaviour, a stack of draws, or counts).

    >>> p = np.zeros((2, 2, 2, 2)); p[..., 0, 0] = p[..., 1, 1] = 0.5
    >>> correlators(p).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    return np.einsum("...xy,xy->...", np.asarray(p, dtype=float), _SIGN)
