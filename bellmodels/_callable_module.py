"""Make a module callable as its main function (``bm.audit(x)``, ``bm.compare(...)``).

DESIGN.md names both a module and its function ``audit`` (and ``compare``). Python's import system
sets ``bellmodels.audit`` to the *module* whenever anything imports ``bellmodels.audit``, so a
package-level function of the same name cannot survive. Instead the module itself is made
callable: calling it calls the function, and its attributes stay reachable
(``bellmodels.audit.min_mi_bits``). Hand-written because no library does this; it is the
documented ``module.__class__`` assignment (PEP 549's accepted subset, Python >= 3.5).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any


def make_callable(module_name: str, function: Callable[..., Any]) -> None:
    """Make ``sys.modules[module_name]`` call ``function`` when called."""

    class CallableModule(types.ModuleType):
        __call__ = staticmethod(function)

    CallableModule.__name__ = f"CallableModule[{function.__name__}]"
    sys.modules[module_name].__class__ = CallableModule
