"""Hidden-variable models behind one interface, and the registry of them by name.

A model of your own is a subclass of :class:`HiddenVariableModel` that states its parameters
(:class:`Parameter` with a prior of :mod:`bellmodels.models.priors`) and its ontic table once;
:func:`check` verifies it, :func:`register`, an entry point or :func:`import_modules` make it
known by name (see the tutorial "Write your own model").

>>> from bellmodels import models
>>> m = models.get("quantum-singlet")
>>> m.family
'nonlocal'
"""

from __future__ import annotations

from bellmodels.models import blocks as blocks
from bellmodels.models import priors as priors
from bellmodels.models.base import FAMILIES, HiddenVariableModel, Parameter
from bellmodels.models.registry import (
    ENTRY_POINT_GROUP,
    get,
    import_modules,
    names,
    register,
)

# Importing a model module registers its models (one line per module).
# isort: split
from bellmodels.models import boltzmann as boltzmann
from bellmodels.models import detection as detection
from bellmodels.models import local as local
from bellmodels.models import nonlocal_ as nonlocal_
from bellmodels.models import photonic as photonic
from bellmodels.models import retrocausal as retrocausal
from bellmodels.models.boltzmann import CRBM, RBM

# isort: split
from bellmodels.models.check import CheckResult, check

__all__ = [
    "CRBM",
    "ENTRY_POINT_GROUP",
    "FAMILIES",
    "RBM",
    "CheckResult",
    "HiddenVariableModel",
    "Parameter",
    "blocks",
    "check",
    "get",
    "import_modules",
    "names",
    "priors",
    "register",
]
