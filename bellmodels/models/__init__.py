"""Hidden-variable models behind one interface, and the registry of them by name.

>>> from bellmodels import models
>>> m = models.get("quantum-singlet")
>>> m.family
'nonlocal'
"""

from __future__ import annotations

from bellmodels.models.base import FAMILIES, HiddenVariableModel, Parameter
from bellmodels.models.registry import get, names, register

# Importing a model module registers its models (one line per module).
# isort: split
from bellmodels.models import local as local
from bellmodels.models import nonlocal_ as nonlocal_
from bellmodels.models import rbm  # noqa: F401
from bellmodels.models import retrocausal as retrocausal

__all__ = ["FAMILIES", "HiddenVariableModel", "Parameter", "get", "names", "register"]
