"""Checks of a whole study before anything is written: what every task would reject, found first.

A task runs in a worker, after the runner has made the output directory; a mistake it finds there
(an unknown sampler, ``visibility = 1.7``, setting probabilities that do not sum to one, a model
parameter out of its range) would fail every task of the study, one by one. :func:`check_study`
does, at every sweep point, what the tasks will do up to the data and the model: it resolves the
data (simulates one trial with the point's settings, loads the dataset, reads the file), builds
every model with its options (so the model constructors' own checks run), and checks the sampler,
initialisation and target acceptance of every fitted model. Each mistake is one ``ValueError``
naming the study file and the key.

It also computes the **input fingerprints**: the SHA-256 of every data file the study reads
(streamed, :func:`file_sha256`), which enter the identity of the tasks that read the file
(:meth:`bellmodels.study.config.StudyConfig.task_for`), so that a changed file reruns them.

>>> from bellmodels.study import parse_study
>>> parse_study('''
... [data]
... source = "simulate"
... setting_probs = [[0.5, 0.5], [0.0, 0.1]]
... [models]
... include = ["bell1964"]
... ''', source="probs.toml")
Traceback (most recent call last):
...
ValueError: probs.toml: key 'data.setting_probs': ...
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bellmodels.study.schema import _scenario, _suggest, _where

INIT_CHOICES: tuple[str, ...] = ("auto", "params", "prior")
"""Initialisations :func:`bellmodels.inference.fit` accepts."""


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file's bytes, read in chunks (a large file is never held in memory).

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def data_path(data: Mapping[str, Any], base_dir: str | os.PathLike[str]) -> Path:
    """The absolute path of a ``source = "file"`` data section (relative to the study file).

    >>> str(data_path({"path": "counts.csv"}, "/studies"))
    '/studies/counts.csv'
    """
    p = Path(data["path"])
    return p if p.is_absolute() else Path(base_dir) / p


def check_study(cfg: Any) -> dict[str, str]:
    """Check every sweep point of a parsed study as its tasks would; return the input fingerprints.

    Parameters
    ----------
    cfg
        A :class:`~bellmodels.study.config.StudyConfig` (its keys and types already checked).

    Returns
    -------
    dict
        ``{absolute path of a data file: its SHA-256}`` for every file the study reads.

    Raises
    ------
    ValueError
        The first mistake found, naming the study file and the key.
    """
    source = cfg.source
    counts_cache: dict[str, Any] = {}
    inputs: dict[str, str] = {}
    built: dict[str, Any] = {}
    for _coords, c in cfg.points():
        scenario = _point_scenario(c["data"], cfg, counts_cache, inputs)
        for m in c["models"]["include"]:
            opts = c["models"]["options"].get(m, {})
            key = repr((m, opts.get("params") or {}, opts.get("train"), scenario))
            if key not in built:
                built[key] = _build_model(m, opts, scenario, source)
            _check_inference(c, m, opts, built[key], source)
    return inputs


def _point_scenario(
    data: Mapping[str, Any], cfg: Any, cache: dict[str, Any], inputs: dict[str, str]
) -> Any:
    """Resolve the data of one point as a task would; return its scenario."""
    source = cfg.source
    src = data["source"]
    if src == "simulate":
        from bellmodels.simulate import simulate_singlet

        try:
            scn = _scenario(data["scenario"])
        except ValueError as exc:
            raise ValueError(f"{_where(source, ['data', 'scenario'])}: {exc}") from None
        try:  # one trial: reaches every check of the settings distribution and the visibility
            simulate_singlet(
                scn,
                n_trials=1,
                seed=int(data["seed"]),
                visibility=float(data["visibility"]),
                setting_probs=data.get("setting_probs"),
            )
        except (TypeError, ValueError) as exc:
            key = "setting_probs" if data.get("setting_probs") is not None else "visibility"
            raise ValueError(f"{_where(source, ['data', key])}: {exc}") from None
        return scn
    if src == "dataset":
        from bellmodels import datasets

        name = data["dataset"]
        if name not in cache:
            if name not in datasets.names():
                raise ValueError(
                    f"{_where(source, ['data', 'dataset'])}: unknown dataset {name!r}"
                    f"{_suggest(name, datasets.names())}; shipped datasets: "
                    f"{', '.join(datasets.names())}"
                )
            cache[name] = datasets.load(name)
        return cache[name].scenario
    p = data_path(data, cfg.base_dir)
    key = str(p.resolve())
    if key not in cache:
        from bellmodels.data import read_counts

        try:
            inputs[key] = file_sha256(p)
            cache[key] = read_counts(p)
        except (ValueError, OSError, KeyError) as exc:
            raise ValueError(f"{_where(source, ['data', 'path'])}: {exc}") from None
    return cache[key].scenario


def _build_model(m: str, opts: Mapping[str, Any], scenario: Any, source: str) -> Any:
    """Build ``m`` with its options as the worker will (its constructor's checks run)."""
    from bellmodels import models
    from bellmodels.scenario import Scenario

    kwargs = dict(opts.get("params") or {})
    if scenario != Scenario.chsh():
        kwargs["scenario"] = scenario
    try:
        model = models.get(m, **kwargs)
    except (TypeError, ValueError) as exc:
        key = ["models", m, "params"] if opts.get("params") else ["models", "include"]
        raise ValueError(f"{_where(source, key)}: model {m!r}: {exc}") from None
    if opts.get("train") and not model.trainable:
        raise ValueError(
            f"{_where(source, ['models', m, 'train'])}: model {m!r} has no train() "
            "(only trainable models, such as the RBM, can be trained)"
        )
    return model


def _check_inference(
    c: Mapping[str, Any], m: str, opts: Mapping[str, Any], model: Any, source: str
) -> None:
    """Sampler, init and target acceptance of a fitted model (its own overrides first)."""
    from bellmodels.inference.samplers import choose_sampler

    own = opts.get("inference") or {}
    inf = dict(c["inference"], **own)
    fit = opts.get("fit")
    if not (inf["fit"] if fit is None else fit):
        return

    def where(key: str) -> str:
        path = ["models", m, "inference", key] if key in own else ["inference", key]
        return _where(source, path)

    try:
        choose_sampler(str(inf["sampler"]), model.samplers)
    except ValueError as exc:
        raise ValueError(f"{where('sampler')}: {exc}") from None
    if inf["init"] not in INIT_CHOICES:
        raise ValueError(
            f"{where('init')} is {inf['init']!r}; expected one of "
            f"{', '.join(map(repr, INIT_CHOICES))}"
        )
    if not 0.5 <= float(inf["target_accept"]) < 1.0:
        raise ValueError(
            f"{where('target_accept')} is {inf['target_accept']!r}; it must be in [0.5, 1)"
        )


__all__ = ["INIT_CHOICES", "check_study", "data_path", "file_sha256"]
