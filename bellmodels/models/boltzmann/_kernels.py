"""Exact kernels of the Boltzmann machines on canonical arrays: the visible layout, the free
energy, the behaviour, p(x, h | s), the response tables and one block-Gibbs sweep.

Shared by the models (:mod:`~bellmodels.models.boltzmann.rbm`,
:mod:`~bellmodels.models.boltzmann.crbm`) and their training
(:mod:`~bellmodels.models.boltzmann.training`); none of them imports a model class.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from bellmodels.scenario import Scenario

MAX_ENUMERATED_HIDDEN = 16
"""Largest ``n_hidden`` for which ``h`` is listed (ontic table, MI, exact Gibbs burn-in)."""

MAX_ENUMERATED_VISIBLE = 20
"""Largest visible layer for which the partition function is computed by enumeration."""

SETTING_ENCODINGS = ("binary", "onehot")


def rbm_from_spin(ws: Any, cs: Any, ds: Any) -> tuple[Any, Any, Any]:
    """The 0/1-coded ``(W, c, d)`` of the RBM whose +-1-coded weights are ``(ws, cs, ds)``.

    With ``v = (v_pm + 1) / 2`` and ``h = (h_pm + 1) / 2``, ``v_pm . ws . h_pm + cs . v_pm +
    ds . h_pm`` equals ``v . W . h + c . v + d . h`` up to a constant when ``W = 4 ws``,
    ``c = 2 cs - 2 ws 1`` and ``d = 2 ds - 2 1 ws``. Works on numpy arrays and PyTensor
    variables alike. :func:`rbm_to_spin` is the inverse.

    >>> import numpy as np
    >>> from bellmodels.models.boltzmann.rbm import WEINSTEIN2017_W as W, WEINSTEIN2017_C as c
    >>> from bellmodels.models.boltzmann.rbm import WEINSTEIN2017_D as d
    >>> all(np.allclose(x, y) for x, y in zip(rbm_from_spin(*rbm_to_spin(W, c, d)), (W, c, d)))
    True
    """
    return 4.0 * ws, 2.0 * cs - 2.0 * ws.sum(axis=1), 2.0 * ds - 2.0 * ws.sum(axis=0)


def rbm_to_spin(w: Any, c: Any, d: Any) -> tuple[Any, Any, Any]:
    """The +-1-coded ``(ws, cs, ds)`` of the RBM with 0/1-coded ``(W, c, d)`` (see
    :func:`rbm_from_spin`)."""
    ws = w / 4.0
    return ws, c / 2.0 + ws.sum(axis=1), d / 2.0 + ws.sum(axis=0)


def setting_codes(k: int, encoding: str = "binary") -> np.ndarray:
    """The visible-unit code of each of ``k`` settings, shape ``(k, n_bits)`` of 0/1 floats.

    ``"binary"``: ``max(1, ceil(log2 k))`` bits, the index in binary (most significant first);
    ``"onehot"``: ``k`` bits, bit ``i`` on for setting ``i``.

    >>> setting_codes(2).tolist()
    [[0.0], [1.0]]
    >>> setting_codes(3).tolist()
    [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    """
    if encoding not in SETTING_ENCODINGS:
        raise ValueError(f"setting_encoding must be one of {SETTING_ENCODINGS}, got {encoding!r}")
    if k < 1:
        raise ValueError(f"need at least one setting, got {k}")
    if encoding == "onehot":
        return np.eye(k)
    n_bits = max(1, int(np.ceil(np.log2(k))))
    return all_states(n_bits)[:k]


def logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Stable ``log(sum(exp(x)))`` (a lean numpy version of :func:`scipy.special.logsumexp`).

    Written out because scipy's array-API dispatch costs more than the sum on these tiny
    arrays, and training calls it thousands of times.

    >>> bool(np.isclose(logsumexp(np.array([1000.0, 1000.0])), 1000.0 + np.log(2.0)))
    True
    """
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out


@functools.lru_cache(maxsize=64)
def _all_states_cached(n: int) -> np.ndarray:
    arr = np.array(list(itertools.product((0.0, 1.0), repeat=n))).reshape(2**n, n)
    arr.flags.writeable = False
    return arr


def all_states(n: int) -> np.ndarray:
    """All ``2^n`` binary vectors of length ``n`` as rows (row ``r`` = ``r`` in binary, MSB first).

    >>> all_states(2).tolist()
    [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    """
    return _all_states_cached(n)


@dataclass(frozen=True)
class Layout:
    """How a scenario's settings and outcomes sit on the visible units.

    Attributes
    ----------
    codes_a, codes_b
        ``(K_a, bits_a)`` and ``(K_b, bits_b)`` setting codes.
    n_settings
        Number of setting units (``bits_a + bits_b``); the two outcome units follow them.
    visible
        ``(K_a, K_b, 2, 2, n_visible)``: the visible vector of every (settings, outcomes) cell.
    """

    codes_a: np.ndarray
    codes_b: np.ndarray
    n_settings: int
    visible: np.ndarray

    @classmethod
    def build(cls, scenario: Scenario, encoding: str) -> Layout:
        ca = setting_codes(scenario.n_a, encoding)
        cb = setting_codes(scenario.n_b, encoding)
        n_s = ca.shape[1] + cb.shape[1]
        vis = np.zeros((scenario.n_a, scenario.n_b, 2, 2, n_s + 2))
        vis[..., : ca.shape[1]] = ca[:, None, None, None, :]
        vis[..., ca.shape[1] : n_s] = cb[None, :, None, None, :]
        vis[..., n_s] = np.array([0.0, 1.0])[None, None, :, None]
        vis[..., n_s + 1] = np.array([0.0, 1.0])[None, None, None, :]
        return cls(ca, cb, n_s, vis)

    @property
    def n_visible(self) -> int:
        return self.n_settings + 2

    @property
    def bits_a(self) -> int:
        return int(self.codes_a.shape[1])

    def settings_vectors(self) -> np.ndarray:
        """``(K_a, K_b, n_settings)`` setting-unit vectors."""
        return self.visible[:, :, 0, 0, : self.n_settings]


@dataclass(frozen=True)
class MachineArrays:
    """A machine in one canonical form shared by :class:`RBM` and :class:`CRBM`.

    ``log p~(v, h) = c . v + d . h + v . W . h + s . A . x`` with ``v = (s, x)``: ``W`` is
    ``(n_visible, n_hidden)``, ``c`` ``(n_visible,)``, ``d`` ``(n_hidden,)`` and ``A``
    ``(n_settings, 2)`` direct settings-outcome couplings (zero for the RBM).
    """

    W: np.ndarray
    c: np.ndarray
    d: np.ndarray
    A: np.ndarray

    @property
    def n_settings(self) -> int:
        return int(self.A.shape[0])


class Machine(Protocol):
    """What training needs of a Boltzmann-machine model (:class:`~bellmodels.models.boltzmann.BoltzmannModel` has it all).

    Training reads a model through this interface only, so
    :mod:`~bellmodels.models.boltzmann.training` never imports the model classes (which import
    it to train themselves): no import cycle, even a type-level one.
    """

    name: str
    scenario: Scenario
    layout: Layout
    n_hidden: int
    seed: int | None
    supports_joint: bool

    @property
    def parameters(self) -> Mapping[str, Any]: ...

    def params(self) -> dict[str, np.ndarray]: ...

    def machine_arrays(self, params: Mapping[str, Any] | None = None) -> MachineArrays: ...

    def param_gradients(self, grad: MachineArrays) -> dict[str, np.ndarray]: ...


# -- exact computations on canonical arrays (used by the models and by training) ---------------
def free_log(arr: MachineArrays, v: np.ndarray) -> np.ndarray:
    """``log sum_h exp(-E(v, h))`` for visible vectors ``v`` (``(..., n_visible)``), exact."""
    n_s = arr.n_settings
    out = v @ arr.c + np.logaddexp(0.0, arr.d + v @ arr.W).sum(axis=-1)
    if np.any(arr.A):
        out = out + np.einsum("...i,ik,...k->...", v[..., :n_s], arr.A, v[..., n_s:])
    return out


def log_behaviour(arr: MachineArrays, layout: Layout) -> np.ndarray:
    """``log p(x_a, x_b | s_a, s_b)``, shape ``(K_a, K_b, 2, 2)``."""
    f = free_log(arr, layout.visible)
    return f - logsumexp(f, axis=(2, 3), keepdims=True)


def log_joint_hidden(arr: MachineArrays, layout: Layout) -> np.ndarray:
    """``log p(x, h | s)`` over every cell and every ``h``: shape ``(K_a, K_b, 2, 2, 2^n_h)``."""
    n_h = arr.d.size
    if n_h > MAX_ENUMERATED_HIDDEN:
        raise ValueError(
            f"listing the hidden states needs n_hidden <= {MAX_ENUMERATED_HIDDEN}, got {n_h}"
        )
    hs = all_states(n_h)
    v = layout.visible
    n_s = arr.n_settings
    logit = (v @ arr.c)[..., None] + (hs @ arr.d)[None, None, None, None, :]
    logit = logit + np.einsum("abxyi,ij,hj->abxyh", v, arr.W, hs)
    if np.any(arr.A):
        logit = (
            logit + np.einsum("abxyi,ik,abxyk->abxy", v[..., :n_s], arr.A, v[..., n_s:])[..., None]
        )
    return logit - logsumexp(logit, axis=(2, 3, 4), keepdims=True)


def response_tables(arr: MachineArrays, layout: Layout) -> np.ndarray:
    """``p(x_a, x_b | s, h)``, shape ``(K_a, K_b, 2^n_h, 2, 2)`` (a product of two sigmoids).

    The sigmoid is written out as scipy's ``expit`` computes it (1 / (1 + exp(-x)), the same
    bits), so that the audit of a machine imports no scipy.special (a third of a second).
    """
    n_h = arr.d.size
    hs = all_states(n_h)
    n_s = arr.n_settings
    s = layout.settings_vectors()  # (Ka, Kb, n_s)
    # logit of outcome unit k being on: c_k + W_k . h + (s A)_k
    logit = arr.c[n_s:][None, None, None, :] + (hs @ arr.W[n_s:].T)[None, None, :, :]
    logit = logit + (s @ arr.A)[:, :, None, :]
    with np.errstate(over="ignore"):  # exp(-x) = inf below x = -709: p_on = 0, as expit's
        p_on = 1.0 / (1.0 + np.exp(-logit))  # (Ka, Kb, H, 2)
    pa = np.stack([1.0 - p_on[..., 0], p_on[..., 0]], axis=-1)
    pb = np.stack([1.0 - p_on[..., 1], p_on[..., 1]], axis=-1)
    return pa[..., :, None] * pb[..., None, :]


def ontic_arrays(arr: MachineArrays, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """p(h | s) and p(x_a, x_b | s, h) of many machines at once: their ontic tables.

    ``arr`` holds a stack of machines, its arrays with a leading draw axis ``N`` (``W``
    ``(N, n_visible, n_hidden)``, ``c``, ``d``, ``A`` likewise). Returns ``(N, K_a, K_b, H)``
    and ``(N, K_a, K_b, H, 2, 2)``, ``H = 2^n_hidden``: for each machine, p(h | s) as
    ``BoltzmannModel.ontic_table`` sums :func:`log_joint_hidden` over the outcomes, and
    :func:`response_tables`. The products are taken in one matrix product over the stack, so
    p(h | s) may differ from the one-machine path in the last bits (relative 1e-14); the
    response is the same number.
    """
    n_h = arr.d.shape[-1]
    if n_h > MAX_ENUMERATED_HIDDEN:
        raise ValueError(
            f"listing the hidden states needs n_hidden <= {MAX_ENUMERATED_HIDDEN}, got {n_h}"
        )
    hs = all_states(n_h)
    v = layout.visible  # (Ka, Kb, 2, 2, nv)
    n_s = layout.n_settings
    # log p~(x, h | s) as log_joint_hidden writes it, one machine per leading index
    cells = v.shape[:4]
    flat = v.reshape(-1, v.shape[-1])  # (cells, nv)
    logit = (arr.c @ flat.T)[..., None] + (arr.d @ hs.T)[:, None, :]  # (N, cells, H)
    logit = logit + (flat @ arr.W) @ hs.T
    if np.any(arr.A):  # a machine of the stack without direct couplings gets + 0.0: unchanged
        sax = np.einsum("ci,nik,ck->nc", flat[:, :n_s], arr.A, flat[:, n_s:])
        logit = logit + sax[..., None]
    logit = logit.reshape(-1, *cells, hs.shape[0])
    lj = logit - logsumexp(logit, axis=(3, 4, 5), keepdims=True)
    p_h = np.exp(logsumexp(lj, axis=(3, 4)))
    p_h /= p_h.sum(axis=-1, keepdims=True)
    # the response as response_tables computes it
    s = layout.settings_vectors()  # (Ka, Kb, n_s)
    w_out = np.swapaxes(arr.W[:, n_s:], 1, 2)  # (N, nh, 2)
    out_logit = (arr.c[:, None, n_s:] + hs @ w_out)[:, None, None]  # (N, 1, 1, H, 2)
    out_logit = out_logit + (s @ arr.A[:, None])[:, :, :, None, :]
    with np.errstate(over="ignore"):
        p_on = 1.0 / (1.0 + np.exp(-out_logit))  # (N, Ka, Kb, H, 2)
    pa = np.stack([1.0 - p_on[..., 0], p_on[..., 0]], axis=-1)
    pb = np.stack([1.0 - p_on[..., 1], p_on[..., 1]], axis=-1)
    return p_h, pa[..., :, None] * pb[..., None, :]


def hidden_labels(n_hidden: int) -> list[str]:
    """Labels of the hidden states: the bits ``h_1 ... h_n`` as a string, e.g. ``"0110"``."""
    return ["".join(str(int(b)) for b in row) for row in all_states(n_hidden)]


def gibbs_sweep(
    arr: MachineArrays, v: np.ndarray, rng: np.random.Generator, clamp_settings: bool
) -> np.ndarray:
    """One block-Gibbs sweep ``h ~ p(h | v)``, then ``v ~ p(v | h)`` (settings kept if clamped).

    Vectorised over the rows of ``v`` (``(M, n_visible)``); returns the new visible states. The
    one sweep of the package: the models' Gibbs sampling and the stochastic training use it.
    """
    from scipy.special import expit  # on first use: ``bellmodels --help`` reads this module

    n_s = arr.n_settings
    h = (rng.random((v.shape[0], arr.d.size)) < expit(arr.d + v @ arr.W)).astype(float)
    if clamp_settings:
        s = v[:, :n_s]
        logit = arr.c[n_s:] + h @ arr.W[n_s:].T + s @ arr.A
        x = (rng.random((v.shape[0], 2)) < expit(logit)).astype(float)
        return np.concatenate([s, x], axis=1)
    if np.any(arr.A):
        raise ValueError("a joint Gibbs sweep needs A = 0 (an RBM)")
    return (rng.random(v.shape) < expit(arr.c + h @ arr.W.T)).astype(float)


__all__ = [
    "MAX_ENUMERATED_HIDDEN",
    "MAX_ENUMERATED_VISIBLE",
    "SETTING_ENCODINGS",
    "Layout",
    "MachineArrays",
    "all_states",
    "free_log",
    "gibbs_sweep",
    "hidden_labels",
    "log_behaviour",
    "log_joint_hidden",
    "logsumexp",
    "ontic_arrays",
    "rbm_from_spin",
    "rbm_to_spin",
    "response_tables",
    "setting_codes",
]
