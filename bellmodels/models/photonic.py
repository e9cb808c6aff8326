"""Quantum mechanics of a photonic two-qubit Bell test, with its detection stage.

``quantum-two-qubit`` is the textbook description of a polarisation-entangled photon-pair
experiment: a pure, partially entangled state mixed with white noise, one linear polariser per
setting, detectors of finite efficiency, and (for pulsed tables whose outcomes are detection /
no detection) a photon pair in only a fraction of the trials plus background clicks. It is the
model of Eberhard-type (CH) experiments such as Giustina et al. 2015, which no singlet model can
describe: Eberhard showed that a partially entangled state lowers the efficiency a violation
needs (P. H. Eberhard, PRA 47, R747 (1993)).

Conventions
-----------
State
    ``|psi(theta)> = cos(theta) |HV> - sin(theta) |VH>``: the singlet at ``theta = pi/4``,
    a product state at 0 or pi/2. With white noise of weight ``1 - V``:
    ``rho = V |psi><psi| + (1 - V) I / 4``.
Angles
    Polariser angles ``alpha`` (party A) and ``beta`` (B) in radians; a polariser at ``alpha``
    transmits ``cos(alpha) |H> + sin(alpha) |V>``. A polariser angle is **half** the Bloch /
    spin angle of :class:`~bellmodels.models.nonlocal_.QuantumSinglet`: a scenario's angles are
    Bloch angles, so the nominal polariser angles are ``scenario.angles / 2``. For the singlet
    ``E = -cos(2 (alpha - beta))``, which is ``quantum-singlet``'s ``-cos(a - b)``.
Outcomes
    ``table="complete"`` (every trial kept, CH/Eberhard tables): +1 = detection (a click
    behind the polariser), -1 = no detection, as the shipped ``vienna2015`` maps them.
    ``table="post-selected"`` (coincidences only, two-channel analysers as in Weihs 1998): +1 /
    -1 are the analyser's two output ports, read only when both photons were detected; under fair
    sampling (efficiency independent of the hidden state and the settings) the efficiencies
    cancel and only the state, the noise and the angles remain.
Detection (complete tables)
    With probability ``pair`` a trial holds a photon pair. A's photon passes the polariser with
    probability ``T_A(alpha)`` and is then detected with probability ``eta_a`` (B likewise);
    each detector also clicks by itself (background, dark count) with probability ``dark``.
    Writing ``q_A = pair eta_a T_A``, ``q_B = pair eta_b T_B``, ``q_AB = pair eta_a eta_b T_AB``:
    ``P(n, n) = (1 - dark)^2 (1 - q_A - q_B + q_AB)``, ``P(n_A) = (1 - dark)(1 - q_A)``, and the
    other cells by inclusion-exclusion.

Example
-------
>>> import numpy as np
>>> from bellmodels import models
>>> m = models.get("quantum-two-qubit")            # the singlet, perfect detection
>>> q = models.get("quantum-singlet")
>>> bool(np.allclose(m.behaviour(), q.behaviour(), atol=1e-12))
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bellmodels._util import one_blas_thread
from bellmodels.data import Trials
from bellmodels.data.tables import TABLE_KINDS
from bellmodels.models.base import HiddenVariableModel, Parameter
from bellmodels.models.local import visibility_parameter
from bellmodels.models.registry import register
from bellmodels.ontic import OnticTable
from bellmodels.scenario import Scenario

ANGLE_SD = 0.1
"""Prior sd (rad) of each polariser angle around its nominal value (half the scenario's)."""


MODE_LOGLIK_GAP = 50.0
"""Nats of total log-likelihood within which another optimum of ``QuantumTwoQubit.train`` stays
a candidate for the posterior mode (``modes_``): the prior, not the likelihood, chooses among
them (``fit``'s init keeps the one with the highest log posterior)."""

MODE_DISTANCE = 1e-3
"""Two optima are distinct when some parameter (rad, or probability) differs by more than this."""


def distinct_optima(
    found: list[tuple[float, np.ndarray]],
    total: float,
    *,
    gap: float = MODE_LOGLIK_GAP,
    distance: float = MODE_DISTANCE,
    most: int = 4,
) -> list[tuple[float, np.ndarray]]:
    """The distinct optima among ``found`` (loss per trial, parameter vector), best first.

    Kept: those whose total log-likelihood (``total`` trials) is within ``gap`` nats of the best
    and which differ from every better kept one by more than ``distance`` in some coordinate;
    at most ``most``.

    >>> found = [(1.0, np.array([0.4])), (1.0 + 1e-9, np.array([0.3])), (1.0, np.array([0.4]))]
    >>> [x.tolist() for _, x in distinct_optima(found, total=1e8)]   # 0.1 nats apart: both
    [[0.4], [0.3]]
    >>> [x.tolist() for _, x in distinct_optima(found, total=1e11)]  # 100 nats: the best only
    [[0.4]]
    """
    kept: list[tuple[float, np.ndarray]] = []
    for fun, x in sorted(found, key=lambda r: r[0]):
        if kept and (fun - kept[0][0]) * total > gap:
            break
        if all(np.max(np.abs(x - y)) > distance for _, y in kept):
            kept.append((fun, x))
    return kept[:most]


def check_table_kind(kind: str, where: str) -> str:
    """``kind`` if it is one of :data:`TABLE_KINDS`, else a ``ValueError`` naming ``where``.

    >>> check_table_kind("complete", "model")
    'complete'
    """
    if kind not in TABLE_KINDS:
        raise ValueError(f"{where}: table must be one of {TABLE_KINDS}, got {kind!r}")
    return kind


def refuse_table(model: Any, counts: Any) -> None:
    """Raise ``ValueError`` when ``counts`` is a kind of table ``model`` cannot describe.

    A table whose kind is unknown (``counts.kind is None``) is accepted: the user vouches for it.

    >>> from bellmodels import Counts, Scenario, models
    >>> import numpy as np
    >>> c = Counts(np.ones((2, 2, 2, 2), int), Scenario.chsh(), kind="post-selected")
    >>> refuse_table(models.get("quantum-two-qubit"), c)
    Traceback (most recent call last):
    ...
    ValueError: model 'quantum-two-qubit' (table='complete') cannot describe a post-selected count table (source: unknown); build it with table='post-selected'
    """
    kind = getattr(counts, "kind", None)
    if kind is None or kind == model.table:
        return
    source = counts.provenance.get("source", "unknown") if hasattr(counts, "provenance") else "?"
    raise ValueError(
        f"model {model.name!r} (table={model.table!r}) cannot describe a {kind} count table "
        f"(source: {source}); build it with table={kind!r}"
    )


def transmissions(
    theta: Any, visibility: Any, alpha: Any, beta: Any, lib: Any = np
) -> tuple[Any, Any, Any]:
    """``(T_A (K_a,), T_B (K_b,), T_AB (K_a, K_b))``: probabilities that A's photon, B's photon
    and both pass their polarisers, for ``rho = V |psi(theta)><psi| + (1 - V) I / 4``.

    ``T_A = cos^2(theta) cos^2(alpha) + sin^2(theta) sin^2(alpha)`` (A's reduced state),
    ``T_B = cos^2(theta) sin^2(beta) + sin^2(theta) cos^2(beta)``, and
    ``T_AB = (cos(theta) cos(alpha) sin(beta) - sin(theta) sin(alpha) cos(beta))^2``
    (the amplitude ``<alpha, beta|psi>``); the noise part gives 1/2, 1/2, 1/4.

    >>> ta, tb, tab = transmissions(np.pi / 4, 1.0, np.array([0.0]), np.array([np.pi / 2]))
    >>> [round(float(x), 12) for x in (ta[0], tb[0], tab[0, 0])]   # crossed polarisers, singlet
    [0.5, 0.5, 0.5]
    """
    c, s = lib.cos(theta), lib.sin(theta)
    ca, sa = lib.cos(alpha), lib.sin(alpha)
    cb, sb = lib.cos(beta), lib.sin(beta)
    ta = c**2 * ca**2 + s**2 * sa**2
    tb = c**2 * sb**2 + s**2 * cb**2
    amp = c * ca[:, None] * sb[None, :] - s * sa[:, None] * cb[None, :]
    v = visibility
    return v * ta + (1 - v) * 0.5, v * tb + (1 - v) * 0.5, v * amp**2 + (1 - v) * 0.25


def detection_cells(qa: Any, qb: Any, qab: Any, dark: Any, lib: Any = np) -> Any:
    """p(x_a, x_b) ``(K_a, K_b, 2, 2)``, index 0 = no detection, 1 = detection.

    ``qa (K_a,)``, ``qb (K_b,)``, ``qab (K_a, K_b)``: probabilities that the source's photons
    are detected at A, at B, at both; each detector also clicks on its own with probability
    ``dark``, independently (background).

    >>> p = detection_cells(np.array([0.5]), np.array([0.5]), np.array([[0.5]]), 0.0)
    >>> p[0, 0].tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    na = (1 - dark) * (1 - qa)[:, None] + 0 * qab  # P(A no click), broadcast (K_a, K_b)
    nb = (1 - dark) * (1 - qb)[None, :] + 0 * qab
    nn = (1 - dark) ** 2 * (1 - qa[:, None] - qb[None, :] + qab)
    nd = na - nn
    dn = nb - nn
    dd = 1 - na - nb + nn
    row0 = lib.stack([nn, nd], axis=-1)
    row1 = lib.stack([dn, dd], axis=-1)
    return lib.stack([row0, row1], axis=-2)


def _beta_parameter(name: str, a: float, b: float, default: float, description: str) -> Parameter:
    def prior(var: str) -> Any:
        import pymc as pm

        return pm.Beta(var, alpha=a, beta=b)

    return Parameter(name, (), default, prior, f"Beta({a:g}, {b:g})", description)


def angle_parameter(party: str, nominal: np.ndarray) -> Parameter:
    """Polariser angles of one party, prior ``Normal(nominal, ANGLE_SD)`` per setting.

    >>> angle_parameter("a", np.zeros(2)).prior_repr
    'Normal(scenario angles / 2, 0.1)'
    """
    mu = np.asarray(nominal, dtype=float)

    def prior(var: str) -> Any:
        import pymc as pm

        return pm.Normal(var, mu=mu, sigma=ANGLE_SD, shape=mu.shape)

    return Parameter(
        f"angle_{party}",
        mu.shape,
        mu,
        prior,
        f"Normal(scenario angles / 2, {ANGLE_SD})",
        f"polariser angles (rad) of party {party.upper()} per setting (half the Bloch angles)",
    )


def theta_parameter() -> Parameter:
    """The state's angle theta in ``cos(theta)|HV> - sin(theta)|VH>``, prior Uniform(0, pi/2).

    >>> theta_parameter().default
    0.7853981633974483
    """

    def prior(var: str) -> Any:
        import pymc as pm

        return pm.Uniform(var, lower=0.0, upper=np.pi / 2)

    return Parameter(
        "theta",
        (),
        np.pi / 4,
        prior,
        "Uniform(0, pi/2)",
        "state cos(theta)|HV> - sin(theta)|VH> (pi/4: the singlet)",
    )


@register()
class QuantumTwoQubit(HiddenVariableModel):
    """Orthodox quantum mechanics of a photonic two-qubit Bell test, read as an ontic model.

    lambda
        ``"psi"``: a pair in the state ``cos(theta)|HV> - sin(theta)|VH>`` (weight
        ``pair * V``); ``"noise"``: a pair in the maximally mixed state (``pair * (1 - V)``);
        and, for complete tables, ``"no-pair"``: an empty trial (``1 - pair``). The response
        to each includes the detection stage (efficiencies and background clicks, which act
        locally).
    Algorithm
        Draw lambda. For a pair, A's photon passes its polariser with probability ``T_A``; by
        collapse B's then passes with ``T_AB / T_A`` (else ``(T_B - T_AB) / (1 - T_A)``); each
        passed photon is detected with probability ``eta``; each detector also clicks on its
        own with probability ``dark``. Post-selected tables read the two analyser ports of
        pairs only (see the module docstring).
    Correlations
        At ``theta = pi/4``, ``eta = pair = 1``, ``dark = 0`` exactly ``quantum-singlet``'s,
        with Bloch angles twice the polariser angles. On complete tables the CH/Eberhard ``J``
        is positive only above Eberhard's efficiency threshold (2/3 for weakly entangled
        states; Eberhard, PRA 47, R747 (1993)).
    Assumption dropped
        Outcome independence (as ``quantum-singlet``): given lambda = psi the outcomes are
        correlated; the marginals ignore the distant setting.
    Options
        ``table``: ``"complete"`` (default; CH tables, parameters ``theta, angle_a, angle_b,
        eta_a, eta_b, pair``) or ``"post-selected"`` (coincidence tables under fair sampling:
        ``theta, visibility, angle_a, angle_b``). ``noise`` (default: on for post-selected
        tables only) adds ``visibility``; ``background=True`` adds ``dark``.
    Identifiability
        A complete CH table of a no-signalling model has 8 free numbers (2 + 2 singles rates,
        4 coincidence rates); the pure-state model has 8 parameters (theta, 4 angles, 2
        efficiencies, pair). ``visibility`` and ``dark`` add directions no CH table fixes
        (white noise, a lower pair rate and higher efficiencies trade off): with them the
        prior decides along a ridge, which is why they are off by default on complete tables.
        Without them the 8 numbers fix the 8 parameters only up to a discrete choice: near
        Giustina et al.'s settings two parameter points reproduce the same complete table
        exactly (to 1e-8 in every cell), however many trials are counted. At their state and
        efficiencies (theta 0.332, eta 0.786 / 0.762, a pair in 5% of trials) the other
        solution is theta 0.418, eta 0.853 / 0.827, pair 0.029, with polariser angles up to
        0.2 rad (2 prior sd) from the nominal ones, and ``vienna2015`` has such a pair too.
        Only what the experiment knows of its angles (the ``Normal(nominal, 0.1)`` prior) tells
        them apart: 4 nats of log prior density, about 75 : 1 in posterior mass (Laplace) for
        the simulated experiment. The fit starts in the mode of highest posterior density and
        its chains stay there, so theta, the efficiencies and the pair rate it reports are
        conditional on the angles lying near their nominal values (the other mode's mass,
        about 1%, is not sampled); the behaviour, CH ``J`` and every rate are the same in both
        modes.
    Citation
        P. H. Eberhard, PRA 47, R747 (1993); J. F. Clauser & M. A. Horne, PRD 10, 526 (1974);
        M. Giustina et al., PRL 115, 250401 (2015).

    Example
    -------
    >>> from bellmodels import models
    >>> m = models.get("quantum-two-qubit", eta_a=0.8, eta_b=0.8)
    >>> float(round(m.behaviour()[0, 0, 1, :].sum(), 6))   # A detects: eta T_A = 0.8 / 2
    0.4
    >>> m.ontic_table().lam_labels
    ['psi', 'noise', 'no-pair']
    """

    name = "quantum-two-qubit"
    family = "nonlocal"
    assumption_dropped = "outcome independence (parameter independence holds)"
    citation = "Eberhard, PRA 47, R747 (1993); Giustina et al., PRL 115, 250401 (2015)"
    mass_matrix = "full"  # the data pin products pair * eta, oblique to the free variables
    trainable = True
    init = "mode"

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        table: str = "complete",
        noise: bool | None = None,
        background: bool = False,
        **values: Any,
    ) -> None:
        self.table = check_table_kind(table, "quantum-two-qubit")
        self.noise = (table == "post-selected") if noise is None else bool(noise)
        self.background = bool(background)
        if self.background and self.table != "complete":
            raise ValueError("quantum-two-qubit: background clicks need table='complete'")
        super().__init__(scenario, **values)

    @property
    def parameters(self) -> dict[str, Parameter]:
        scn = self.scenario
        out = {"theta": theta_parameter()}
        if self.noise:
            out["visibility"] = visibility_parameter()
        out["angle_a"] = angle_parameter("a", np.asarray(scn.angles_a, float) / 2)
        out["angle_b"] = angle_parameter("b", np.asarray(scn.angles_b, float) / 2)
        if self.table == "complete":
            out["eta_a"] = _beta_parameter("eta_a", 1, 1, 1.0, "detection efficiency of A")
            out["eta_b"] = _beta_parameter("eta_b", 1, 1, 1.0, "detection efficiency of B")
            out["pair"] = _beta_parameter("pair", 1, 1, 1.0, "probability of a pair per trial")
        if self.background:
            out["dark"] = _beta_parameter(
                "dark", 1, 1000, 0.0, "background click probability per detector and trial"
            )
        return out

    def check_counts(self, counts: Any) -> None:
        """Refuse a count table of the other kind (see :func:`refuse_table`)."""
        refuse_table(self, counts)

    @one_blas_thread()
    def train(self, counts: Any, *, starts: int = 6, seed: int = 0) -> QuantumTwoQubit:
        """Maximum-likelihood fit (L-BFGS-B from ``starts`` points; returns ``self``).

        The fitted values go to ``params_`` (which :meth:`params` then returns), the
        log-likelihood per trial to ``loglik_``, and every distinct optimum within
        :data:`MODE_LOGLIK_GAP` nats of the best to ``modes_`` (best first; see
        :func:`distinct_optima`). A complete CH table has two exact solutions (see the class's
        Identifiability): the likelihood cannot choose between them, so ``fit(...,
        init="auto")`` starts the chains at the posterior mode reached from each of ``modes_``
        with the highest log posterior: with 10^9 trials the posterior is far narrower than any
        prior draw's distance to it, and the chains never cross from one mode to the other.

        >>> from bellmodels import Counts, models
        >>> truth = models.get("quantum-two-qubit", theta=0.5, eta_a=0.8, eta_b=0.7, pair=0.1)
        >>> c = Counts((truth.behaviour() * 1e8).round().astype(int), truth.scenario)
        >>> m = models.get("quantum-two-qubit").train(c, starts=2)
        >>> round(float(m.params()["theta"]), 3), round(float(m.params()["eta_a"]), 3)
        (0.5, 0.8)
        """
        from scipy.optimize import minimize

        self.check_counts(counts)
        self.params_: dict[str, np.ndarray] = {}
        specs = self.parameters
        obs = np.asarray(counts.values, dtype=float)
        total = obs.sum()
        bounds = {"theta": (1e-6, np.pi / 2 - 1e-6), "dark": (0.0, 0.5)}
        names = list(specs)
        sizes = [int(np.prod(specs[n].shape)) for n in names]

        def unpack(x: Any) -> dict[str, Any]:
            ends = np.cumsum([0, *sizes])
            return {
                n: x[ends[i] : ends[i + 1]].reshape(specs[n].shape) for i, n in enumerate(names)
            }

        loss = self._loss_function(unpack, obs / total)

        # probabilities stay strictly inside (0, 1): the fit starts its chains here, and a value
        # on the boundary is infinite in the sampler's logit space (a pair every trial, on Delft)
        box = []
        for n, size in zip(names, sizes, strict=True):
            lo_hi = bounds.get(n, (None, None) if n.startswith("angle") else (1e-9, 1.0 - 1e-9))
            box += [lo_hi] * size
        rng = np.random.default_rng(seed)
        found = []
        for k in range(starts):
            x0 = self._start(k, starts, rng, unpack(self._default_vector()), obs)
            vec = np.concatenate([np.ravel(x0[n]) for n in names])
            res = minimize(
                loss,
                vec,
                jac=True,
                method="L-BFGS-B",
                bounds=box,
                options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000, "maxfun": 50_000},
            )
            found.append((float(res.fun), np.asarray(res.x, dtype=float)))
        kept = distinct_optima(found, total)
        self.modes_ = [unpack(x) for _, x in kept]
        self.params_ = self.modes_[0]
        self.loglik_ = -kept[0][0]  # per trial
        return self

    def _default_vector(self) -> np.ndarray:
        return np.concatenate([np.ravel(s.default_array()) for s in self.parameters.values()])

    @staticmethod
    def _start(
        k: int, starts: int, rng: np.random.Generator, x0: dict[str, Any], obs: np.ndarray
    ) -> dict[str, Any]:
        """Start ``k`` of ``starts``: the nominal angles, theta at pi/4 first, then one draw in
        each of ``starts - 1`` equal strata of (0.1, 1.47), so that every basin of theta is
        tried (the two exact solutions of a CH table lie in different ones; see the class)."""
        x0 = {n: np.array(v, dtype=float) for n, v in x0.items()}
        width = 1.37 / max(1, starts - 1)
        x0["theta"] = np.asarray(np.pi / 4 if k == 0 else 0.1 + (k - 1 + rng.random()) * width)
        if "visibility" in x0:
            x0["visibility"] = np.asarray(0.95)
        for n in ("eta_a", "eta_b", "pair"):
            if n in x0:
                x0[n] = np.asarray(rng.uniform(0.2, 0.9))
        if "pair" in x0:  # a pair rate near the detection rate the data show
            x0["pair"] = np.asarray(min(0.9, 4.0 * obs[..., 1, 1].sum() / obs.sum() + 1e-6))
        if "dark" in x0:
            x0["dark"] = np.asarray(1e-7)
        return x0

    def _loss_function(self, unpack: Any, freq: np.ndarray) -> Any:
        """``x -> (KL-like loss, gradient)``, compiled once with PyTensor (exact gradients)."""
        import pytensor
        import pytensor.tensor as pt

        x = pt.vector("x", dtype="float64")
        prob = pt.clip(self._cells(unpack(x), pt), 1e-300, 1.0)
        loss = -pt.sum(pt.as_tensor_variable(freq) * pt.log(prob))
        fn = pytensor.function([x], [loss, pytensor.grad(loss, x)], mode="FAST_COMPILE")

        def value_and_grad(vec: np.ndarray) -> tuple[float, np.ndarray]:
            f, g = fn(np.asarray(vec, dtype=float))
            return float(f), np.asarray(g, dtype=float)

        return value_and_grad

    def _detection(self, p: Mapping[str, Any]) -> tuple[Any, Any, Any, Any]:
        dark = p["dark"] if self.background else 0.0
        if self.table == "complete":
            return p["eta_a"], p["eta_b"], p["pair"], dark
        return 1.0, 1.0, 1.0, 0.0

    def _cells(self, p: Mapping[str, Any], lib: Any) -> Any:
        ta, tb, tab = transmissions(
            p["theta"], p.get("visibility", 1.0), p["angle_a"], p["angle_b"], lib=lib
        )
        ea, eb, mu, dark = self._detection(p)
        return detection_cells(mu * ea * ta, mu * eb * tb, mu * ea * eb * tab, dark, lib=lib)

    def behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        return np.asarray(self._cells(self.params(params), np), dtype=float)

    def behaviour_tensor(self, params: Mapping[str, Any]) -> Any:
        import pytensor.tensor as pt

        return self._cells(params, pt)

    def coincidence_rate(self, params: Mapping[str, Any] | None = None) -> np.ndarray | None:
        """Post-selected tables: 1 at every setting pair (fair sampling: both ports of each
        analyser are detected alike, so the coincidences spread over the setting pairs as the
        settings do and the post-selected likelihood's spread term is 0). Complete: ``None``.

        >>> from bellmodels import models
        >>> models.get("quantum-two-qubit", table="post-selected").coincidence_rate().tolist()
        [[1.0, 1.0], [1.0, 1.0]]
        """
        if self.table != "post-selected":
            return None
        return np.ones(self.scenario.shape[:2])

    def coincidence_rate_tensor(self, params: Mapping[str, Any]) -> Any | None:
        import pytensor.tensor as pt

        rate = self.coincidence_rate()
        return None if rate is None else pt.as_tensor_variable(rate)

    def efficiencies(self, params: Mapping[str, Any] | None = None) -> tuple[float, float]:
        """``(eta_a, eta_b)``: 1 for post-selected tables (fair sampling reads them as 1)."""
        ea, eb, _, _ = self._detection(self.params(params))
        return float(ea), float(eb)

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        p = self.params(params)
        ea, eb, mu, dark = (float(x) for x in self._detection(p))
        v = float(p.get("visibility", 1.0))
        for name, x in (("visibility", v), ("pair", mu), ("eta_a", ea), ("eta_b", eb)):
            if not 0.0 <= x <= 1.0:
                raise ValueError(f"quantum-two-qubit: {name} must lie in [0, 1], got {x}")
        ka, kb = self.scenario.n_a, self.scenario.n_b
        resp, weights = [], []
        for vis, weight in ((1.0, mu * v), (0.0, mu * (1.0 - v))):
            ta, tb, tab = transmissions(float(p["theta"]), vis, p["angle_a"], p["angle_b"])
            resp.append(detection_cells(ea * ta, eb * tb, ea * eb * tab, dark))
            weights.append(weight)
        labels = ["psi", "noise"]
        if self.table == "complete":
            resp.append(detection_cells(np.zeros(ka), np.zeros(kb), np.zeros((ka, kb)), dark))
            weights.append(1.0 - mu)
            labels.append("no-pair")
        return OnticTable(np.array(weights), np.stack(resp, axis=2), self.scenario, labels)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        p = self.params()
        ea, eb, mu, dark = (float(x) for x in self._detection(p))
        sa, sb = self.scenario.draw_settings(n, rng, setting_probs)
        ia, ib = sa.astype(int), sb.astype(int)
        pure = rng.random(n) < float(p.get("visibility", 1.0))
        ta, tb, tab = transmissions(float(p["theta"]), 1.0, p["angle_a"], p["angle_b"])
        ta_n, tb_n, tab_n = ta[ia], tb[ib], tab[ia, ib]
        # noise pairs: independent fair transmissions
        ta_n, tab_n = np.where(pure, ta_n, 0.5), np.where(pure, tab_n, 0.25)
        tb_n = np.where(pure, tb_n, 0.5)
        pass_a = rng.random(n) < ta_n
        p_b = np.where(pass_a, tab_n / ta_n, (tb_n - tab_n) / (1.0 - ta_n))  # collapse
        pass_b = rng.random(n) < p_b
        pair = rng.random(n) < mu
        det_a = pair & pass_a & (rng.random(n) < ea) | (rng.random(n) < dark)
        det_b = pair & pass_b & (rng.random(n) < eb) | (rng.random(n) < dark)
        xa = np.where(det_a, 1, -1).astype(np.int8)
        xb = np.where(det_b, 1, -1).astype(np.int8)
        return Trials(self.scenario, sa, sb, xa, xb)


def eberhard_j(behaviour: np.ndarray) -> float:
    """The CH/Eberhard ``J = P(dd|00) - P(dn|01) - P(nd|10) - P(dd|11)`` of a behaviour whose
    outcome +1 is a detection; ``J > 0`` no local model reaches (Eberhard 1993).

    >>> from bellmodels import datasets, models
    >>> m = models.get("quantum-two-qubit", scenario=datasets.scenario("vienna2015"),
    ...                theta=np.arctan(1 / 2.9), eta_a=0.786, eta_b=0.762)
    >>> round(eberhard_j(m.behaviour()), 4)    # Giustina et al.'s state, settings, efficiencies
    0.0113
    >>> round(eberhard_j(m.behaviour({"eta_a": 0.6, "eta_b": 0.6})), 4)   # below Eberhard's 2/3
    -0.0239
    """
    p = np.asarray(behaviour, dtype=float)
    return float(p[0, 0, 1, 1] - p[0, 1, 1, 0] - p[1, 0, 0, 1] - p[1, 1, 1, 1])


__all__ = [
    "ANGLE_SD",
    "MODE_DISTANCE",
    "MODE_LOGLIK_GAP",
    "TABLE_KINDS",
    "QuantumTwoQubit",
    "check_table_kind",
    "detection_cells",
    "distinct_optima",
    "eberhard_j",
    "refuse_table",
    "transmissions",
]
