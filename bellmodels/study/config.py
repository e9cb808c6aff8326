"""Study configuration: a TOML file -> validated configuration -> tasks -> runner -> per-task NetCDF -> results.

A study file names a data source, the models, the inference settings and the seeds. **Any field
can be a list**: a list where the field takes one value is a *sweep axis*, and the study is the
product of its axes (a field that already takes a list, such as ``models.include`` or
``data.setting_probs``, sweeps when given a list of lists). Every mistake is reported with the
file and the key (``ValueError``). Example::

    [study]
    name = "noise"
    modules = ["mypkg.models"] # optional: modules registering models of your own

    [data]
    source = "simulate"        # "simulate" | "dataset" | "file"
    n_trials = [1000, 100000]  # sweep axis "n_trials"
    visibility = [0.6, 0.8, 1.0]
    seed = 0

    [models]
    include = ["local-polytope", "quantum-singlet"]

    [models.rbm]               # options of one model (it must be in include)
    train = true               # exact maximum-likelihood training before the audit
    train_options = { }        # keyword arguments of the model's train(counts, ...)
    params = { }               # constructor values (parameters of the model)
    fit = true                 # Bayesian fit of this model (default: [inference].fit)

    [[models.rbm.inference_at]] # its [inference] keys at chosen sweep points only
    point = { n_trials = 100000 }  # sweep axis = a value or a list of values
    draws = 4000               # the other points' tasks (and their ids) are unchanged

    [inference]
    fit = true
    draws = 500
    tune = 500
    chains = 2
    seed = 1
    evidence = true

The study expands into **tasks**, one per (sweep point, model); a task's identity is a hash of the
configuration it depends on (data, inference, that model's options, and the SHA-256 of its data
file: a changed file reruns what reads it), so a task shared by several sweep points runs once.
The runner executes the tasks on a local process pool (default, no server) or on Dask
(``dask=True`` for a ``LocalCluster``, ``scheduler="tcp://..."`` for a running cluster). Each
task builds its model inside the worker with its own PyTensor compile directory (compilation is
not thread-safe), writes one NetCDF (the InferenceData of the fit, if any, plus a ``bellmodels``
group with the audit, the model's behaviour and ontic table, the resolved configuration and
package versions) atomically (temp file + :func:`os.replace`), and returns a small JSON summary.
Re-running a study skips every task whose NetCDF is complete (opened and checked; a damaged one
is redone); a failing task is recorded with its error (``tasks/<id>.failed.json``) and the rest
go on; ``SIGTERM`` stops the workers and leaves no partial file. At the end the summaries are
aggregated into one :class:`xarray.Dataset` indexed by the sweep axes and ``model``
(``results.nc``; see :func:`load_study`), with the fitted models ranked at every sweep point
(:func:`bellmodels.comparison.rank`); ``bm.run_study`` then writes the report
(:mod:`bellmodels.report`). This module is the configuration: the sweep axes and the tasks;
:mod:`bellmodels.study.schema` holds the keys a study file may set and checks their values.

See :mod:`bellmodels.study` for an example.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bellmodels.studies import resolve as resolve_study
from bellmodels.study.inference_at import apply_inference_at, check_inference_at
from bellmodels.study.schema import (
    _LIST,
    MODEL_OPTIONS,
    SCHEMA,
    _check_value,
    _is_sweep,
    _parse_model_options,
    _scenario,
    _suggest,
    _where,
)
from bellmodels.study.validate import check_study, data_path

LEGACY_HASH_KEYS: dict[str, str] = {"n_trials": "trials"}
"""``[data]`` keys renamed since 0.1, new -> old: a task's identity hashes them under the old
name, so that a study rerun into an existing output directory does not redo finished tasks."""


@dataclasses.dataclass(frozen=True)
class Axis:
    """One sweep axis: the dotted key it comes from, its dimension name and its values."""

    key: tuple[str, ...]
    name: str
    values: tuple[Any, ...]
    also: tuple[tuple[str, ...], ...] = ()
    """Further keys set to the same value (one model parameter swept alike for several models)."""


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
    inputs: dict[str, str] = dataclasses.field(default_factory=dict)
    """``{absolute path: SHA-256}`` of every data file the study reads (part of task identity)."""

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
                for key in (axis.key, *axis.also):
                    _set_path(cfg, key, copy.deepcopy(value))
                coords[axis.name] = value
            apply_inference_at(cfg, coords)
            yield coords, cfg

    def task_for(self, cfg: Mapping[str, Any], model: str) -> Task:
        """The task of ``model`` at the resolved configuration ``cfg`` (hash of what it uses)."""
        options = {k: v for k, v in MODEL_OPTIONS.items()}
        opts = dict(cfg["models"].get("options", {}).get(model, {}))
        for key, fld in options.items():
            opts.setdefault(key, copy.deepcopy(fld.default))
        opts.pop("inference_at")  # applied to opts["inference"] by points(); its effect is hashed
        inference = dict(cfg["inference"], **(opts.pop("inference") or {}))
        if opts["fit"] is None:
            opts["fit"] = bool(inference["fit"])
        opts["params"] = opts["params"] or {}
        opts["train_options"] = opts["train_options"] or {}
        data = _data_identity(cfg["data"])
        if data["source"] == "file":  # the file's content, not only its name, is the input
            data["sha256"] = self.inputs.get(str(data_path(data, self.base_dir).resolve()))
        relevant = {
            "data": data,
            "inference": inference if opts["fit"] else {},
            "model": model,
            "options": opts,
        }
        # hashed under the keys' 0.1 names, so a renamed key does not rerun finished tasks
        hashed = dict(relevant, data={LEGACY_HASH_KEYS.get(k, k): v for k, v in data.items()})
        blob = json.dumps(hashed, sort_keys=True, default=str).encode()
        digest = hashlib.sha1(blob).hexdigest()[:10]
        config = dict(relevant, base_dir=str(self.base_dir), study=cfg["study"]["name"])
        if cfg["study"].get("modules"):  # where the worker finds the model; not in the hash
            config["modules"] = list(cfg["study"]["modules"])
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
                    | ({"also": [".".join(k) for k in a.also]} if a.also else {})
                    for a in self.axes
                ],
                "source": self.source,
                "inputs": self.inputs,
            },
            default=str,
        )


_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def safe_name(text: str) -> str:
    """``text`` as one safe file name: characters other than letters, digits and ``._+-``
    become ``_``, leading dots are dropped (never ``.``, ``..`` or a hidden file).

    >>> safe_name("../../etc/x"), safe_name("my study"), safe_name("..")
    ('_.._etc_x', 'my_study', 'study')
    """
    out = _UNSAFE.sub("_", str(text)).lstrip(".")[:120]
    return out or "study"


def check_name(name: str, where: str) -> str:
    """Refuse a name that is not one plain file name (it names a directory under ``out/``).

    >>> check_name("noise-sweep_2", "s.toml: key 'study.name'")
    'noise-sweep_2'
    >>> check_name("../../x", "s.toml: key 'study.name'")
    Traceback (most recent call last):
    ...
    ValueError: s.toml: key 'study.name' is '../../x': ...
    """
    if safe_name(name) != name:
        raise ValueError(
            f"{where} is {name!r}: a study name becomes a directory under out/, so it may hold "
            f"only letters, digits and ._+- and may not start with a dot (e.g. "
            f"{safe_name(name)!r})"
        )
    return name


#: What each data source reads; the other ``[data]`` fields do not enter a task's identity.
_DATA_READS = {
    "simulate": ("n_trials", "visibility", "seed", "scenario", "setting_probs"),
    "dataset": ("dataset",),
    "file": ("path",),
}


def _data_identity(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the fields its source does not read at their defaults (the task's hash).

    So a study sweeping ``data.source`` over a dataset and simulations runs the dataset's tasks
    once, not once per simulated size; a study that leaves those fields alone hashes as before.

    >>> _data_identity({"source": "dataset", "dataset": "delft2015", "n_trials": 1000,
    ...                 "visibility": 0.9, "seed": 0, "scenario": "chsh",
    ...                 "setting_probs": None, "path": None})["n_trials"]
    100000
    """
    from bellmodels.study.schema import SCHEMA

    reads = _DATA_READS.get(str(data["source"]), tuple(data))
    return {
        k: v
        if k == "source" or k in reads or k not in SCHEMA["data"]
        else SCHEMA["data"][k].default
        for k, v in data.items()
    }


def _merge_param_axes(axes: Sequence[Axis]) -> list[Axis]:
    """One axis for a model parameter swept with the same name and values in several models.

    ``params = { n_hidden = [1, 2] }`` under both ``[models.rbm]`` and ``[models.crbm]`` is
    one axis ``n_hidden`` (the rbm and the crbm with 1 hidden unit, then both with 2), not their
    product. Any other pair of axes sharing a name stays a product (named by the dotted keys).
    """
    out: list[Axis] = []
    for a in axes:
        twin = next(
            (
                i
                for i, b in enumerate(out)
                if _is_param_axis(a)
                and _is_param_axis(b)
                and (b.name, b.values) == (a.name, a.values)
            ),
            None,
        )
        if twin is None:
            out.append(a)
        else:
            b = out[twin]
            out[twin] = Axis(b.key, b.name, b.values, (*b.also, a.key))
    return out


def _is_param_axis(a: Axis) -> bool:
    return len(a.key) == 5 and a.key[:2] == ("models", "options") and a.key[3] == "params"


def _set_path(d: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for key in path[:-1]:
        d = d.setdefault(key, {})
    d[path[-1]] = value


def load_study_file(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> StudyConfig:
    """Read and validate a study TOML file.

    Parameters
    ----------
    path
        The ``.toml`` file, or the name of a study shipped with the package
        (:mod:`bellmodels.studies`: ``"weinstein2017"``); an existing file wins.
    overrides
        ``"section.key=value"`` settings applied over the file before it is validated (see
        :func:`apply_overrides`), e.g. ``["inference.seed=2"]``.

    Returns
    -------
    StudyConfig

    Raises
    ------
    FileNotFoundError
        If the file does not exist and is no shipped study (the message lists those, with the
        closest name).
    ValueError
        On any mistake, naming the file and the key (unknown key, wrong type, unknown model,
        empty sweep axis, bad TOML syntax).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "tiny.toml"
    ...     _ = path.write_text('[data]\\nsource = "simulate"\\n[models]\\ninclude = ["bell1964"]\\n')
    ...     cfg = load_study_file(path)
    >>> cfg.name, cfg.config["models"]["include"]
    ('tiny', ['bell1964'])
    """
    p = resolve_study(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{p!s}: not a study file (TOML text in UTF-8): byte {exc.start} is not UTF-8"
        ) from None
    return parse_study(
        text,
        source=str(p),
        base_dir=p.resolve().parent,
        default_name=safe_name(p.stem),
        overrides=overrides,
    )


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str], source: str) -> dict[str, Any]:
    """A copy of the parsed TOML ``raw`` with each ``"dotted.key=value"`` set in it.

    The value is read as a TOML value (``2``, ``1e5``, ``"smc"``, ``[1, 2]``, ``true``); text
    that is not one is taken as a string. Missing tables on the path are created; a path through
    a value that is not a table is an error naming the override. The result is validated like
    the file itself, so a misspelt key is reported with its known neighbours.

    >>> apply_overrides({"inference": {"seed": 1}}, ["inference.seed=2", "report.figures=false"],
    ...                 "s.toml")
    {'inference': {'seed': 2}, 'report': {'figures': False}}
    >>> apply_overrides({}, ["models.rbm.inference.draws=500"], "s.toml")["models"]
    {'rbm': {'inference': {'draws': 500}}}
    """
    out = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        path = [k.strip() for k in key.split(".")]
        if not sep or not all(path):
            raise ValueError(f"{source}: override {item!r} is not of the form section.key=value")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        table = out
        for depth, k in enumerate(path[:-1]):
            table = table.setdefault(k, {})
            if not isinstance(table, dict):
                raise ValueError(
                    f"{source}: override {item!r}: {'.'.join(path[: depth + 1])} is not a table"
                )
        table[path[-1]] = value
    return out


def parse_study(
    text: str,
    *,
    source: str = "<study>",
    base_dir: str | os.PathLike[str] | None = None,
    default_name: str = "study",
    overrides: Sequence[str] = (),
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
    overrides
        ``"section.key=value"`` settings applied before validation (:func:`apply_overrides`).

    Returns
    -------
    StudyConfig

    Examples
    --------
    >>> parse_study('[data]\\nsource = "simulate"\\n[models]\\ninclude = ["bell1964"]\\n').name
    'study'
    """
    raw = _read_toml(text, source, overrides)
    config: dict[str, Any] = {}
    axes: list[Axis] = []

    def add_axis(
        path: tuple[str, ...], values: list[Any], store: tuple[str, ...] | None = None
    ) -> None:
        if not values:
            raise ValueError(f"{_where(source, path)} is an empty sweep axis (an empty list)")
        axes.append(Axis(store or path, path[-1], tuple(values)))

    for section in SCHEMA:
        config[section] = _parse_section(section, raw.get(section, {}), source, add_axis)
    if config["study"]["name"] is None:
        config["study"]["name"] = default_name
    check_name(config["study"]["name"], _where(source, ["study", "name"]))
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    cfg = StudyConfig(config, axes, source, base)
    _check_semantics(cfg, overridden=bool(overrides))
    return cfg


def _read_toml(text: str, source: str, overrides: Sequence[str]) -> dict[str, Any]:
    """The TOML text as tables, with the overrides set, after checking its sections are known
    tables and ``[data]`` and ``[models]`` are there."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from None
    if overrides:
        raw = apply_overrides(raw, overrides, source)
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
    return raw


def _parse_section(
    section: str, given_in: Mapping[str, Any], source: str, add_axis: Callable[..., None]
) -> dict[str, Any]:
    """One section's keys checked against :data:`SCHEMA`, defaults filled in; a list where the
    schema wants one value is a sweep axis (``add_axis``), its first value the section's."""
    fields = SCHEMA[section]
    given = dict(given_in)
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
    if section == "study":  # models of one's own, known before [models] is read
        from bellmodels.models import import_modules

        import_modules(out["modules"], source=_where(source, ["study", "modules"]))
    return out


def _check_semantics(cfg: StudyConfig, overridden: bool = False) -> None:
    """Checks across keys: data source completeness, model names and options, scenario
    (``overridden``: ``--set`` values over the file, :func:`check_inference_at`)."""
    from bellmodels import models
    from bellmodels.models.registry import unknown_model_message

    source = cfg.source
    names = set(models.names())
    seen_models: set[str] = set()
    cfg.axes[:] = _merge_param_axes(cfg.axes)
    # dimension names must be unique: fall back to the dotted key
    counts: dict[str, int] = {}
    for a in cfg.axes:
        counts[a.name] = counts.get(a.name, 0) + 1
    cfg.axes[:] = [
        a if counts[a.name] == 1 else Axis(a.key, "_".join(a.key), a.values) for a in cfg.axes
    ]
    check_inference_at(cfg.config, cfg.axes, cfg.source, overridden)
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
                    f"{_where(source, ['models', 'include'])}: {unknown_model_message(m)}"
                )
            seen_models.add(m)
    for m in cfg.config["models"]["options"]:
        if m not in seen_models:
            raise ValueError(
                f"{_where(source, ['models', m])}: options for a model not in "
                f"models.include{_suggest(m, seen_models)}"
            )
    cfg.inputs = check_study(cfg)


__all__ = [
    "Axis",
    "StudyConfig",
    "Task",
    "load_study_file",
    "parse_study",
]
