"""Test helpers for the model registry."""

from __future__ import annotations


def shipped_model_names() -> list[str]:
    """The models bellmodels itself ships: a test that imports a model of its own (the
    tutorial's ``leaky-bell``) registers it in this process, and checks of "every model" mean
    the package's."""
    from bellmodels import models

    return [n for n in models.names() if type(models.get(n)).__module__.startswith("bellmodels.")]
