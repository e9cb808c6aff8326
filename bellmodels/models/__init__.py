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
from bellmodels.models import boltzmann as boltzmann
from bellmodels.models import detection as detection
from bellmodels.models import local as local
from bellmodels.models import nonlocal_ as nonlocal_
from bellmodels.models import photonic as photonic
from bellmodels.models import retrocausal as retrocausal
from bellmodels.models.boltzmann import CRBM, RBM

__all__ = [
    "CRBM",
    "FAMILIES",
    "RBM",
    "HiddenVariableModel",
    "Parameter",
    "get",
    "names",
    "register",
]
