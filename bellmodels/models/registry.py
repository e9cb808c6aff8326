"""Models by name: ``get(name, **params)`` and ``names()``, from three sources.

1. **The package's own models**: a model module registers its class (or a factory, for a named
   instance such as the published RBM) with :func:`register` when imported;
   ``bellmodels.models`` imports every model module.
2. **Entry points** of the group ``bellmodels.models`` declared by installed packages, loaded
   lazily (on the first :func:`names`, or on :func:`get` of a name not yet known). In the
   package's ``pyproject.toml``::

       [project.entry-points."bellmodels.models"]
       leaky-bell = "mypkg.models:LeakyBell"     # a model class (or factory), under that name
       mypkg = "mypkg.models"                    # or a module whose import registers models

3. **Modules imported by path**: :func:`import_modules` (the CLI's global ``--import MODULE``,
   a study's ``[study] modules = [...]``). The CLI also exports its ``--import`` modules in the
   environment variable ``BELLMODELS_IMPORT`` (comma-separated), which the registry reads
   lazily like the entry points, so the study runner's worker processes find them too.

>>> from bellmodels import models
>>> "quantum-singlet" in models.names()
True
>>> models.get("quantum-singlte")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: unknown model 'quantum-singlte' (did you mean 'quantum-singlet'?); known models: ...
"""

from __future__ import annotations

import difflib
import functools
import importlib
import os
import warnings
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from bellmodels.models.base import HiddenVariableModel

ENTRY_POINT_GROUP = "bellmodels.models"
"""The entry-point group an installed package declares its models in."""
IMPORT_ENV = "BELLMODELS_IMPORT"
"""Environment variable: comma-separated modules imported lazily (set by ``--import``)."""

_REGISTRY: dict[str, Callable[..., HiddenVariableModel]] = {}
_LOADED: set[str] = set()  # entry points and environment modules already imported


def register(
    name: str | None = None,
) -> Callable[[Callable[..., HiddenVariableModel]], Callable[..., HiddenVariableModel]]:
    """Decorator registering a model class (under its ``name``) or a factory (under ``name``)."""

    def deco(obj: Callable[..., HiddenVariableModel]) -> Callable[..., HiddenVariableModel]:
        key = name if name is not None else getattr(obj, "name", None)
        if not isinstance(key, str):
            raise TypeError(f"cannot register {obj!r}: no name")
        old = _REGISTRY.get(key)
        if old is not None and old is not obj and not _same_definition(old, obj):
            raise ValueError(
                f"model name {key!r} is already registered (by {_where(old)}); "
                f"cannot register {_where(obj)} under it"
            )
        _REGISTRY[key] = obj
        return obj

    return deco


def _where(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _same_definition(old: Any, new: Any) -> bool:
    """A module executed twice (``python -m mypkg.models`` then imported) defines its class
    twice; the same module and qualified name is the same model, not a clash."""
    return _where(old) == _where(new)


def import_modules(modules: Iterable[str], *, source: str = "") -> list[ModuleType]:
    """Import model modules by dotted path, so their ``@register`` lines run.

    ``source`` names where the list came from (e.g. ``"study.toml: key 'study.modules'"``),
    for the error message a module that cannot be imported raises.

    >>> [m.__name__ for m in import_modules(["bellmodels.models.local"])]
    ['bellmodels.models.local']
    >>> import_modules(["no_such_models_pkg"], source="--import")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --import: cannot import model module 'no_such_models_pkg' (ModuleNotFoundError: ...
    """
    out = []
    for mod in modules:
        try:
            out.append(importlib.import_module(mod))
        except ImportError as exc:
            where = f"{source}: " if source else ""
            raise ValueError(
                f"{where}cannot import model module {mod!r} ({type(exc).__name__}: {exc}); "
                "install the package that provides it or put it on PYTHONPATH"
            ) from exc
    return out


@functools.cache
def _entry_points() -> tuple[Any, ...]:
    """The group's entry points, read from the installed distributions once per process (a
    scan of every distribution's metadata costs tens of milliseconds)."""
    return tuple(entry_points(group=ENTRY_POINT_GROUP))


def _load_lazy(only: str | None = None) -> None:
    """Import the environment's modules and the entry points not yet loaded (of name ``only``
    first: a broken unrelated plugin then does not stand in the way)."""
    env = [m.strip() for m in os.environ.get(IMPORT_ENV, "").split(",") if m.strip()]
    todo = [m for m in env if f"module:{m}" not in _LOADED]
    for mod in todo:
        _LOADED.add(f"module:{mod}")
        import_modules([mod], source=f"environment variable {IMPORT_ENV}")
    eps = [ep for ep in _entry_points() if f"ep:{ep.value}" not in _LOADED]
    if only is not None:
        eps = [ep for ep in eps if ep.name == only] or eps
    for ep in eps:
        _LOADED.add(f"ep:{ep.value}")
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break every other model
            if ep.name == only:
                raise ValueError(
                    f"model {only!r} (entry point {ep.value!r} of group {ENTRY_POINT_GROUP!r}) "
                    f"failed to load: {type(exc).__name__}: {exc}"
                ) from exc
            warnings.warn(
                f"bellmodels: entry point {ep.name} = {ep.value!r} failed to load: {exc}",
                stacklevel=3,
            )
            continue
        if not isinstance(obj, ModuleType) and ep.name not in _REGISTRY:
            register(ep.name)(obj)


def get(name: str, **params: Any) -> HiddenVariableModel:
    """The model registered under ``name``, built with ``params`` (e.g. ``scenario=``).

    An unknown name raises ``ValueError`` suggesting the nearest registered names (difflib)
    and saying how a model from another package is made known.
    """
    if name not in _REGISTRY:
        _load_lazy(only=name)
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(unknown_model_message(name)) from None
    return factory(**params)


def unknown_model_message(name: str) -> str:
    """What :func:`get` says about a name no source knows: the nearest names, then all.

    >>> unknown_model_message("hall2011").split(";")[0]
    "unknown model 'hall2011' (did you mean 'hall2010'?)"
    """
    known = names()
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    return (
        f"unknown model {name!r}{hint}; known models: {', '.join(known)}. A model from another "
        f"package is found by its entry point (group {ENTRY_POINT_GROUP!r}) or by importing its "
        "module (bellmodels --import MODULE; modules = [...] in a study's [study] table)"
    )


def names() -> list[str]:
    """All registered model names (including installed entry points), sorted."""
    _load_lazy()
    return sorted(_REGISTRY)


__all__ = [
    "ENTRY_POINT_GROUP",
    "IMPORT_ENV",
    "get",
    "import_modules",
    "names",
    "register",
    "unknown_model_message",
]
