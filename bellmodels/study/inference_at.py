"""A model's inference settings at chosen sweep points: ``[[models.<name>.inference_at]]``.

A sweep gives every task of a model the same inference settings; some points need other ones
(more draws where the chains mix slowly, e.g. the small machines on noisy data). Each entry names
a ``point`` (sweep axis name = a value or a list of values) and the ``[inference]`` keys to set
there; entries apply in file order. Only the tasks at matching points change, so a study rerun
into its output directory redoes those and keeps the others (a task's id is the hash of its
configuration, :meth:`bellmodels.study.config.StudyConfig.task_for`). Example::

    [[models.crbm.inference_at]]
    point = { visibility = 0.9, n_hidden = [2, 3] }
    chains = 4
    draws = 12000

The entries' keys and values are parsed with the schema
(:func:`bellmodels.study.schema._parse_inference_at`); here they are applied to a sweep point and
checked against the study's axes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bellmodels.study.schema import _suggest, _where

_MISSING = object()


def apply_inference_at(cfg: dict[str, Any], coords: Mapping[str, Any]) -> None:
    """Set each model's ``inference_at`` settings whose ``point`` matches ``coords`` (every axis
    it names takes one of its values) over that model's inference, in file order, in place.

    A point may also name a setting that is not swept (a ``[data]`` key, or one of the model's
    ``params``): it matches by that setting's value. An axis a ``--set`` override fixed to one
    value is such a setting, so the study's entries still apply where they should.

    >>> cfg = {"data": {"source": "dataset"}, "models": {"options": {"crbm": {
    ...     "inference": {"draws": 3000}, "inference_at": [
    ...     {"point": {"n_hidden": [1, 2]}, "inference": {"draws": 12000}},
    ...     {"point": {"source": ["simulate"]}, "inference": {"chains": 4}}]}}}}
    >>> apply_inference_at(cfg, {"n_hidden": 2})
    >>> cfg["models"]["options"]["crbm"]["inference"]
    {'draws': 12000}
    """
    for opts in cfg["models"].get("options", {}).values():
        where = {**_settings(cfg.get("data") or {}, opts), **coords}
        for entry in opts.get("inference_at") or ():
            if all(where.get(k, _MISSING) in vals for k, vals in entry["point"].items()):
                opts["inference"] = dict(opts.get("inference") or {}, **entry["inference"])


def _settings(data: Mapping[str, Any], opts: Mapping[str, Any]) -> dict[str, Any]:
    """The one-valued settings a point may name besides the axes: the data's and the model's
    parameters' (a swept one is a list here; the axes name those)."""
    both = {**data, **(opts.get("params") or {})}
    return {k: v for k, v in both.items() if not isinstance(v, (list, tuple, dict))}


def check_inference_at(
    config: Mapping[str, Any], axes: Sequence[Any], source: str, overridden: bool = False
) -> None:
    """Every ``inference_at`` point names sweep axes of the study, or settings it holds fixed,
    and values they take: a misspelt axis or value would otherwise match nothing and change
    nothing, silently. ``axes`` are the study's :class:`~bellmodels.study.config.Axis` (their
    final names). With ``overridden`` (``--set`` values over the file), a value the overrides
    took out of an axis, or a fixed setting's other value, leaves its entry unused instead: the
    file, checked without them, named it correctly."""
    values = {a.name: a.values for a in axes}
    for model, opts in config["models"].get("options", {}).items():
        fixed = _settings(config.get("data") or {}, opts)
        for i, entry in enumerate(opts.get("inference_at") or ()):
            for k, vals in entry["point"].items():
                where = _where(source, ["models", model, f"inference_at[{i}]", "point", k])
                if k not in values and k not in fixed:
                    raise ValueError(
                        f"{where}: the study has no sweep axis {k!r}"
                        f"{_suggest(k, values)}; its axes: {', '.join(values) or 'none'}"
                    )
                taken = values[k] if k in values else (fixed[k],)
                for v in vals:
                    if v not in taken and not overridden:
                        raise ValueError(
                            f"{where}: {v!r} is not a value of the "
                            f"{'axis' if k in values else 'setting (not swept)'}; it takes "
                            f"{', '.join(map(repr, taken))}"
                        )


__all__ = ["apply_inference_at", "check_inference_at"]
