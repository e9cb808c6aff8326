"""The PyTensor backend bellmodels compiles its log densities with: Numba where it is installed.

Why Numba: on a cold compile cache it compiles each graph faster than the C backend's compiler
runs, in-process; its cache is shared by every process and model (keyed per operation), so later
models of a study reuse what earlier ones compiled; and a single-point NUTS call is cheaper. Its
one cost: warm, it recompiles each function's outer body, slightly slower than the C backend for
the batched SMC graph. The times per model and graph are in
``docs/generated/compile_backend.md`` (``python benchmarks/compile_backend.py``). Numba is what
PyTensor 3 (the PyMC 6 line) uses by default, and comes with PyTensor on both supported lines;
without it the default backend is used. A mode the user set (``PYTENSOR_FLAGS=mode=...``) is
always respected.

The MAP search compiles with ``FAST_COMPILE`` instead: no compiler at all. It takes up to about
1,200 single-point evaluations (the crbm's, from its maximum-likelihood fit on 100,000 trials),
at 1-2 ms each in Python: a few seconds, less than a cold compilation costs.

Compiling and sampling run inside :func:`frozen_heap`: the garbage collector's full collections
skip the long-lived heap (the imported libraries, the model's graph) there.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib.util
import os
import warnings
from collections.abc import Iterator


def _user_mode() -> bool:
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    return any(f.strip().startswith("mode=") for f in flags.split(","))


@functools.cache
def compile_mode() -> str | None:
    """``"NUMBA"`` where Numba is installed and the user set no mode, else ``None`` (PyTensor's
    default).

    >>> compile_mode() in ("NUMBA", None)
    True
    """
    if _user_mode() or importlib.util.find_spec("numba") is None:
        return None
    return "NUMBA"


@contextlib.contextmanager
def compiling_with(mode: str | None = None) -> Iterator[None]:
    """Every PyTensor function compiled inside uses ``mode`` (default :func:`compile_mode`),
    unless the user chose a mode in ``PYTENSOR_FLAGS``.

    >>> import pytensor, pytensor.tensor as pt
    >>> x = pt.vector("x")
    >>> with compiling_with("FAST_COMPILE"):
    ...     f = pytensor.function([x], (x**2).sum())
    >>> float(f([1.0, 2.0]))
    5.0
    """
    import pytensor

    mode = mode if mode is not None else compile_mode()
    if mode is None or _user_mode():
        yield
        return
    with pytensor.config.change_flags(mode=mode):
        yield


@contextlib.contextmanager
def numba_quiet() -> Iterator[None]:
    """Silence Numba's notes to the developer (``NumbaPerformanceWarning`` on non-contiguous
    ``np.dot``, ``NumbaWarning`` on a function it cannot cache because the data are constants in
    the graph): nothing a user of bellmodels can act on. Numba compiles at a function's first
    call, so calls are wrapped, not the compile.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen, numba_quiet():
    ...     warnings.simplefilter("always")
    ...     warnings.warn("kept", UserWarning)
    >>> [str(w.message) for w in seen]
    ['kept']
    """
    with warnings.catch_warnings():
        if (category := _numba_warning()) is not None:
            warnings.simplefilter("ignore", category)
        yield


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Inside, the objects alive on entry are left out of the garbage collector's scans
    (``gc.freeze``; ``gc.unfreeze`` on exit): still collected, but only after the block.

    Sampling and compiling allocate many objects, and each full collection would walk every
    object of the imported libraries and the models' graphs again, none of which is garbage;
    chain processes forked inside inherit the frozen heap and leave it unscanned too. A heap
    with objects frozen already (by the caller, or by CPython 3.12 at start-up) is left as it
    is: ``gc.unfreeze`` would thaw them all.

    >>> import gc
    >>> before = gc.get_freeze_count()
    >>> with frozen_heap():
    ...     inside = gc.get_freeze_count()
    >>> inside >= before, gc.get_freeze_count() == before
    (True, True)
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@functools.cache
def _numba_warning() -> type[Warning] | None:
    """Numba's warning base class, looked up once (:func:`numba_quiet` wraps every SMC call)."""
    if importlib.util.find_spec("numba") is None:
        return None
    from numba.core.errors import NumbaWarning

    return NumbaWarning


__all__ = ["compile_mode", "compiling_with", "frozen_heap", "numba_quiet"]
