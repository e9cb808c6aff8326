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

    >>> cfg = {"models": {"options": {"crbm": {"inference": {"draws": 3000}, "inference_at": [
    ...     {"point": {"n_hidden": [1, 2]}, "inference": {"draws": 12000}}]}}}}
    >>> apply_inference_at(cfg, {"n_hidden": 2})
    >>> cfg["models"]["options"]["crbm"]["inference"]
    {'draws': 12000}
    """
    for opts in cfg["models"].get("options", {}).values():
        for entry in opts.get("inference_at") or ():
            if all(coords.get(k, _MISSING) in vals for k, vals in entry["point"].items()):
                opts["inference"] = dict(opts.get("inference") or {}, **entry["inference"])


def check_inference_at(config: Mapping[str, Any], axes: Sequence[Any], source: str) -> None:
    """Every ``inference_at`` point names sweep axes of the study and values they take: a
    misspelt axis or value would otherwise match nothing and change nothing, silently.
    ``axes`` are the study's :class:`~bellmodels.study.config.Axis` (their final names)."""
    values = {a.name: a.values for a in axes}
    for model, opts in config["models"].get("options", {}).items():
        for i, entry in enumerate(opts.get("inference_at") or ()):
            for k, vals in entry["point"].items():
                where = _where(source, ["models", model, f"inference_at[{i}]", "point", k])
                if k not in values:
                    raise ValueError(
                        f"{where}: the study has no sweep axis {k!r}"
                        f"{_suggest(k, values)}; its axes: {', '.join(values) or 'none'}"
                    )
                for v in vals:
                    if v not in values[k]:
                        raise ValueError(
                            f"{where}: {v!r} is not a value of the axis; it takes "
                            f"{', '.join(map(repr, values[k]))}"
                        )


__all__ = ["apply_inference_at", "check_inference_at"]
