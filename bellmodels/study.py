"""Studies: a TOML file -> validated configuration -> tasks -> runner -> per-task NetCDF -> results.

A study file names a data source, the models, the inference settings and the seeds. **Any field
can be a list**: a list where the field takes one value is a *sweep axis*, and the study is the
product of its axes (a field that already takes a list, such as ``models.include`` or
``data.setting_probs``, sweeps when given a list of lists). Every mistake is reported with the
file and the key (``ValueError``). Example::

    [study]
    name = "noise"

    [data]
    source = "simulate"        # "simulate" | "dataset" | "file"
    trials = [1000, 100000]    # sweep axis "trials"
    visibility = [0.6, 0.8, 1.0]
    seed = 0

    [models]
    include = ["local-polytope", "quantum-singlet"]

    [models.rbm]               # options of one model (it must be in include)
    train = true               # exact maximum-likelihood training before the audit
    train_options = { }        # keyword arguments of the model's fit(counts, ...)
    params = { }               # constructor values (parameters of the model)
    fit = true                 # Bayesian fit of this model (default: [inference].fit)

    [inference]
    fit = true
    draws = 500
    tune = 500
    chains = 2
    seed = 1
    evidence = true

The study expands into **tasks**, one per (sweep point, model); a task's identity is a hash of the
configuration it depends on (data, inference, that model's options), so a task shared by several
sweep points runs once. The runner executes the tasks on a local process pool (default, no
server) or on Dask (``dask=True`` for a ``LocalCluster``, ``scheduler="tcp://..."`` for a running
cluster). Each task builds its model inside the worker with its own PyTensor compile directory
(compilation is not thread-safe), writes one NetCDF (the InferenceData of the fit, if any, plus a
``bellmodels`` group with the audit, the model's behaviour and ontic table, the resolved
configuration and package versions) atomically (temp file + :func:`os.replace`), and returns a
small JSON summary. Re-running a study skips every task whose NetCDF exists; a failing task is
recorded with its error (``tasks/<id>.failed.json``) and the rest go on; ``SIGTERM`` stops the
workers and leaves no partial file. At the end the summaries are aggregated into one
:class:`xarray.Dataset` indexed by the sweep axes and ``model`` (``results.nc``; see
:func:`load_study`), models are compared at every sweep point, and a report is written
(:mod:`bellmodels.report`).

The runner, the task hashing and the results store are written here by hand: no library maps a
TOML sweep onto per-task NetCDF files; the pools themselves are :mod:`concurrent.futures` and
``dask.distributed``.

>>> from bellmodels.study import parse_study
>>> cfg = parse_study('''
... [data]
... source = "simulate"
... visibility = [0.7, 1.0]
... [models]
... include = ["quantum-singlet"]
... [inference]
... fit = false
... ''', source="inline.toml")
>>> [a.name for a in cfg.axes], len(cfg.tasks())
(['visibility'], 2)
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import difflib
import hashlib
import itertools
import json
import logging
import math
import os
import platform
import signal
import sys
import tempfile
import time
import tomllib
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Axis",
    "StudyConfig",
    "Task",
    "load_study",
    "load_study_file",
    "parse_study",
    "run_study",
    "run_tasks",
]

# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------

_SCALAR = "scalar"
_LIST = "list"


@dataclasses.dataclass(frozen=True)
class _Field:
    """One key of the study schema: its type(s), default, choices and whether it takes a list."""

    types: tuple[type, ...]
    default: Any = None
    choices: tuple[Any, ...] | None = None
    kind: str = _SCALAR  # "scalar" or "list" (a list value of a list field is one value)
    item_types: tuple[type, ...] = ()
    required: bool = False
    doc: str = ""
    minimum: float | None = None


_NUM = (int, float)

SCHEMA: dict[str, dict[str, _Field]] = {
    "study": {
        "name": _Field((str,), None, doc="study name (default: the file's stem)"),
        "title": _Field((str,), "", doc="title of the report"),
        "description": _Field((str,), "", doc="free text shown at the top of the report"),
    },
    "data": {
        "source": _Field((str,), None, ("simulate", "dataset", "file"), required=True),
        "trials": _Field((int,), 100_000, minimum=1, doc="simulated trials"),
        "visibility": _Field(_NUM, 1.0, minimum=0.0, doc="singlet visibility V in [0, 1]"),
        "seed": _Field((int,), 0, minimum=0, doc="seed of the simulation"),
        "scenario": _Field((str,), "chsh", doc='"chsh" or "chained-K"'),
        "setting_probs": _Field(
            (list,), None, kind=_LIST, item_types=(list,), doc="p(s_a, s_b), K_a x K_b"
        ),
        "dataset": _Field((str,), None, doc="name of a shipped dataset (bellmodels.datasets)"),
        "path": _Field((str,), None, doc="count / per-trial file, relative to the study file"),
    },
    "models": {
        "include": _Field((list,), None, kind=_LIST, item_types=(str,), required=True),
    },
    "inference": {
        "fit": _Field((bool,), True, doc="Bayesian fit (PyMC) of every model"),
        "draws": _Field((int,), 1000, minimum=1),
        "tune": _Field((int,), 1000, minimum=0),
        "chains": _Field((int,), 4, minimum=1),
        "seed": _Field((int,), 1, minimum=0),
        "sampler": _Field((str,), "auto"),
        "init": _Field((str,), "auto"),
        "target_accept": _Field(
            _NUM, 0.9, minimum=0.5, doc="NUTS target acceptance, below 1 (raise it on divergences)"
        ),
        "evidence": _Field((bool,), True, doc="log marginal likelihood (SMC)"),
        "evidence_draws": _Field((int,), 2000, minimum=10, doc="SMC particles per chain"),
        "evidence_chains": _Field((int,), 4, minimum=2, doc="SMC chains (SE from their spread)"),
        "cores": _Field(
            (int,), 1, minimum=1, doc="processes per fit (the runner's pool is the parallelism)"
        ),
    },
    "report": {
        "figures": _Field((bool,), True),
        "min_mi_points": _Field((int,), 11, minimum=2, doc="visibilities of the min-MI curve"),
    },
}

MODEL_OPTIONS: dict[str, _Field] = {
    "train": _Field((bool,), False, doc="exact maximum-likelihood training (model.fit(counts))"),
    "train_options": _Field((dict,), None, kind=_LIST, doc="keyword arguments of model.fit"),
    "params": _Field((dict,), None, kind=_LIST, doc="constructor values of the model"),
    "fit": _Field((bool,), None, doc="Bayesian fit of this model (default: [inference].fit)"),
    "inference": _Field(
        (dict,), None, kind=_LIST, doc="[inference] keys overridden for this model"
    ),
}

# Keys whose value is itself a free-form table (their entries may be sweep axes).
_FREE_TABLES = ("params", "train_options")


def _where(source: str, path: Sequence[str]) -> str:
    return f"{source}: key '{'.'.join(path)}'"


def _suggest(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _type_name(types: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false"}
    names.update({list: "a list", dict: "a table"})
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in types))


def _check_value(value: Any, fld: _Field, source: str, path: Sequence[str]) -> Any:
    """Validate one (non-sweep) value against a field; returns it (ints widened to float)."""
    where = _where(source, path)
    ok = isinstance(value, fld.types) and not (isinstance(value, bool) and bool not in fld.types)
    if not ok:
        raise ValueError(
            f"{where} must be {_type_name(fld.types)}, got {type(value).__name__} {value!r}"
        )
    if fld.kind == _LIST and isinstance(value, list):
        if not value and path[-1] == "include":
            raise ValueError(f"{where} is an empty list: name at least one model")
        for item in value:
            if fld.item_types and not isinstance(item, fld.item_types):
                raise ValueError(
                    f"{where} must hold {_type_name(fld.item_types)} items, got {item!r}"
                )
    if fld.choices is not None and value not in fld.choices:
        raise ValueError(
            f"{where} is {value!r}; expected one of {', '.join(map(repr, fld.choices))}"
        )
    if fld.minimum is not None and isinstance(value, _NUM) and value < fld.minimum:
        raise ValueError(f"{where} is {value!r}; it must be >= {fld.minimum:g}")
    if float in fld.types and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return value


def _is_sweep(value: Any, fld: _Field) -> bool:
    """A list where the field takes one value; for list fields, a list of lists."""
    if not isinstance(value, list):
        return False
    if fld.kind == _LIST and list in fld.types:
        return (
            bool(value)
            and all(isinstance(v, list) for v in value)
            and (fld.item_types != (list,) or all(isinstance(w, list) for v in value for w in v))
        )
    return True


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Axis:
    """One sweep axis: the dotted key it comes from, its dimension name and its values."""

    key: tuple[str, ...]
    name: str
    values: tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class Task:
    """One unit of work: a model at one resolved configuration (data, inference, options)."""

    id: str
    model: str
    config: dict[str, Any]

    def to_json(self) -> str:
        """The task as JSON text (what the worker receives and the NetCDF records)."""
        return json.dumps({"id": self.id, "model": self.model, "config": self.config})


@dataclasses.dataclass
class StudyConfig:
    """A validated study: the configuration (defaults filled in), its sweep axes and its source.

    Use :func:`load_study_file` or :func:`parse_study` to build one; :meth:`points` yields the
    resolved configuration of every sweep point and :meth:`tasks` the tasks to run.
    """

    config: dict[str, Any]
    axes: list[Axis]
    source: str
    base_dir: Path

    @property
    def name(self) -> str:
        """The study's name."""
        return str(self.config["study"]["name"])

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values along each sweep axis."""
        return tuple(len(a.values) for a in self.axes)

    def points(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """``(coords, resolved_config)`` for every sweep point, in C order over the axes."""
        for combo in itertools.product(*(a.values for a in self.axes)):
            cfg = copy.deepcopy(self.config)
            coords = {}
            for axis, value in zip(self.axes, combo, strict=True):
                _set_path(cfg, axis.key, copy.deepcopy(value))
                coords[axis.name] = value
            yield coords, cfg

    def task_for(self, cfg: Mapping[str, Any], model: str) -> Task:
        """The task of ``model`` at the resolved configuration ``cfg`` (hash of what it uses)."""
        options = {k: v for k, v in MODEL_OPTIONS.items()}
        opts = dict(cfg["models"].get("options", {}).get(model, {}))
        for key, fld in options.items():
            opts.setdefault(key, copy.deepcopy(fld.default))
        inference = dict(cfg["inference"], **(opts.pop("inference") or {}))
        if opts["fit"] is None:
            opts["fit"] = bool(inference["fit"])
        opts["params"] = opts["params"] or {}
        opts["train_options"] = opts["train_options"] or {}
        relevant = {
            "data": cfg["data"],
            "inference": inference if opts["fit"] else {},
            "model": model,
            "options": opts,
        }
        digest = hashlib.sha1(
            json.dumps(relevant, sort_keys=True, default=str).encode()
        ).hexdigest()[:10]
        config = dict(relevant, base_dir=str(self.base_dir), study=cfg["study"]["name"])
        config["inference"] = inference
        return Task(id=f"{model}-{digest}", model=model, config=config)

    def grid(self) -> list[tuple[dict[str, Any], list[Task]]]:
        """``(coords, tasks at that point)`` for every sweep point."""
        return [
            (coords, [self.task_for(cfg, m) for m in cfg["models"]["include"]])
            for coords, cfg in self.points()
        ]

    def tasks(self) -> list[Task]:
        """The distinct tasks of the study (a task shared by several points appears once)."""
        seen: dict[str, Task] = {}
        for _, tasks in self.grid():
            for t in tasks:
                seen.setdefault(t.id, t)
        return list(seen.values())

    def models(self) -> list[str]:
        """Every model named anywhere in the study, in order of appearance."""
        names: dict[str, None] = {}
        for _, cfg in self.points():
            names.update(dict.fromkeys(cfg["models"]["include"]))
        return list(names)

    def to_json(self) -> str:
        """The resolved configuration with its axes (stored in every result)."""
        return json.dumps(
            {
                "config": self.config,
                "axes": [
                    {"key": ".".join(a.key), "name": a.name, "values": list(a.values)}
                    for a in self.axes
                ],
                "source": self.source,
            },
            default=str,
        )


def _set_path(d: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for key in path[:-1]:
        d = d.setdefault(key, {})
    d[path[-1]] = value


def load_study_file(path: str | os.PathLike[str]) -> StudyConfig:
    """Read and validate a study TOML file.

    Parameters
    ----------
    path
        The ``.toml`` file.

    Returns
    -------
    StudyConfig

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        On any mistake, naming the file and the key (unknown key, wrong type, unknown model,
        empty sweep axis, bad TOML syntax).

    Examples
    --------
    >>> cfg = load_study_file("studies/weinstein2017.toml")  # doctest: +SKIP
    >>> cfg.name  # doctest: +SKIP
    'weinstein2017'
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"study file {str(p)!r} does not exist")
    text = p.read_text(encoding="utf-8")
    return parse_study(text, source=str(p), base_dir=p.resolve().parent, default_name=p.stem)


def parse_study(
    text: str,
    *,
    source: str = "<study>",
    base_dir: str | os.PathLike[str] | None = None,
    default_name: str = "study",
) -> StudyConfig:
    """Validate study TOML text (see the module docstring for the format).

    Parameters
    ----------
    text
        TOML text.
    source
        Name used in error messages (the file's path).
    base_dir
        Directory relative data paths are resolved against (default: current directory).
    default_name
        Study name when ``[study] name`` is absent.

    Returns
    -------
    StudyConfig

    Examples
    --------
    >>> parse_study('[data]\\nsource = "simulate"\\n[models]\\ninclude = ["bell1964"]\\n').name
    'study'
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from None
    for key in raw:
        if key not in SCHEMA:
            raise ValueError(
                f"{source}: unknown section or key '{key}'{_suggest(key, SCHEMA)}; "
                f"known sections: {', '.join(SCHEMA)}"
            )
        if not isinstance(raw[key], dict):
            raise ValueError(f"{_where(source, [key])} must be a table ([{key}])")
    for section in ("data", "models"):
        if section not in raw:
            raise ValueError(f"{source}: missing section [{section}]")

    config: dict[str, Any] = {}
    axes: list[Axis] = []

    def add_axis(
        path: tuple[str, ...], values: list[Any], store: tuple[str, ...] | None = None
    ) -> None:
        if not values:
            raise ValueError(f"{_where(source, path)} is an empty sweep axis (an empty list)")
        axes.append(Axis(store or path, path[-1], tuple(values)))

    for section, fields in SCHEMA.items():
        given = dict(raw.get(section, {}))
        out: dict[str, Any] = {}
        known = set(fields)
        if section == "models":
            options = {k: given.pop(k) for k in list(given) if isinstance(given[k], dict)}
        for key, value in given.items():
            if key not in known:
                raise ValueError(
                    f"{_where(source, [section, key])} is unknown{_suggest(key, known)}; "
                    f"known keys in [{section}]: {', '.join(sorted(known))}"
                )
            fld = fields[key]
            if isinstance(value, list) and not value:
                if fld.kind == _LIST and key != "include":
                    out[key] = value
                    continue
                if fld.kind != _LIST:
                    add_axis((section, key), [])
            if _is_sweep(value, fld):
                values = [_check_value(v, fld, source, (section, key)) for v in value]
                add_axis((section, key), values)
                out[key] = values[0]
            else:
                out[key] = _check_value(value, fld, source, (section, key))
        for key, fld in fields.items():
            if key not in out:
                if fld.required:
                    raise ValueError(f"{_where(source, [section, key])} is required")
                out[key] = copy.deepcopy(fld.default)
        if section == "models":
            out["options"] = _parse_model_options(options, source, add_axis)
        config[section] = out

    if config["study"]["name"] is None:
        config["study"]["name"] = default_name
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    cfg = StudyConfig(config, axes, source, base)
    _check_semantics(cfg)
    return cfg


def _parse_model_options(
    options: dict[str, dict[str, Any]], source: str, add_axis: Callable[..., None]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for model, opts in options.items():
        parsed: dict[str, Any] = {}
        for key, value in opts.items():
            path = ("models", model, key)
            if key not in MODEL_OPTIONS:
                raise ValueError(
                    f"{_where(source, path)} is unknown{_suggest(key, MODEL_OPTIONS)}; "
                    f"known model options: {', '.join(MODEL_OPTIONS)}"
                )
            fld = MODEL_OPTIONS[key]
            if key == "inference":
                value = _check_value(value, fld, source, path)
                table = {}
                for name, v in value.items():
                    sub = SCHEMA["inference"].get(name)
                    if sub is None:
                        raise ValueError(
                            f"{_where(source, (*path, name))} is unknown"
                            f"{_suggest(name, SCHEMA['inference'])}; known keys: "
                            f"{', '.join(SCHEMA['inference'])}"
                        )
                    if _is_sweep(v, sub):
                        vals = [_check_value(x, sub, source, (*path, name)) for x in v]
                        add_axis((*path, name), vals, ("models", "options", model, key, name))
                        table[name] = vals[0] if vals else None
                    else:
                        table[name] = _check_value(v, sub, source, (*path, name))
                parsed[key] = table
            elif key in _FREE_TABLES:
                value = _check_value(value, fld, source, path)
                table = {}
                for name, v in value.items():
                    if isinstance(v, list) and _free_is_sweep(model, key, name, v):
                        add_axis((*path, name), list(v), ("models", "options", model, key, name))
                        table[name] = v[0] if v else None
                    else:
                        table[name] = v
                parsed[key] = table
            elif isinstance(value, list):
                values = [_check_value(v, fld, source, path) for v in value]
                add_axis(path, values, ("models", "options", model, key))
                parsed[key] = values[0] if values else None
            else:
                parsed[key] = _check_value(value, fld, source, path)
        out[model] = parsed
    return out


def _free_is_sweep(model: str, table: str, name: str, value: list[Any]) -> bool:
    """A list in ``params`` sweeps unless the model's parameter takes an array of that rank."""
    if table != "params":
        return True
    try:
        from bellmodels import models

        spec = models.get(model).parameters.get(name)
    except Exception:  # unknown model: reported by the semantic check
        return True
    if spec is None or not spec.shape:
        return True
    return np.asarray(value, dtype=object).ndim > len(spec.shape)


def _check_semantics(cfg: StudyConfig) -> None:
    """Checks across keys: data source completeness, model names and options, scenario."""
    from bellmodels import models

    source = cfg.source
    names = set(models.names())
    seen_models: set[str] = set()
    # dimension names must be unique: fall back to the dotted key
    counts: dict[str, int] = {}
    for a in cfg.axes:
        counts[a.name] = counts.get(a.name, 0) + 1
    cfg.axes[:] = [
        a if counts[a.name] == 1 else Axis(a.key, "_".join(a.key), a.values) for a in cfg.axes
    ]
    for _coords, c in cfg.points():
        data = c["data"]
        src = data["source"]
        if src == "dataset" and not data["dataset"]:
            raise ValueError(f"{_where(source, ['data', 'dataset'])} is required for a dataset")
        if src == "file":
            if not data["path"]:
                raise ValueError(f"{_where(source, ['data', 'path'])} is required for a file")
            p = Path(data["path"])
            if not p.is_absolute():
                p = cfg.base_dir / p
            if not p.is_file():
                raise ValueError(f"{_where(source, ['data', 'path'])}: no file {str(p)!r}")
        if src == "simulate":
            if not 0.0 <= float(data["visibility"]) <= 1.0:
                raise ValueError(
                    f"{_where(source, ['data', 'visibility'])} is {data['visibility']}; "
                    "it must be in [0, 1]"
                )
            try:
                _scenario(data["scenario"])
            except ValueError as exc:
                raise ValueError(f"{_where(source, ['data', 'scenario'])}: {exc}") from None
        for m in c["models"]["include"]:
            if m not in names:
                raise ValueError(
                    f"{_where(source, ['models', 'include'])}: unknown model {m!r}"
                    f"{_suggest(m, names)}; known models: {', '.join(sorted(names))}"
                )
            seen_models.add(m)
    for m in cfg.config["models"]["options"]:
        if m not in seen_models:
            raise ValueError(
                f"{_where(source, ['models', m])}: options for a model not in "
                f"models.include{_suggest(m, seen_models)}"
            )
        for _coords, c in cfg.points():
            o = c["models"]["options"].get(m, {})
            try:
                model = models.get(m, **(o.get("params") or {}))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{_where(source, ['models', m, 'params'])}: {exc}") from None
            if o.get("train") and not callable(getattr(model, "fit", None)):
                raise ValueError(
                    f"{_where(source, ['models', m, 'train'])}: model {m!r} has no fit() "
                    "(only trainable models, such as the RBM, can be trained)"
                )


def _scenario(spec: str) -> Any:
    from bellmodels.scenario import Scenario

    if spec == "chsh":
        return Scenario.chsh()
    if spec.startswith("chained-") and spec[8:].isdigit():
        return Scenario.chained(int(spec[8:]))
    raise ValueError(f'unknown scenario {spec!r}: expected "chsh" or "chained-K" (K >= 2)')


# --------------------------------------------------------------------------------------------
# Worker side
# --------------------------------------------------------------------------------------------

_WORKER_STATE: dict[str, Any] = {}


def default_compile_base() -> Path:
    """Root of the per-process PyTensor compile directories (``$BELLMODELS_COMPILEDIR`` or
    ``~/.cache/bellmodels/pytensor``).

    >>> default_compile_base().name
    'pytensor'
    """
    env = os.environ.get("BELLMODELS_COMPILEDIR")
    if env:
        return Path(env)
    return (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bellmodels" / "pytensor"
    )


def setup_worker(compile_base: str | os.PathLike[str] | None = None) -> str:
    """Give this process its own PyTensor compile directory (call before importing PyTensor).

    PyTensor compilation is not thread-safe, so each worker process claims a numbered slot
    ``<base>/slot<i>`` by holding an exclusive ``flock`` on ``slot<i>.lock`` for its lifetime: no two
    live processes share a directory, and a later run reuses the compiled code of an earlier
    one. Also pins BLAS/OpenMP to one thread per process (the pool provides the parallelism).

    Returns
    -------
    str
        The compile directory in use.

    Examples
    --------
    >>> setup_worker("/tmp/bm-compile")  # doctest: +SKIP
    '/tmp/bm-compile/slot0'
    """
    if "compiledir" in _WORKER_STATE:
        return str(_WORKER_STATE["compiledir"])
    import fcntl

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    base = Path(compile_base) if compile_base is not None else default_compile_base()
    base.mkdir(parents=True, exist_ok=True)
    for i in itertools.count():
        fd = os.open(base / f"slot{i}.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _WORKER_STATE["lock_fd"] = fd
        compiledir = base / f"slot{i}"
        break
    compiledir.mkdir(exist_ok=True)
    if "pytensor" in sys.modules:  # too late to move it: say so in the task record
        import pytensor

        _WORKER_STATE["compiledir"] = str(pytensor.config.compiledir) + " (preset)"
        return str(_WORKER_STATE["compiledir"])
    flags = [f for f in os.environ.get("PYTENSOR_FLAGS", "").split(",") if f]
    flags = [f for f in flags if not f.startswith(("compiledir=", "base_compiledir="))]
    os.environ["PYTENSOR_FLAGS"] = ",".join([*flags, f"compiledir={compiledir}"])
    _WORKER_STATE["compiledir"] = str(compiledir)
    return str(compiledir)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("bellmodels", "numpy", "scipy", "xarray", "pymc", "pytensor", "arviz", "cvxpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def build_counts(data: Mapping[str, Any], base_dir: str | os.PathLike[str] = ".") -> Any:
    """The :class:`~bellmodels.data.Counts` a study's ``[data]`` section describes: simulated
    singlet trials, a shipped dataset, or a file (relative paths against ``base_dir``).

    Examples
    --------
    >>> c = build_counts({"source": "simulate", "trials": 1000, "visibility": 1.0, "seed": 0,
    ...                   "scenario": "chsh", "setting_probs": None})  # doctest: +SKIP
    >>> c.total  # doctest: +SKIP
    1000
    """
    source = data["source"]
    if source == "simulate":
        from bellmodels.simulate import simulate_singlet

        scn = _scenario(data.get("scenario", "chsh"))
        trials = simulate_singlet(
            scn,
            n=int(data["trials"]),
            seed=int(data["seed"]),
            visibility=float(data["visibility"]),
            setting_probs=data.get("setting_probs"),
        )
        return trials.counts(
            provenance={
                "source": "simulate_singlet",
                "trials": int(data["trials"]),
                "visibility": float(data["visibility"]),
                "seed": int(data["seed"]),
            }
        )
    if source == "dataset":
        from bellmodels import datasets

        return datasets.load(data["dataset"])
    from bellmodels.data import read_counts

    p = Path(data["path"])
    return read_counts(p if p.is_absolute() else Path(base_dir) / p)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else x
    return x


def _atomic_target(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o644)  # mkstemp makes 0600 files; results are for everyone to read
    os.close(fd)
    return Path(tmp)


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write JSON to ``path`` atomically (temp file in the same directory + ``os.replace``).

    >>> import tempfile, json, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
    >>> write_json_atomic(p, {"a": float("nan")}); json.loads(p.read_text())
    {'a': None}
    """
    path = Path(path)
    tmp = _atomic_target(path)
    try:
        tmp.write_text(json.dumps(_jsonable(obj), indent=2, default=str), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def run_task(task: Task | Mapping[str, Any], out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Execute one task in this process and write ``<out_dir>/tasks/<id>.nc``; return a summary.

    The task simulates or loads its data, builds its model (training it by exact maximum
    likelihood if asked), audits it, fits it with PyMC if asked (LOO, evidence, diagnostics), and
    writes one NetCDF atomically. Exceptions propagate (see :func:`_task_entry` for the
    recording wrapper the runner uses).

    Examples
    --------
    >>> cfg = parse_study('[data]\\nsource = "simulate"\\ntrials = 1000\\n'
    ...                   '[models]\\ninclude = ["bell1964"]\\n[inference]\\nfit = false\\n')
    >>> summary = run_task(cfg.tasks()[0], "/tmp/bm-study")  # doctest: +SKIP
    >>> summary["status"]  # doctest: +SKIP
    'done'
    """
    if isinstance(task, Mapping):
        task = Task(task["id"], task["model"], dict(task["config"]))
    t0 = time.perf_counter()
    c0 = time.process_time()
    compiledir = setup_worker(_WORKER_STATE.get("compile_base"))
    import xarray as xr

    from bellmodels import models
    from bellmodels.audit import audit

    cfg = task.config
    counts = build_counts(cfg["data"], cfg.get("base_dir", "."))
    opts = cfg["options"]
    kwargs = dict(opts.get("params") or {})
    from bellmodels.scenario import Scenario

    if counts.scenario != Scenario.chsh():
        kwargs["scenario"] = counts.scenario
    model = models.get(task.model, **kwargs)
    train_info: dict[str, Any] = {}
    if opts.get("train"):
        t_train = time.perf_counter()
        fitted = model.fit(counts, **(opts.get("train_options") or {}))
        model = fitted if fitted is not None else model
        train_info = {"train_seconds": time.perf_counter() - t_train}
        for attr in ("kl_", "loss_", "mi_bits_", "n_iter_", "fit_time_", "restarts_"):
            if hasattr(model, attr):
                train_info[attr.rstrip("_")] = _jsonable(getattr(model, attr))
    report = audit(model)
    audit_dict = _jsonable(report.to_dict())
    data_audit = _jsonable(audit(counts).to_dict())
    table = model.ontic_table()
    behaviour = np.asarray(model.behaviour(), dtype=float)

    summary: dict[str, Any] = {
        "task": task.id,
        "model": task.model,
        "family": model.family,
        "status": "done",
        "audit": audit_dict,
        "data_audit": data_audit,
        "train": train_info,
        "n_trials": counts.total,
    }
    idata = None
    if opts.get("fit"):
        import pymc  # noqa: F401  (its import sets its logger to INFO; quieten it after)

        from bellmodels import inference

        # PyMC logs every sampler start at INFO; in a pool those lines tear through the
        # runner's progress bar and ignore --quiet. The task's summary records what they say.
        logging.getLogger("pymc").setLevel(logging.WARNING)

        inf = cfg["inference"]
        idata = inference.fit(
            model,
            counts,
            draws=int(inf["draws"]),
            tune=int(inf["tune"]),
            chains=int(inf["chains"]),
            seed=int(inf["seed"]),
            sampler=str(inf["sampler"]),
            init=str(inf["init"]),
            target_accept=float(inf["target_accept"]),
            progressbar=False,
            cores=int(inf["cores"]),
        )
        summary["fit"] = _fit_summary(inference, model, counts, idata, inf)

    summary["seconds"] = time.perf_counter() - t0
    summary["cpu_seconds"] = time.process_time() - c0  # this process only (cores = 1)
    summary["compiledir"] = compiledir
    summary["versions"] = _versions()

    ds = xr.Dataset(
        {
            "counts": counts.array,
            "behaviour": (("setting_a", "setting_b", "outcome_a", "outcome_b"), behaviour),
            "p_lambda": table.p_lambda.assign_coords(lam=np.arange(table.n_lambda)),
        }
    ).drop_vars([c for c in ("label_a", "label_b")], errors="ignore")
    ds.attrs = {
        "summary": json.dumps(_jsonable(summary), default=str),
        "task": task.to_json(),
        "lam_labels": json.dumps([str(v) for v in table.p_lambda["lam"].values]),
        "model": json.dumps(_jsonable(model.describe()), default=str),
        "versions": json.dumps(summary["versions"]),
    }
    tasks_dir = Path(out_dir) / "tasks"
    tasks_dir.mkdir(parents=True, exist_ok=True)
    final = tasks_dir / f"{task.id}.nc"
    tmp = _atomic_target(final)
    try:
        if idata is not None:
            idata.attrs.update({"task": task.to_json(), "study": cfg.get("study", "")})
            from bellmodels import _arviz

            _arviz.to_netcdf(idata, str(tmp))
            ds.to_netcdf(tmp, mode="a", group="bellmodels", engine="h5netcdf")
        else:
            ds.to_netcdf(tmp, mode="w", group="bellmodels", engine="h5netcdf")
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return _jsonable(summary)


def _fit_summary(
    inference: Any, model: Any, counts: Any, idata: Any, inf: Mapping[str, Any]
) -> dict[str, Any]:
    """Scalars of a fit: posterior S (mean, 94% HDI), MI, Hall M, LOO, evidence, diagnostics."""
    post = idata.posterior
    out: dict[str, Any] = {}
    if "S" in post:
        s = np.asarray(post["S"]).ravel()
        from bellmodels import _arviz

        lo, hi = _arviz.hdi(s, 0.94)
        out.update(S_mean=float(s.mean()), S_hdi=[lo, hi])
    inv = inference.invariant_draws(idata)
    for var in ("mi_bits", "hall_M"):
        if var in inv:
            out[f"{var}_mean"] = float(np.asarray(inv[var]).mean())
    loo = inference.loo(idata)
    out.update(
        elpd_loo=float(loo.elpd_loo),
        elpd_se=float(loo.se),
        p_loo=float(loo.p_loo),
        pareto_k_max=float(np.nanmax(np.asarray(loo.pareto_k))) if "pareto_k" in loo else None,
    )
    if inf.get("evidence", True):
        mean, se, _ = inference.log_evidence(
            model,
            counts,
            draws=int(inf["evidence_draws"]),
            chains=int(inf["evidence_chains"]),
            seed=int(inf["seed"]),
            cores=int(inf["cores"]),
        )
        out.update(log_evidence=float(mean), log_evidence_se=float(se))
    diag = inference.diagnostics(idata)
    out["diagnostics"] = _jsonable(diag)
    out["diagnostics_ok"] = bool(diag.get("ok", False))
    return out


def _task_entry(task_json: str, out_dir: str, compile_base: str | None = None) -> dict[str, Any]:
    """Runner entry point: run the task; on an exception record ``<id>.failed.json`` instead."""
    if compile_base is not None:
        _WORKER_STATE.setdefault("compile_base", compile_base)
    d = json.loads(task_json)
    t0 = time.perf_counter()
    try:
        summary = run_task(d, out_dir)
        (Path(out_dir) / "tasks" / f"{d['id']}.failed.json").unlink(missing_ok=True)
        # journalled here, right after the file's rename, so the journal has one "done" per
        # file written even if the runner is killed before it hears back
        _journal(Path(out_dir), "done", task=d["id"], seconds=summary.get("seconds"))
        return summary
    except Exception as exc:
        summary = {
            "task": d["id"],
            "model": d["model"],
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "seconds": time.perf_counter() - t0,
        }
        tasks_dir = Path(out_dir) / "tasks"
        tasks_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(tasks_dir / f"{d['id']}.failed.json", summary)
        _journal(Path(out_dir), "failed", task=d["id"], error=summary["error"])
        return summary


def _init_pool_worker(compile_base: str | None) -> None:
    """Initializer of the process pool: claim a compile directory before anything imports it."""
    _WORKER_STATE["compile_base"] = compile_base
    setup_worker(compile_base)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner handles Ctrl-C for everyone


# --------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------


class StudyInterrupted(KeyboardInterrupt):
    """Raised in the runner when it receives SIGTERM (or SIGINT)."""


def task_done(out_dir: str | os.PathLike[str], task_id: str) -> bool:
    """Whether ``task_id`` has a complete NetCDF in ``out_dir/tasks`` (files are written
    atomically, so existence means complete).

    >>> task_done("/nonexistent", "bell1964-0123456789")
    False
    """
    return (Path(out_dir) / "tasks" / f"{task_id}.nc").is_file()


def _journal(out_dir: Path, event: str, **fields: Any) -> None:
    line = json.dumps({"time": time.time(), "event": event, **_jsonable(fields)}) + "\n"
    fd = os.open(out_dir / "journal.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())  # one short O_APPEND write: never interleaved
    finally:
        os.close(fd)


@contextlib.contextmanager
def _exclusive(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.lock``: one runner per study directory at a time."""
    import fcntl

    fd = os.open(out_dir / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ValueError(
                f"another runner is using {str(out_dir)!r} (lock {out_dir / '.lock'})"
            ) from None
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`StudyInterrupted` in the main thread while running."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise StudyInterrupted(f"received signal {signum}")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _clean_temp(tasks_dir: Path) -> int:
    n = 0
    for tmp in tasks_dir.glob("*.tmp"):
        tmp.unlink(missing_ok=True)
        n += 1
    return n


def _cost_guess(task: Task) -> float:
    """A rough relative cost, to start the longest tasks first (fewer idle workers at the end):
    a Bayesian fit costs more than an audit, and more with more free parameters."""
    if not task.config["options"].get("fit"):
        return 0.0
    try:
        from bellmodels import models

        model = models.get(task.model, **(task.config["options"].get("params") or {}))
        size = sum(int(np.prod(p.shape)) for p in model.parameters.values())
    except Exception:
        size = 1
    return 1.0 + size


def run_tasks(
    tasks: Sequence[Task],
    out_dir: str | os.PathLike[str],
    *,
    workers: int | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    progress: bool = True,
    compile_base: str | os.PathLike[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the tasks that have no NetCDF yet; return ``{task id: summary}`` of those run.

    Parameters
    ----------
    tasks
        Tasks (from :meth:`StudyConfig.tasks`).
    out_dir
        Study directory; task files go to ``out_dir/tasks``.
    workers
        Processes (default: the number of CPUs, at most the number of pending tasks).
    dask
        Run on a ``dask.distributed.LocalCluster`` of ``workers`` single-threaded processes.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); ``out_dir`` must be on a file
        system the workers share. Run its workers single-threaded (``--nthreads 1``).
    progress
        Show a rich progress bar over tasks.
    compile_base
        Root of the per-process PyTensor compile directories (default
        :func:`default_compile_base`; on a remote cluster each worker's own default).

    Examples
    --------
    >>> cfg = load_study_file("studies/weinstein2017.toml")  # doctest: +SKIP
    >>> summaries = run_tasks(cfg.tasks(), "out/weinstein2017", workers=2)  # doctest: +SKIP
    """
    out = Path(out_dir)
    tasks_dir = out / "tasks"
    tasks_dir.mkdir(parents=True, exist_ok=True)
    _clean_temp(tasks_dir)
    pending = sorted((t for t in tasks if not task_done(out, t.id)), key=_cost_guess, reverse=True)
    for t in tasks:
        if t not in pending:
            _journal(out, "skipped", task=t.id)
    if not pending:
        return {}
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(pending)))
    base = None if compile_base is None else str(compile_base)
    if base is None and not scheduler:
        base = str(default_compile_base())
    results: dict[str, dict[str, Any]] = {}
    with _progress(progress, len(tasks), len(tasks) - len(pending)) as bar:

        def record(summary: dict[str, Any]) -> None:
            results[summary["task"]] = summary
            bar(summary)

        if dask or scheduler:
            _run_dask(pending, out, n_workers, scheduler, base, record)
        else:
            _run_pool(pending, out, n_workers, base, record)
    return results


def _run_pool(
    pending: Sequence[Task],
    out: Path,
    n_workers: int,
    base: str | None,
    record: Callable[[dict[str, Any]], None],
) -> None:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")  # a fresh interpreter: nothing (PyTensor) imported before
    pool = ProcessPoolExecutor(
        max_workers=n_workers, mp_context=ctx, initializer=_init_pool_worker, initargs=(base,)
    )
    futures = {}
    try:
        with _terminate_on_sigterm():
            futures = {pool.submit(_task_entry, t.to_json(), str(out), base): t for t in pending}
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = futures[fut]
                    try:
                        record(fut.result())
                    except BrokenProcessPool as exc:
                        record(_crash_summary(out, task, exc))
        pool.shutdown(wait=True)
    except BaseException:
        _stop_pool(pool)
        _clean_temp(out / "tasks")
        _journal(out, "interrupted", pending=[t.id for f, t in futures.items() if not f.done()])
        raise


def _stop_pool(pool: Any) -> None:
    """Cancel queued tasks and terminate the pool's worker processes (no partial output: every
    file a worker writes is a temp file until its final rename)."""
    import multiprocessing as mp

    pool.shutdown(wait=False, cancel_futures=True)
    for child in mp.active_children():
        child.terminate()
    for child in mp.active_children():
        child.join(timeout=10)


def _crash_summary(out: Path, task: Task, exc: BaseException) -> dict[str, Any]:
    summary = {
        "task": task.id,
        "model": task.model,
        "status": "failed",
        "error": f"worker process died: {type(exc).__name__}: {exc}",
        "traceback": "",
        "seconds": None,
    }
    write_json_atomic(out / "tasks" / f"{task.id}.failed.json", summary)
    _journal(out, "failed", task=task.id, error=summary["error"])
    return summary


def _run_dask(
    pending: Sequence[Task],
    out: Path,
    n_workers: int,
    scheduler: str | None,
    base: str | None,
    record: Callable[[dict[str, Any]], None],
) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ValueError(
            "the Dask runner needs dask.distributed: pip install 'bellmodels[distributed]'"
        ) from exc

    cluster = None
    with _terminate_on_sigterm():
        try:
            if scheduler:
                client = Client(scheduler)
            else:
                cluster = LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                )
                client = Client(cluster)
            try:
                futures = [
                    client.submit(
                        _task_entry,
                        t.to_json(),
                        str(out),
                        base,
                        key=f"bellmodels-{t.id}",
                        pure=False,
                    )
                    for t in pending
                ]
                by_key = {f.key: t for f, t in zip(futures, pending, strict=True)}
                for fut in as_completed(futures):
                    try:
                        record(fut.result())
                    except Exception as exc:  # worker died, lost, or cancelled
                        record(_crash_summary(out, by_key[fut.key], exc))
            except BaseException:
                _journal(out, "interrupted")
                raise
            finally:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()
            _clean_temp(out / "tasks")


@contextlib.contextmanager
def _progress(show: bool, total: int, completed: int) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A rich progress bar over tasks (or nothing when ``show`` is false)."""
    if not show:
        yield lambda summary: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]tasks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as prog:
        bar = prog.add_task("", total=total, completed=completed)

        def update(summary: dict[str, Any]) -> None:
            status = summary["status"]
            if status != "done":
                console.print(f"[red]task {summary['task']} failed:[/] {summary.get('error')}")
            prog.update(bar, advance=1, description=f"{summary['model']} {status}")

        yield update


# --------------------------------------------------------------------------------------------
# Results store
# --------------------------------------------------------------------------------------------

_AUDIT_VARS = (
    "S",
    "mi_bits",
    "hall_M",
    "hall_M_a",
    "hall_M_b",
    "hall_bound",
    "min_mi_bits",
    "ch_J",
    "parameter_independence_violation",
    "outcome_independence_violation",
)
_FIT_VARS = (
    "S_mean",
    "mi_bits_mean",
    "hall_M_mean",
    "elpd_loo",
    "elpd_se",
    "p_loo",
    "pareto_k_max",
    "log_evidence",
    "log_evidence_se",
)
_COMPARE_VARS = ("elpd_loo", "se", "d_loo", "dse", "weight", "p_loo", "pareto_k_max")


def read_task_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The summary a task stored in its NetCDF (``bellmodels`` group attrs).

    >>> read_task_summary("out/weinstein2017/tasks/rbm-c8a134e1b5.nc")["status"]  # doctest: +SKIP
    'done'
    """
    import xarray as xr

    with xr.open_dataset(path, group="bellmodels", engine="h5netcdf") as ds:
        return json.loads(ds.attrs["summary"])


def collect_summaries(cfg: StudyConfig, out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``{task id: summary}`` from the task files (done) and failure records (failed); tasks
    with neither have status ``"missing"``.

    >>> cfg = load_study_file("studies/md_frontier.toml")  # doctest: +SKIP
    >>> {s["status"] for s in collect_summaries(cfg, "out/md_frontier").values()}  # doctest: +SKIP
    {'done'}
    """
    tasks_dir = Path(out_dir) / "tasks"
    out: dict[str, Any] = {}
    for t in cfg.tasks():
        nc = tasks_dir / f"{t.id}.nc"
        failed = tasks_dir / f"{t.id}.failed.json"
        if nc.is_file():
            out[t.id] = read_task_summary(nc)
        elif failed.is_file():
            out[t.id] = json.loads(failed.read_text(encoding="utf-8"))
        else:
            out[t.id] = {"task": t.id, "model": t.model, "status": "missing"}
    return out


def aggregate(
    cfg: StudyConfig,
    out_dir: str | os.PathLike[str],
    comparisons: Mapping[int, Mapping[str, Mapping[str, Any]]] | None = None,
) -> Any:
    """Build the results :class:`xarray.Dataset`: dims = sweep axes + ``model``.

    Per (point, model): the audit numbers (``S``, ``mi_bits``, ``hall_M``, ...,
    ``classification``), the fit summaries (``S_mean``, ``S_hdi_low/high``, ``elpd_loo``,
    ``log_evidence``, ``diagnostics_ok``), the comparison (``d_loo``, ``weight``, ``rank``),
    ``status``, ``error``, ``task``, ``seconds``; per point: the data's ``data_S`` and
    ``data_S_se`` and ``n_trials``. Attributes: the resolved configuration and package versions
    (JSON).

    >>> cfg = load_study_file("studies/md_frontier.toml")  # doctest: +SKIP
    >>> aggregate(cfg, "out/md_frontier")["mi_bits"].dims  # doctest: +SKIP
    ('mi_penalty', 'model')
    """
    import xarray as xr

    summaries = collect_summaries(cfg, out_dir)
    grid = cfg.grid()
    models = cfg.models()
    shape = (*cfg.shape, len(models))
    dims = (*(a.name for a in cfg.axes), "model")

    def empty(kind: str) -> np.ndarray:
        if kind == "f":
            return np.full(shape, np.nan)
        return np.full(shape, "", dtype=object)

    fvars = {k: empty("f") for k in (*_AUDIT_VARS, *_FIT_VARS, "S_hdi_low", "S_hdi_high")}
    fvars.update(
        {k: empty("f") for k in ("d_loo", "dse", "weight", "rank", "seconds", "cpu_seconds")}
    )
    fvars.update({k: empty("f") for k in ("train_kl", "train_mi_bits")})
    fvars["diagnostics_ok"] = empty("f")
    svars = {k: empty("s") for k in ("classification", "family", "status", "error", "task")}
    data_shape = cfg.shape
    data_vars = {
        k: np.full(data_shape, np.nan)
        for k in ("data_S", "data_S_se", "data_min_mi_bits", "n_trials")
    }
    flat_points = list(np.ndindex(*data_shape)) if data_shape else [()]
    versions: dict[str, str] = {}
    for idx, (_coords, tasks) in zip(flat_points, grid, strict=True):
        point = flat_points.index(idx)
        comp = (comparisons or {}).get(point, {})
        for t in tasks:
            j = models.index(t.model)
            at = (*idx, j)
            s = summaries[t.id]
            svars["task"][at] = t.id
            svars["status"][at] = s.get("status", "missing")
            svars["error"][at] = s.get("error", "") or ""
            for key in ("seconds", "cpu_seconds"):
                if s.get(key) is not None:
                    fvars[key][at] = s[key]
            if s.get("status") != "done":
                continue
            versions = s.get("versions", versions)
            a = s["audit"]
            for k in _AUDIT_VARS:
                v = a.get(k)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    fvars[k][at] = v
            svars["classification"][at] = a.get("classification", "")
            svars["family"][at] = s.get("family", "")
            train = s.get("train") or {}
            for k in ("kl", "mi_bits"):
                if isinstance(train.get(k), (int, float)):
                    fvars[f"train_{k}"][at] = train[k]
            f = s.get("fit") or {}
            for k in _FIT_VARS:
                if f.get(k) is not None:
                    fvars[k][at] = f[k]
            if f.get("S_hdi"):
                fvars["S_hdi_low"][at], fvars["S_hdi_high"][at] = f["S_hdi"]
            if "diagnostics_ok" in f:
                fvars["diagnostics_ok"][at] = float(bool(f["diagnostics_ok"]))
            row = comp.get(t.model)
            if row:
                for k in ("d_loo", "dse", "weight", "rank"):
                    if row.get(k) is not None:
                        fvars[k][at] = row[k]
            d = s["data_audit"]
            data_vars["data_S"][idx] = d.get("S", np.nan)
            mm = d.get("min_mi_bits")
            data_vars["data_min_mi_bits"][idx] = np.nan if mm is None else mm
            se = d.get("S_se")
            data_vars["data_S_se"][idx] = np.nan if se is None else se
            data_vars["n_trials"][idx] = s.get("n_trials", np.nan)
    coords: dict[str, Any] = {a.name: _coord(a.values) for a in cfg.axes}
    coords["model"] = np.array(models, dtype=object)
    ds = xr.Dataset(coords=coords)
    for k, v in fvars.items():
        ds[k] = (dims, v)
    for k, v in svars.items():
        ds[k] = (dims, v.astype(str))
    for k, v in data_vars.items():
        ds[k] = (dims[:-1], v)
    ds.attrs = {
        "study": cfg.name,
        "config": cfg.to_json(),
        "versions": json.dumps(versions),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return ds


def _coord(values: Sequence[Any]) -> np.ndarray:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values)
    if all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=str)
    return np.asarray([json.dumps(v) for v in values], dtype=str)


def compare_point(
    out_dir: str | os.PathLike[str], task_ids: Mapping[str, str]
) -> tuple[dict[str, dict[str, Any]], Any]:
    """Compare the fitted models of one sweep point by PSIS-LOO on the stored InferenceData.

    Parameters
    ----------
    out_dir
        The study directory.
    task_ids
        ``{model: task id}`` of the point; models without a fit are left out.

    Returns
    -------
    rows, table
        ``{model: {"elpd_loo", "se", "d_loo", "dse", "weight", "p_loo", "rank"}}`` and the ArviZ
        comparison DataFrame (``None`` when no model was fitted).

    >>> rows, table = compare_point("out/weinstein2017", {"rbm": "rbm-c8a134e1b5"})  # doctest: +SKIP
    """
    from bellmodels import _arviz
    from bellmodels.inference import loo

    elpds = {}
    for model, tid in task_ids.items():
        path = Path(out_dir) / "tasks" / f"{tid}.nc"
        if not tid or not path.is_file():
            continue
        if not read_task_summary(path).get("fit"):
            continue
        elpds[model] = loo(_arviz.from_netcdf(str(path)))
    if not elpds:
        return {}, None
    table = _arviz.compare(elpds)
    rows = {}
    for model, row in table.iterrows():
        rows[str(model)] = {
            "elpd_loo": float(row["elpd_loo"]),
            "se": float(row["se"]),
            "d_loo": float(row["elpd_diff"]),
            "dse": float(row["dse"]),
            "weight": float(row["weight"]),
            "p_loo": float(row["p_loo"]),
            "rank": int(row["rank"]),
        }
    return rows, table


def write_results(ds: Any, out_dir: str | os.PathLike[str]) -> Path:
    """Write the results Dataset to ``out_dir/results.nc`` atomically.

    >>> write_results(aggregate(cfg, "out/x"), "out/x")  # doctest: +SKIP
    PosixPath('out/x/results.nc')
    """
    final = Path(out_dir) / "results.nc"
    tmp = _atomic_target(final)
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def load_study(out_dir: str | os.PathLike[str]) -> Any:
    """The results of a study run: an :class:`xarray.Dataset` indexed by sweep axes and model.

    Parameters
    ----------
    out_dir
        The directory :func:`run_study` wrote (it holds ``results.nc``).

    Returns
    -------
    xarray.Dataset
        Loaded into memory; ``attrs["config"]`` is the resolved study configuration (JSON),
        ``attrs["versions"]`` the package versions.

    Examples
    --------
    >>> ds = load_study("out/weinstein2017")  # doctest: +SKIP
    >>> ds["elpd_loo"].to_series().sort_values()  # doctest: +SKIP
    """
    import xarray as xr

    path = Path(out_dir) / "results.nc"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist: run the study first")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def load_task(out_dir: str | os.PathLike[str], task_id: str) -> tuple[Any, Any]:
    """``(bellmodels group Dataset, InferenceData or None)`` of one task of a study run.

    >>> ds = load_study("out/weinstein2017")  # doctest: +SKIP
    >>> extra, idata = load_task("out/weinstein2017", str(ds["task"].sel(model="rbm").values))  # doctest: +SKIP
    >>> idata.posterior["S"].mean().item()  # doctest: +SKIP
    2.82...
    """
    import xarray as xr

    path = Path(out_dir) / "tasks" / f"{task_id}.nc"
    with xr.open_dataset(path, group="bellmodels", engine="h5netcdf") as ds:
        extra = ds.load()
    summary = json.loads(extra.attrs["summary"])
    idata = None
    if summary.get("fit"):
        from bellmodels import _arviz

        idata = _arviz.from_netcdf(str(path))
    return extra, idata


def run_study(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    progress: bool = True,
    report: bool = True,
    compile_base: str | os.PathLike[str] | None = None,
) -> Any:
    """Run a study file end to end: tasks, results store, comparison, report.

    Parameters
    ----------
    path
        The study's TOML file.
    out
        Output directory (default ``out/<study name>``). Re-running with the same directory skips
        the tasks already done.
    workers, dask, scheduler, progress, compile_base
        See :func:`run_tasks`.
    report
        Write ``report.md``, ``report.html`` and the figures.

    Returns
    -------
    xarray.Dataset
        The aggregated results (also in ``out/results.nc``).

    Examples
    --------
    >>> import bellmodels as bm
    >>> ds = bm.run_study("studies/weinstein2017.toml")  # doctest: +SKIP
    >>> float(ds["data_S"])  # doctest: +SKIP
    2.83...
    """
    cfg = load_study_file(path)
    out_dir = Path(out) if out is not None else Path("out") / cfg.name
    out_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir):
        write_json_atomic(out_dir / "study.json", json.loads(cfg.to_json()))
        tasks = cfg.tasks()
        _journal(out_dir, "start", tasks=len(tasks), study=cfg.name)
        t0 = time.perf_counter()
        run_tasks(
            tasks,
            out_dir,
            workers=workers,
            dask=dask,
            scheduler=scheduler,
            progress=progress,
            compile_base=compile_base,
        )
        summaries = collect_summaries(cfg, out_dir)
        comparisons = {}
        for i, (_coords, point_tasks) in enumerate(cfg.grid()):
            ok = {t.model: t.id for t in point_tasks if summaries[t.id].get("status") == "done"}
            comparisons[i] = compare_point(out_dir, ok)[0]
        ds = aggregate(cfg, out_dir, comparisons)
        ds.attrs["tasks_seconds"] = time.perf_counter() - t0
        write_results(ds, out_dir)
        _journal(out_dir, "finished", seconds=time.perf_counter() - t0)
        if report:
            from bellmodels.report import write_report

            write_report(out_dir)
    return ds
