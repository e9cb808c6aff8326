"""Training Boltzmann-machine models: exact maximum likelihood, PCD, CD-k and an MI penalty.

All methods minimise the same loss,

    loss = KL(data || model) + beta * MI(h; settings)   [KL in nats, MI in bits],

and share one gradient code path: the log-likelihood gradient of an energy-based model is a
*positive phase* (the sufficient statistics ``<v h>, <v>, <h>, <s x>`` under the data, with ``h``
replaced by its exact conditional mean) minus a *negative phase* (the same statistics under the
model). Only the source of the negative-phase visible vectors differs
(:func:`sufficient_statistics` is applied to them):

- ``method="exact"``: every visible state, weighted by its exact model probability (the sum over
  ``h`` is analytic, so this is exact for any number of hidden units); scipy's L-BFGS-B
  minimises the loss from several seeded starts (restarts) and stops when the loss changes by
  less than ``tol`` (early stopping);
- ``method="pcd"``: persistent Gibbs chains (T. Tieleman, "Training restricted Boltzmann machines
  using approximations to the likelihood gradient", ICML 2008), as Weinstein (arXiv:1707.03114)
  trained his machine;
- ``method="cd"``: CD-k (G. E. Hinton, Neural Comput. 14, 1771 (2002)): chains restarted at data
  samples every step and run ``k`` sweeps.

The stochastic methods take Adam steps (Kingma & Ba, arXiv:1412.6980) with the learning rate
decayed linearly to zero, as Tieleman (2008) decays it. Their positive phase is exact and
full-batch: the counts are sufficient statistics, so no minibatches are drawn from the data.

Two objectives (``objective=``):

- ``"joint"`` (the RBM's default, Weinstein's): the likelihood of (settings, outcomes); ``kl_`` is
  KL(empirical joint || machine's p(v)), which includes how well the machine reproduces the
  data's setting frequencies;
- ``"conditional"`` (the CRBM's only choice; what a PyMC likelihood conditional on the design
  sees): the likelihood of outcomes given settings; ``kl_`` is
  ``sum_s q(s) KL(q(x | s) || p(x | s))`` with ``q`` the data's frequencies.

The MI penalty is exact and differentiable by enumeration of ``h`` (``n_hidden <=``
``MAX_ENUMERATED_HIDDEN``); its settings distribution is uniform by default, the audit's choice
(the experimenter chooses freely). The enumeration code and the analytic MI gradient are
hand-written (checked against finite differences in the tests): no library trains an RBM by
exact likelihood, and scikit-learn's ``BernoulliRBM`` (PCD only) has no conditional objective and
no penalty.

Example
-------
>>> from bellmodels import Counts, Scenario
>>> from bellmodels.models.boltzmann import RBM
>>> from bellmodels.models.boltzmann.training import fit_machine
>>> counts = Counts((RBM.weinstein2017().behaviour() * 25_000).round().astype(int), Scenario.chsh())
>>> result = fit_machine(RBM(seed=0), counts, objective="conditional", seed=0)
>>> result.kl < 1e-3
True
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from bellmodels.models.boltzmann._kernels import (
    MAX_ENUMERATED_HIDDEN,
    Machine,
    MachineArrays,
    all_states,
    free_log,
    gibbs_sweep,
    log_behaviour,
    log_joint_hidden,
    logsumexp,
)

if TYPE_CHECKING:
    from bellmodels.data import Counts

MAX_TRAINED_HIDDEN = 1024
"""Largest ``n_hidden`` trained: ``m + 1`` hidden units represent any distribution on ``m`` visible
states (Le Roux & Bengio, Neural Comput. 20, 1631 (2008), Thm 2; CHSH has 16), so a larger
machine adds no expressive power, only cost, which grows linearly with it (times at 4 hidden
units: ``docs/generated/rbm_training_benchmark.md``)."""

METHODS = ("exact", "pcd", "cd")
OBJECTIVES = ("joint", "conditional")
LN2 = float(np.log(2.0))


# -- data --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmpiricalData:
    """Frequencies of a count table on a machine's cells.

    ``q`` is the ``(K_a, K_b, 2, 2)`` empirical joint, ``q_s`` its setting marginal, and
    ``sum_q_log_q`` / ``sum_q_log_q_cond`` the constants turning a negative log-likelihood into
    a KL divergence (joint / conditional).
    """

    q: np.ndarray
    q_s: np.ndarray
    n: int
    sum_q_log_q: float
    sum_q_log_q_cond: float

    @classmethod
    def from_counts(cls, counts: Counts, model: Machine) -> EmpiricalData:
        values = np.asarray(counts.values, dtype=float)
        if values.shape != model.scenario.shape:
            raise ValueError(
                f"counts have shape {values.shape} but the model's scenario has "
                f"{model.scenario.shape}: build the model with scenario=counts.scenario"
            )
        n = int(values.sum())
        if n <= 0:
            raise ValueError("cannot train on an empty count table (total 0)")
        q = values / n
        q_s = q.sum(axis=(2, 3))
        with np.errstate(divide="ignore", invalid="ignore"):
            lq = np.where(q > 0, np.log(q), 0.0)
            cond = np.where(q > 0, q / q_s[:, :, None, None], 1.0)
            lqc = np.where(q > 0, np.log(cond), 0.0)
        return cls(q, q_s, n, float((q * lq).sum()), float((q * lqc).sum()))


def _check_objective(model: Machine, objective: str | None) -> str:
    objective = objective or ("joint" if model.supports_joint else "conditional")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if objective == "joint" and not model.supports_joint:
        raise ValueError(
            f"model {model.name!r} does not model the settings: use objective='conditional'"
        )
    return objective


# -- exact quantities --------------------------------------------------------------------------
def sufficient_statistics(arr: MachineArrays, v: np.ndarray, weights: np.ndarray) -> MachineArrays:
    """Weighted ``<v h>, <v>, <h>, <s x>`` over visible vectors ``v`` (``(M, n_visible)``).

    ``h`` enters through its exact conditional mean ``sigmoid(d + v W)`` (Rao-Blackwellised);
    ``weights`` (``(M,)``) should sum to 1. Used for both phases by every training method.

    >>> import numpy as np
    >>> from bellmodels.models.boltzmann import RBM
    >>> arr = RBM.weinstein2017().machine_arrays()
    >>> st = sufficient_statistics(arr, np.eye(4), np.full(4, 0.25))
    >>> st.W.shape, round(float(st.c.sum()), 6)
    ((4, 4), 1.0)
    """
    n_s = arr.n_settings
    hm = expit(arr.d + v @ arr.W)
    wv = v * weights[:, None]
    return MachineArrays(W=wv.T @ hm, c=weights @ v, d=weights @ hm, A=wv[:, :n_s].T @ v[:, n_s:])


def _minus(a: MachineArrays, b: MachineArrays) -> MachineArrays:
    return MachineArrays(a.W - b.W, a.c - b.c, a.d - b.d, a.A - b.A)


def _axpy(alpha: float, x: MachineArrays, y: MachineArrays) -> MachineArrays:
    return MachineArrays(alpha * x.W + y.W, alpha * x.c + y.c, alpha * x.d + y.d, alpha * x.A + y.A)


def _kl_from_arrays(
    model: Machine, arr: MachineArrays, data: EmpiricalData, objective: str
) -> tuple[float, MachineArrays]:
    """KL in nats and the negative-phase statistics (exact, by enumeration of v)."""
    layout = model.layout
    if objective == "joint":
        v_all = all_states(layout.n_visible)
        f_all = free_log(arr, v_all)
        log_z = logsumexp(f_all)
        logp = free_log(arr, layout.visible) - log_z
        neg = sufficient_statistics(arr, v_all, np.exp(f_all - log_z))
        kl = data.sum_q_log_q - float((data.q * logp).sum())
    else:
        logp = log_behaviour(arr, layout)
        w = data.q_s[:, :, None, None] * np.exp(logp)
        neg = sufficient_statistics(arr, layout.visible.reshape(-1, layout.n_visible), w.ravel())
        kl = data.sum_q_log_q_cond - float((data.q * logp).sum())
    return max(kl, 0.0), neg


def kl_divergence(
    model: Machine,
    counts: Counts,
    params: Mapping[str, Any] | None = None,
    objective: str | None = None,
) -> float:
    """KL(data || model) in nats, exact.

    ``"joint"``: ``sum_v q(v) log(q(v) / p(v))`` over (settings, outcomes);
    ``"conditional"``: ``sum_{s,x} q(s, x) log(q(x | s) / p(x | s))``.

    >>> from bellmodels import Counts, Scenario
    >>> from bellmodels.models.boltzmann import RBM
    >>> m = RBM.weinstein2017()
    >>> exact = Counts((m.behaviour() * 10**6).round().astype(int), Scenario.chsh())
    >>> kl_divergence(m, exact, objective="conditional") < 1e-6
    True
    """
    objective = _check_objective(model, objective)
    data = EmpiricalData.from_counts(counts, model)
    return _kl_from_arrays(model, model.machine_arrays(params), data, objective)[0]


def mi_bits_and_gradient(
    arr: MachineArrays, model: Machine, setting_probs: Any = None, gradient: bool = True
) -> tuple[float, MachineArrays | None]:
    """MI(h; settings) in bits and its exact gradient w.r.t. the canonical arrays.

    ``p(h | s) = sum_x p(x, h | s)`` by enumeration; ``pi(s)`` is ``setting_probs`` (default
    uniform). With ``g(s, h) = pi(s) log(p(h | s) / p(h))``, ``dMI / dp(h | s) = g(s, h)`` and,
    through the per-setting softmax of the logits ``L(s, x, h)``,
    ``dMI / dL(s, x, h) = p(x, h | s) [g(s, h) - sum_h' p(h' | s) g(s, h')]``; the logits are
    linear in the weights, so the gradient is a contraction with the features
    ``(v h, v, h, s x)``.

    >>> from bellmodels.models.boltzmann import RBM
    >>> m = RBM.weinstein2017()
    >>> mi, _ = mi_bits_and_gradient(m.machine_arrays(), m, gradient=False)
    >>> 0 < mi < 2
    True
    """
    layout = model.layout
    n_h = arr.d.size
    if n_h > MAX_ENUMERATED_HIDDEN:
        raise ValueError(f"the MI needs n_hidden <= {MAX_ENUMERATED_HIDDEN}, got {n_h}")
    pi = model.scenario.settings_distribution(setting_probs)
    lj = log_joint_hidden(arr, layout)  # (Ka, Kb, 2, 2, H)
    log_ph_s = logsumexp(lj, axis=(2, 3))  # (Ka, Kb, H)
    ph_s = np.exp(log_ph_s)
    with np.errstate(divide="ignore"):
        log_pi = np.log(pi)
    log_p_h = logsumexp((log_pi[:, :, None] + log_ph_s).reshape(-1, log_ph_s.shape[-1]), axis=0)
    with np.errstate(invalid="ignore"):
        ratio = log_ph_s - log_p_h
    ratio = np.where(np.isfinite(ratio) & (pi[:, :, None] > 0), ratio, 0.0)
    g = pi[:, :, None] * ratio
    mi = float((g * ph_s).sum()) / LN2
    if not gradient:
        return max(mi, 0.0), None
    pxh = np.exp(lj)
    centre = (ph_s * g).sum(axis=-1)  # (Ka, Kb)
    big_g = pxh * (g[:, :, None, None, :] - centre[:, :, None, None, None]) / LN2
    hs = all_states(n_h)
    v = layout.visible
    n_s = arr.n_settings
    gv = big_g.sum(axis=-1)
    grad = MachineArrays(
        W=np.einsum("abxyi,abxyh,hj->ij", v, big_g, hs),
        c=np.einsum("abxyi,abxy->i", v, gv),
        d=big_g.sum(axis=(0, 1, 2, 3)) @ hs,
        A=np.einsum("abxyi,abxyk,abxy->ik", v[..., :n_s], v[..., n_s:], gv),
    )
    return max(mi, 0.0), grad


def loss_and_gradient(
    model: Machine,
    params: Mapping[str, Any],
    data: EmpiricalData,
    objective: str,
    mi_penalty: float = 0.0,
    mi_setting_probs: Any = None,
) -> tuple[float, float, float, dict[str, np.ndarray]]:
    """Exact ``(loss, kl, mi_bits, gradient by parameter name)``; ``mi_bits`` is NaN if unused.

    The KL gradient is negative phase minus positive phase (:func:`sufficient_statistics`).
    """
    arr = model.machine_arrays(params)
    kl, neg = _kl_from_arrays(model, arr, data, objective)
    pos = _positive_phase(model, arr, data)
    grad = _minus(neg, pos)
    loss, mi = kl, float("nan")
    if mi_penalty:
        mi, g_mi = mi_bits_and_gradient(arr, model, mi_setting_probs)
        assert g_mi is not None
        loss += mi_penalty * mi
        grad = _axpy(mi_penalty, g_mi, grad)
    return loss, kl, mi, model.param_gradients(grad)


def _positive_phase(model: Machine, arr: MachineArrays, data: EmpiricalData) -> MachineArrays:
    nv = model.layout.n_visible
    return sufficient_statistics(arr, model.layout.visible.reshape(-1, nv), data.q.ravel())


# -- results -----------------------------------------------------------------------------------
@dataclass
class FitResult:
    """What a training run produced (the model copies these into attributes ending in ``_``)."""

    params: dict[str, np.ndarray]
    kl: float
    loss: float
    mi_bits: float
    history: dict[str, np.ndarray]
    n_iter: int
    restarts: np.ndarray
    fit_time: float
    training: dict[str, Any] = field(default_factory=dict)

    def attributes(self) -> dict[str, Any]:
        """``{"kl_": ..., "loss_": ..., ...}`` as set on the model by ``fit``."""
        return {
            "kl_": self.kl,
            "loss_": self.loss,
            "mi_bits_": self.mi_bits,
            "history_": self.history,
            "n_iter_": self.n_iter,
            "restarts_": self.restarts,
            "fit_time_": self.fit_time,
            "training_": self.training,
        }


def _flatten(params: Mapping[str, np.ndarray], names: Sequence[str]) -> np.ndarray:
    return np.concatenate([np.asarray(params[k], dtype=float).ravel() for k in names])


def _unflatten(x: np.ndarray, shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    out, i = {}, 0
    for k, s in shapes.items():
        size = int(np.prod(s))
        out[k] = x[i : i + size].reshape(s).copy()
        i += size
    return out


def _random_init(
    shapes: Mapping[str, tuple[int, ...]], rng: np.random.Generator, scale: float
) -> dict[str, np.ndarray]:
    return {k: scale * rng.standard_normal(s) for k, s in shapes.items()}


# -- training ----------------------------------------------------------------------------------
def fit_machine(
    model: Machine,
    counts: Counts,
    *,
    method: str = "exact",
    objective: str | None = None,
    mi_penalty: float = 0.0,
    mi_setting_probs: Any = None,
    seed: int | None = None,
    n_restarts: int = 8,
    warm_start: bool = False,
    init_scale: float = 0.1,
    max_iter: int = 3000,
    tol: float = 1e-12,
    n_iter: int = 5000,
    learning_rate: float = 0.05,
    n_chains: int = 1000,
    k: int = 1,
    eval_every: int = 100,
) -> FitResult:
    """Train a Boltzmann-machine model on counts (see the module docstring).

    Parameters
    ----------
    model
        An :class:`~bellmodels.models.boltzmann.RBM` or :class:`~bellmodels.models.boltzmann.CRBM`; its
        scenario must match the counts'. Not modified (``model.train`` copies the result in).
    counts
        The data.
    method
        ``"exact"`` (L-BFGS-B on the exact loss), ``"pcd"`` or ``"cd"``.
    objective
        ``"joint"`` or ``"conditional"``; default joint for the RBM, conditional for the CRBM.
    mi_penalty
        ``beta`` in ``loss = KL + beta * MI_bits(h; settings)``.
    mi_setting_probs
        Settings distribution of the MI (default uniform, as the audit).
    seed
        Seed of the random starts and of the Gibbs chains (default: the model's ``seed``).
    n_restarts
        Exact method: number of starts (the first is the model's current parameters when
        ``warm_start``); the lowest final loss wins. The likelihood is not convex: on
        Weinstein's training set about half of the starts of a 4-hidden-unit machine end in a
        local optimum (KL ~ 0.04), so the default 8 starts miss the global one with probability
        ~0.5^8; 8 hidden units almost never get stuck. Stochastic methods: ignored (one run).
    warm_start
        Start (the first restart) from the model's current parameters.
    init_scale
        Standard deviation of the random initial weights (``n_hidden <= MAX_TRAINED_HIDDEN``).
    max_iter, tol
        L-BFGS-B iteration limit and relative loss tolerance (its ``ftol``).
    n_iter, learning_rate, n_chains, k, eval_every
        Stochastic methods: parameter updates, initial Adam step (decayed linearly to 0),
        number of Gibbs chains, Gibbs sweeps per update, and how often the exact KL is recorded
        in the history.

    Returns
    -------
    FitResult

    >>> from bellmodels import Scenario
    >>> from bellmodels.models.boltzmann import RBM
    >>> from bellmodels.simulate import simulate_singlet
    >>> counts = simulate_singlet(Scenario.chsh(), 100_000, seed=0).counts()
    >>> res = fit_machine(RBM(seed=3), counts, method="pcd", n_iter=1500, n_chains=500, k=2)
    >>> res.kl < 0.02
    True
    """
    objective = _check_training(model, method, mi_penalty, objective)
    data = EmpiricalData.from_counts(counts, model)
    seed = model.seed if seed is None else seed
    problem = (model, data, objective, mi_penalty, mi_setting_probs, np.random.default_rng(seed))
    if method == "exact":
        result = _fit_exact(*problem, n_restarts, warm_start, init_scale, max_iter, tol)
    else:
        stochastic = (n_iter, learning_rate, n_chains, k, eval_every)
        result = _fit_stochastic(*problem, warm_start, method == "pcd", *stochastic)
    head = {"method": method, "objective": objective, "mi_penalty": float(mi_penalty)}
    result.training = {**head, "seed": seed, "n_trials": data.n, **result.training}
    return result


def _check_training(model: Machine, method: str, mi_penalty: float, objective: str | None) -> str:
    """The objective to train (see ``_check_objective``), after refusing an unknown method,
    a negative or infinite penalty and a machine too wide to train."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if mi_penalty < 0 or not np.isfinite(mi_penalty):
        raise ValueError(f"mi_penalty must be a finite number >= 0, got {mi_penalty}")
    if model.n_hidden > MAX_TRAINED_HIDDEN:
        raise ValueError(
            f"n_hidden = {model.n_hidden} exceeds MAX_TRAINED_HIDDEN = {MAX_TRAINED_HIDDEN} "
            "(more add nothing, Le Roux & Bengio 2008, and training time grows with n_hidden)"
        )
    return _check_objective(model, objective)


def _fit_exact(
    model: Machine,
    data: EmpiricalData,
    objective: str,
    beta: float,
    mi_probs: Any,
    rng: np.random.Generator,
    n_restarts: int,
    warm_start: bool,
    init_scale: float,
    max_iter: int,
    tol: float,
) -> FitResult:
    """L-BFGS-B from ``n_restarts`` starts on the exact loss; the lowest final loss wins."""
    start = time.perf_counter()
    if n_restarts < 1:
        raise ValueError(f"n_restarts must be >= 1, got {n_restarts}")
    shapes = {k_: p.shape for k_, p in model.parameters.items()}
    names = list(shapes)
    best: tuple[float, Any, list[tuple[float, float, float]]] | None = None
    finals = []
    for r in range(n_restarts):
        init = model.params() if (warm_start and r == 0) else _random_init(shapes, rng, init_scale)
        trace: list[tuple[float, float, float]] = []
        last: dict[str, Any] = {}

        def fun(x: np.ndarray, last: dict[str, Any] = last) -> tuple[float, np.ndarray]:
            loss, kl, mi, grads = loss_and_gradient(
                model, _unflatten(x, shapes), data, objective, beta, mi_probs
            )
            last["v"] = (loss, kl, mi)
            return loss, _flatten(grads, names)

        def callback(x: np.ndarray, trace: list = trace, last: dict[str, Any] = last) -> None:
            trace.append(last["v"])

        res = minimize(
            fun,
            _flatten(init, names),
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-9, "maxcor": 30},
        )
        finals.append(float(res.fun))
        if best is None or res.fun < best[0]:
            best = (float(res.fun), res, trace)
    assert best is not None
    _, res, trace = best
    params = _unflatten(res.x, shapes)
    loss, kl, mi, _ = loss_and_gradient(model, params, data, objective, beta, mi_probs)
    if not beta:
        mi = _mi_or_nan(model, params, mi_probs)
    tr = np.array(trace, dtype=float).reshape(-1, 3)
    history = {
        "iteration": np.arange(1, tr.shape[0] + 1),
        "loss": tr[:, 0],
        "kl": tr[:, 1],
        "mi_bits": tr[:, 2],
    }
    options = {"n_restarts": n_restarts, "max_iter": max_iter, "tol": tol}
    fit_time = time.perf_counter() - start
    return FitResult(
        params, kl, loss, mi, history, int(res.nit), np.array(finals), fit_time, options
    )


def _mi_or_nan(model: Machine, params: Mapping[str, Any], mi_probs: Any) -> float:
    if model.n_hidden > MAX_ENUMERATED_HIDDEN:
        return float("nan")
    return mi_bits_and_gradient(model.machine_arrays(params), model, mi_probs, gradient=False)[0]


def _fit_stochastic(
    model: Machine,
    data: EmpiricalData,
    objective: str,
    beta: float,
    mi_probs: Any,
    rng: np.random.Generator,
    warm_start: bool,
    persistent: bool,
    n_iter: int,
    learning_rate: float,
    n_chains: int,
    k: int,
    eval_every: int,
) -> FitResult:
    """Adam on the (persistent) contrastive-divergence gradient, from small random weights."""
    start = time.perf_counter()
    initial_shapes = {k_: p.shape for k_, p in model.parameters.items()}
    init = model.params() if warm_start else _random_init(initial_shapes, rng, 0.01)
    if n_iter < 1 or n_chains < 1 or k < 1:
        raise ValueError(f"n_iter, n_chains and k must be >= 1, got {n_iter}, {n_chains}, {k}")
    names = list(init)
    shapes = {n: np.shape(init[n]) for n in names}
    x = _flatten(init, names)
    nv = model.layout.n_visible
    cells = model.layout.visible.reshape(-1, nv)
    q = data.q.ravel()
    clamp = objective == "conditional"

    def data_samples() -> np.ndarray:
        return cells[rng.choice(q.size, size=n_chains, p=q)].copy()

    chains = data_samples()
    m1 = np.zeros_like(x)
    m2 = np.zeros_like(x)
    b1, b2, eps = 0.9, 0.999, 1e-8
    hist: list[tuple[int, float, float, float]] = []
    uniform = np.full(n_chains, 1.0 / n_chains)
    for t in range(1, n_iter + 1):
        params = _unflatten(x, shapes)
        arr = model.machine_arrays(params)
        if not persistent:
            chains = data_samples()
        for _ in range(k):
            chains = gibbs_sweep(arr, chains, rng, clamp)
        neg = sufficient_statistics(arr, chains, uniform)
        grad = _minus(neg, _positive_phase(model, arr, data))
        if beta:
            _, g_mi = mi_bits_and_gradient(arr, model, mi_probs)
            assert g_mi is not None
            grad = _axpy(beta, g_mi, grad)
        g = _flatten(model.param_gradients(grad), names)
        m1 = b1 * m1 + (1 - b1) * g
        m2 = b2 * m2 + (1 - b2) * g * g
        step = learning_rate * (1.0 - (t - 1) / n_iter)
        x = x - step * (m1 / (1 - b1**t)) / (np.sqrt(m2 / (1 - b2**t)) + eps)
        if t % eval_every == 0 or t == n_iter:
            p = _unflatten(x, shapes)
            kl = _kl_from_arrays(model, model.machine_arrays(p), data, objective)[0]
            mi = _mi_or_nan(model, p, mi_probs)
            hist.append((t, kl + (beta * mi if beta else 0.0), kl, mi))
    params = _unflatten(x, shapes)
    kl = _kl_from_arrays(model, model.machine_arrays(params), data, objective)[0]
    mi = _mi_or_nan(model, params, mi_probs)
    h = np.array(hist, dtype=float)
    history = {"iteration": h[:, 0].astype(int), "loss": h[:, 1], "kl": h[:, 2], "mi_bits": h[:, 3]}
    loss = kl + (beta * mi if beta else 0.0)
    options = {"n_iter": n_iter, "learning_rate": learning_rate, "n_chains": n_chains, "k": k}
    fit_time = time.perf_counter() - start
    return FitResult(
        params, kl, loss, mi, history, n_iter, np.array([loss]), fit_time,
        {**options, "optimiser": "adam"},
    )  # fmt: skip


__all__ = [
    "MAX_TRAINED_HIDDEN",
    "METHODS",
    "OBJECTIVES",
    "EmpiricalData",
    "FitResult",
    "fit_machine",
    "kl_divergence",
    "loss_and_gradient",
    "mi_bits_and_gradient",
    "sufficient_statistics",
]
