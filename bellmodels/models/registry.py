"""Models by name: ``get(name, **params)`` and ``names()``.

A model module registers its class (or a factory, for a named instance such as the published
RBM) with :func:`register` when imported; ``bellmodels.models`` imports every model module.

>>> from bellmodels import models
>>> "quantum-singlet" in models.names()
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bellmodels.models.base import HiddenVariableModel

_REGISTRY: dict[str, Callable[..., HiddenVariableModel]] = {}


def register(
    name: str | None = None,
) -> Callable[[Callable[..., HiddenVariableModel]], Callable[..., HiddenVariableModel]]:
    """Decorator registering a model class (under its ``name``) or a factory (under ``name``)."""

    def deco(obj: Callable[..., HiddenVariableModel]) -> Callable[..., HiddenVariableModel]:
        key = name if name is not None else getattr(obj, "name", None)
        if not isinstance(key, str):
            raise TypeError(f"cannot register {obj!r}: no name")
        if key in _REGISTRY and _REGISTRY[key] is not obj:
            raise ValueError(f"model name {key!r} is already registered")
        _REGISTRY[key] = obj
        return obj

    return deco


def get(name: str, **params: Any) -> HiddenVariableModel:
    """The model registered under ``name``, built with ``params`` (e.g. ``scenario=``)."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(names())}") from None
    return factory(**params)


def names() -> list[str]:
    """All registered model names, sorted."""
    return sorted(_REGISTRY)


__all__ = ["get", "names", "register"]
