"""The study file's schema: every key a section may set, its type, default, choices and bounds.

:data:`SCHEMA` lists the keys of each section, :data:`MODEL_OPTIONS` those of a model's own
table (``[models.<name>]``); the helpers here check one value against its field and say, with
the file and the key, what is wrong. :mod:`bellmodels.study.config` reads a file with them.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from bellmodels.inference.evidence import DEFAULT_EVIDENCE_METHOD, EVIDENCE_METHODS

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
        "modules": _Field(
            (list,),
            [],
            kind=_LIST,
            item_types=(str,),
            doc="modules registering models of "
            "your own, imported here and in every worker (bellmodels.models.import_modules)",
        ),
    },
    "data": {
        "source": _Field((str,), None, ("simulate", "dataset", "file"), required=True),
        "n_trials": _Field((int,), 100_000, minimum=1, doc="simulated trials"),
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
        "evidence": _Field((bool,), True, doc="log marginal likelihood"),
        "evidence_method": _Field(
            (str,),
            DEFAULT_EVIDENCE_METHOD,
            EVIDENCE_METHODS,
            doc="tempered SMC from the prior, back from the fit, or bridge sampling on the fit "
            "(bellmodels.inference.evidence)",
        ),
        "evidence_draws": _Field((int,), 1000, minimum=10, doc="SMC particles per run"),
        "evidence_chains": _Field(
            (int,), 4, minimum=2, doc="independent SMC runs (the error is their spread)"
        ),
        "evidence_hmc_steps": _Field(
            (int,), 8, minimum=1, doc="HMC transitions per SMC stage (bellmodels.inference)"
        ),
        "cores": _Field(
            (int,), 1, minimum=1, doc="processes per fit (the runner's pool is the parallelism)"
        ),
    },
    "report": {
        "figures": _Field((bool,), True),
        "min_mi_points": _Field(
            (int,), 11, minimum=2, doc="points of the least-MI curve, from S = 2 to 4"
        ),
    },
}


MODEL_OPTIONS: dict[str, _Field] = {
    "train": _Field((bool,), False, doc="exact maximum-likelihood training (model.train(counts))"),
    "train_options": _Field((dict,), None, kind=_LIST, doc="keyword arguments of model.train"),
    "params": _Field((dict,), None, kind=_LIST, doc="constructor values of the model"),
    "fit": _Field((bool,), None, doc="Bayesian fit of this model (default: [inference].fit)"),
    "inference": _Field(
        (dict,), None, kind=_LIST, doc="[inference] keys overridden for this model"
    ),
    "inference_at": _Field(
        (list,),
        None,
        kind=_LIST,
        item_types=(dict,),
        doc="[inference] keys overridden for this model at chosen sweep points: a list of "
        "tables, each a `point` (sweep axis name = a value or a list of values) and the keys",
    ),
}


# Keys whose value is itself a free-form table (their entries may be sweep axes).
_FREE_TABLES = ("params", "train_options")


def _where(source: str, path: Sequence[str]) -> str:
    return f"{source}: key '{'.'.join(path)}'"


#: Keys that once had another name (or that other tools spell so), old -> new: a study file
#: that uses one is told the new name (the vocabulary is docs/api/glossary.md).
RENAMED_KEYS: dict[str, str] = {
    "settings_probs": "setting_probs",
    "smc_draws": "evidence_draws",
    "particles": "evidence_draws",
    "smc_chains": "evidence_chains",
    "hmc_steps": "evidence_hmc_steps",
    "trials": "n_trials",
}


def _suggest(key: str, known: Iterable[str]) -> str:
    """`` (renamed to 'new')`` for a renamed key, else `` (did you mean 'x'?)`` or ``""``.

    >>> _suggest("settings_probs", SCHEMA["data"])
    " (renamed to 'setting_probs')"
    >>> _suggest("draw", SCHEMA["inference"])
    " (did you mean 'draws'?)"
    """
    known = list(known)
    if RENAMED_KEYS.get(key) in known:
        return f" (renamed to '{RENAMED_KEYS[key]}')"
    close = difflib.get_close_matches(key, known, n=1)
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
                    sub = _inference_field(name, source, (*path, name))
                    if _is_sweep(v, sub):
                        vals = [_check_value(x, sub, source, (*path, name)) for x in v]
                        add_axis((*path, name), vals, ("models", "options", model, key, name))
                        table[name] = vals[0] if vals else None
                    else:
                        table[name] = _check_value(v, sub, source, (*path, name))
                parsed[key] = table
            elif key == "inference_at":
                parsed[key] = _parse_inference_at(value, fld, source, path)
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


def _inference_field(
    name: str, source: str, path: tuple[str, ...], also: tuple[str, ...] = ()
) -> _Field:
    """The ``[inference]`` field ``name``, or an error naming the key and the known ones (with
    ``also``, further keys the table may hold)."""
    sub = SCHEMA["inference"].get(name)
    if sub is None:
        known = [*also, *SCHEMA["inference"]]
        raise ValueError(
            f"{_where(source, path)} is unknown{_suggest(name, known)}; known keys: "
            f"{', '.join(known)}"
        )
    return sub


def _parse_inference_at(
    value: Any, fld: _Field, source: str, path: tuple[str, ...]
) -> list[dict[str, Any]]:
    """``[[models.<name>.inference_at]]``: each entry's ``point`` (axis name -> the values it
    matches, as a list) and its [inference] keys, checked like ``[inference]`` (no sweeps: a
    point has one setting). Whether the axis names and values exist is checked once the axes
    are known (:func:`bellmodels.study.inference_at.check_inference_at`)."""
    entries = _check_value(value, fld, source, path)
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        here = (*path[:-1], f"{path[-1]}[{i}]")
        point = entry.get("point")
        if not isinstance(point, dict) or not point:
            raise ValueError(
                f"{_where(source, (*here, 'point'))} is required: a table of sweep axis names "
                "and the value (or list of values) each must take, e.g. point = { n_hidden = 1 }"
            )
        settings: dict[str, Any] = {}
        for name, v in entry.items():
            if name == "point":
                continue
            sub = _inference_field(name, source, (*here, name), also=("point",))
            if _is_sweep(v, sub):
                raise ValueError(
                    f"{_where(source, (*here, name))} is a list: a sweep point takes one value "
                    "(sweep in [inference] or [models.<name>].inference instead)"
                )
            settings[name] = _check_value(v, sub, source, (*here, name))
        if not settings:
            raise ValueError(
                f"{_where(source, here)} sets no [inference] key: add one, e.g. draws = 6000"
            )
        match = {k: (list(v) if isinstance(v, list) else [v]) for k, v in point.items()}
        for k, vals in match.items():
            if not vals:
                raise ValueError(f"{_where(source, (*here, 'point', k))} is an empty list")
        out.append({"point": match, "inference": settings})
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


def _scenario(spec: str) -> Any:
    from bellmodels.scenario import Scenario

    if spec == "chsh":
        return Scenario.chsh()
    if spec.startswith("chained-") and spec[8:].isdigit():
        return Scenario.chained(int(spec[8:]))
    raise ValueError(f'unknown scenario {spec!r}: expected "chsh" or "chained-K" (K >= 2)')


__all__ = [
    "MODEL_OPTIONS",
    "SCHEMA",
]
