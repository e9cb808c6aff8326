"""Local models of the detection loophole: detection that depends on the hidden variable.

A local model may decide, pair by pair, whether each photon is detected, from lambda and its own
setting. Over all pairs it is local (``|S| <= 2``); over the pairs both detectors saw (the
coincidences a post-selected experiment keeps) the sub-ensemble depends on the settings, and the
coincidence statistics can reach the singlet's and beyond (Pearle, PRD 2, 1418 (1970); Garg &
Mermin, PRD 35, 3831 (1987); Larsson, PRA 57, 3304 (1998)). That is why a post-selected Bell
test needs the fair-sampling assumption and a complete one does not.

Outcome alphabet of the full (unselected) description: index 0 = -1, 1 = +1, 2 = no detection;
``full_behaviour`` is ``(K_a, K_b, 3, 3)``. A post-selected table is its ``2 x 2`` block of
detected outcomes, renormalised per setting pair; a complete table of a single-channel
experiment (outcome +1 = detection) lumps ``-1`` and no detection into ``-1``.

Example
-------
>>> import numpy as np
>>> from bellmodels import models
>>> gg = models.get("gisin-gisin")
>>> p = gg.behaviour()
>>> E = p[..., 0, 0] + p[..., 1, 1] - p[..., 0, 1] - p[..., 1, 0]
>>> float(round(abs(E[0, 0] + E[0, 1] + E[1, 0] - E[1, 1]), 6))   # the singlet's coincidences
2.828427
>>> gg.efficiencies()
(0.5, 1.0)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from bellmodels.data import Trials
from bellmodels.models.base import HiddenVariableModel, Parameter
from bellmodels.models.blocks import (
    arc_partition,
    arc_signs,
    deterministic_response,
    planar_vectors,
    sign,
    strategy_labels,
    uniform_sphere,
)
from bellmodels.models.local import PlanarModel
from bellmodels.models.nonlocal_ import dirichlet_probit_parameter
from bellmodels.models.photonic import check_table_kind, refuse_table
from bellmodels.models.registry import register
from bellmodels.ontic import OnticTable
from bellmodels.scenario import Scenario

# rows: 3-outcome index (-1, +1, none); columns: the complete table's 2 outcomes (-1, +1)
LUMP = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])


def post_select(full: Any, lib: Any = np) -> Any:
    """The coincidence block of a ``(K_a, K_b, 3, 3)`` behaviour, renormalised per pair.

    >>> full = np.zeros((1, 1, 3, 3)); full[0, 0, 1, 1] = 0.2; full[0, 0, 2, 2] = 0.8
    >>> post_select(full)[0, 0].tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    block = full[:, :, :2, :2]
    return block / block.sum(axis=(2, 3), keepdims=True)


def lump(full: Any, lib: Any = np) -> Any:
    """The complete table of a ``(K_a, K_b, 3, 3)`` behaviour: no detection read as -1.

    >>> full = np.zeros((1, 1, 3, 3)); full[0, 0, 2, 1] = 1.0
    >>> lump(full)[0, 0].tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    m = lib.as_tensor_variable(LUMP) if lib is not np else LUMP
    return lib.tensordot(lib.tensordot(full, m, axes=[[2], [0]]), m, axes=[[2], [0]])


def coincidence_probability(full: np.ndarray) -> np.ndarray:
    """P(both detect | s_a, s_b), ``(K_a, K_b)``: constant iff the pair rate ignores the settings.

    >>> coincidence_probability(np.full((1, 1, 3, 3), 1 / 9)).round(6).tolist()
    [[0.444444]]
    """
    return np.asarray(full)[:, :, :2, :2].sum(axis=(2, 3))


class _DetectionModel:
    """Shared behaviour of the loophole models: the table kind and the derived quantities."""

    name: str
    table: str
    scenario: Scenario

    def full_behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """p(x_a, x_b | s_a, s_b) over all pairs, ``(K_a, K_b, 3, 3)`` (index 2: no detection)."""
        raise NotImplementedError

    def check_counts(self, counts: Any) -> None:
        """Refuse a count table of the other kind (see ``models.photonic.refuse_table``)."""
        refuse_table(self, counts)

    def behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        full = self.full_behaviour(params)
        return post_select(full) if self.table == "post-selected" else lump(full)

    def coincidence_rate(self, params: Mapping[str, Any] | None = None) -> np.ndarray | None:
        """P(both detect | s), ``(K_a, K_b)``, on post-selected tables (``None`` on complete
        ones, which keep every trial): how the coincidences spread over the setting pairs."""
        if self.table != "post-selected":
            return None
        return coincidence_probability(self.full_behaviour(params))

    def efficiencies(self, params: Mapping[str, Any] | None = None) -> tuple[float, float]:
        """``(eta_a, eta_b)``: each party's detection probability, the least over its settings."""
        full = self.full_behaviour(params)
        eta_a = 1.0 - full[:, :, 2, :].sum(axis=-1)  # (K_a, K_b), the same along K_b
        eta_b = 1.0 - full[:, :, :, 2].sum(axis=-1)
        return round(float(eta_a.min()), 12), round(float(eta_b.min()), 12)


def detection_strategies(scenario: Scenario) -> tuple[np.ndarray, list[str]]:
    """Every local deterministic strategy with a third outcome, no detection, per setting.

    ``3^(K_a + K_b)`` strategies (81 for CHSH), as one-hot ``(L, K_a, K_b, 3, 3)`` responses
    with labels such as ``"+0;-+"`` (A: +1 at its first setting, undetected at its second).

    >>> resp, labels = detection_strategies(Scenario.chsh())
    >>> resp.shape, labels[0]
    ((81, 2, 2, 3, 3), '--;--')
    """
    ka, kb = scenario.n_a, scenario.n_b
    sym = {0: "-", 1: "+", 2: "0"}
    strategies = list(itertools.product((0, 1, 2), repeat=ka + kb))
    resp = np.zeros((len(strategies), ka, kb, 3, 3))
    labels = []
    for i, s in enumerate(strategies):
        for sa in range(ka):
            for sb in range(kb):
                resp[i, sa, sb, s[sa], s[ka + sb]] = 1.0
        labels.append("".join(sym[x] for x in s[:ka]) + ";" + "".join(sym[x] for x in s[ka:]))
    return resp, labels


@register()
class LocalDetectionLoophole(_DetectionModel, HiddenVariableModel):
    """The most general local model with detection that depends on lambda and the setting.

    lambda
        One of the ``3^(K_a + K_b)`` local deterministic strategies whose outcome per setting is
        +1, -1 or no detection (81 for CHSH).
    Algorithm
        Draw lambda from the weights; each party reads its own setting's entry. For a
        post-selected table, only pairs that both detect are kept: the likelihood is the model's
        distribution conditioned on both detecting, per setting pair.
    Correlations
        On complete tables (no detection read as -1): exactly the local polytope, ``|S| <= 2``
        (each strategy is a local deterministic one). On post-selected tables: anything a local
        model with those detection rates can fake; with efficiency below 2(sqrt 2 - 1) = 0.828
        even the singlet's ``S = 2 sqrt 2`` (Garg & Mermin 1987; Larsson 1998).
    Ontic table
        Complete: lambda with weight ``w``, deterministic response. Post-selected: the
        coincidence sub-ensemble, ``p(lambda | s) = w D_lambda(s) / sum w D(s)`` with ``D`` =
        1 where lambda detects at both settings: it depends on the settings, so the audit reads
        it as measurement-dependent (the violated fair-sampling assumption, in the audit's terms).
    Likelihood
        Post-selected: the model's distribution conditioned on both detecting, over what the
        experiment kept: the outcomes of each coincidence given its setting pair (one
        Multinomial per pair) and how the coincidences spread over the setting pairs, which
        with settings drawn uniformly is ``pi(s) = D(s) / sum_s' D(s')``, ``D(s) = sum_lambda
        w_lambda D_lambda(s)`` (:meth:`coincidence_rate`; the term :func:`pair_spread_loglik`,
        added by ``fit``). A model may fake correlations by detecting more often at some
        setting pairs; the coincidences per pair then show it.
    Assumption dropped
        Fair sampling: detection depends on lambda and the local setting (locality holds).
    Citation
        P. Pearle, PRD 2, 1418 (1970); A. Garg & N. D. Mermin, PRD 35, 3831 (1987);
        J.-A. Larsson, PRA 57, 3304 (1998).

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels import models
    >>> m = models.get("local-detection-loophole")
    >>> m.table, m.ontic_table().n_lambda, m.efficiencies()
    ('post-selected', 81, (0.666666666667, 0.666666666667))
    """

    name = "local-detection-loophole"
    family = "local"
    assumption_dropped = "fair sampling (detection depends on lambda and the local setting)"
    citation = "Pearle, PRD 2, 1418 (1970); Garg & Mermin, PRD 35, 3831 (1987)"
    mass_matrix = "full"

    def __init__(
        self, scenario: Scenario | None = None, *, table: str = "post-selected", **values: Any
    ) -> None:
        self.table = check_table_kind(table, "local-detection-loophole")
        super().__init__(scenario, **values)

    @property
    def parameters(self) -> dict[str, Parameter]:
        n = 3 ** (self.scenario.n_a + self.scenario.n_b)
        return {
            "weights": dirichlet_probit_parameter(
                "weights", n, "probability of each local strategy with no-detection outcomes"
            )
        }

    def strategy_index(self, label: str) -> int:
        """The index in ``weights`` of the strategy labelled ``label`` (see
        :func:`detection_strategies`: ``"+0;-+"`` is A: +1 at its first setting, no detection
        at its second; B: -1, +1).

        >>> from bellmodels import models
        >>> models.get("local-detection-loophole").strategy_index("+0;-+")
        46
        """
        labels = detection_strategies(self.scenario)[1]
        if label not in labels:
            raise ValueError(f"{self.name}: no strategy {label!r}; labels look like {labels[5]!r}")
        return labels.index(label)

    def _weights(self, params: Mapping[str, Any] | None) -> np.ndarray:
        w = self.params(params)["weights"]
        if np.any(w < -1e-12) or not np.isclose(w.sum(), 1.0, atol=1e-9):
            raise ValueError(f"weights of {self.name!r} must lie on the simplex (sum {w.sum()})")
        return np.clip(w, 0.0, None)

    def full_behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        resp, _ = detection_strategies(self.scenario)
        return np.einsum("l,labxy->abxy", self._weights(params), resp)

    def detection_profile(
        self, params: Mapping[str, Any] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(p(lambda) (L,), P(both detect | lambda, s) (K_a, K_b, L))`` over all pairs."""
        resp, _ = detection_strategies(self.scenario)
        return self._weights(params), np.moveaxis(resp[..., :2, :2].sum(axis=(-2, -1)), 0, 2)

    def _full_tensor(self, params: Mapping[str, Any]) -> Any:
        import pytensor.tensor as pt

        resp, _ = detection_strategies(self.scenario)
        flat = pt.as_tensor_variable(resp.reshape(resp.shape[0], -1))
        return pt.dot(params["weights"], flat).reshape((*self.scenario.shape[:2], 3, 3))

    def behaviour_tensor(self, params: Mapping[str, Any]) -> Any:
        import pytensor.tensor as pt

        full = self._full_tensor(params)
        return post_select(full, pt) if self.table == "post-selected" else lump(full, pt)

    def coincidence_rate_tensor(self, params: Mapping[str, Any]) -> Any | None:
        if self.table != "post-selected":
            return None
        return self._full_tensor(params)[:, :, :2, :2].sum(axis=(2, 3))

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        w = self._weights(params)
        resp, labels = detection_strategies(self.scenario)
        resp = np.moveaxis(resp, 0, 2)  # (K_a, K_b, L, 3, 3)
        if self.table == "complete":
            lumped = np.einsum("abluv,ux,vy->ablxy", resp, LUMP, LUMP)
            return OnticTable(w, lumped, self.scenario, labels)
        detect = resp[..., :2, :2].sum(axis=(-2, -1))  # (K_a, K_b, L): 1 if both detect
        joint = w[None, None, :] * detect
        p_lam = joint / joint.sum(axis=-1, keepdims=True)
        block = resp[..., :2, :2]
        response = np.where(detect[..., None, None] > 0, block, 0.25)
        return OnticTable(p_lam, response, self.scenario, labels)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        w = self._weights(None)
        resp, _ = detection_strategies(self.scenario)
        ka, kb = self.scenario.n_a, self.scenario.n_b
        codes = resp.reshape(resp.shape[0], ka, kb, 9).argmax(axis=-1)  # (L, K_a, K_b)
        out_a, out_b, set_a, set_b = [], [], [], []
        kept = 0
        while kept < n:  # emit pairs, keep what the table keeps (all, or coincidences)
            m = max(2 * (n - kept), 1000)
            sa, sb = self.scenario.draw_settings(m, rng, setting_probs)
            lam = rng.choice(w.size, size=m, p=w / w.sum())
            code = codes[lam, sa.astype(int), sb.astype(int)]
            xa, xb = code // 3, code % 3
            keep = (xa < 2) & (xb < 2) if self.table == "post-selected" else np.ones(m, bool)
            xa, xb = np.where(xa == 1, 1, -1), np.where(xb == 1, 1, -1)
            for lst, arr in ((out_a, xa), (out_b, xb), (set_a, sa), (set_b, sb)):
                lst.append(arr[keep])
            kept += int(keep.sum())
        cat = [np.concatenate(x)[:n] for x in (set_a, set_b, out_a, out_b)]
        return Trials(self.scenario, *cat)


def pair_spread_loglik(model: Any, counts: Any, params: Mapping[str, Any] | None = None) -> float:
    """The term of the post-selected likelihood for how coincidences spread over setting pairs
    (settings uniform): ``sum_s n_s log(pi(s) / p(s))`` with ``pi(s) = D(s) / sum_s' D(s')``,
    ``D(s)`` = P(both detect | s) (:meth:`coincidence_rate`), ``p(s) = 1 / (K_a K_b)``.

    What ``fit`` adds to the per-pair Multinomials (``bellmodels.inference.fit.build_model``).
    Measured against the design ``p(s)``, so it is 0 for a fair-sampling model (D constant),
    whose likelihood keeps its usual scale; a model whose coincidence rate follows the settings
    gains where the counts per pair follow it and loses where they do not. 0 for a model
    without a coincidence rate (complete tables, no detection stage).

    >>> import numpy as np
    >>> from bellmodels import Counts, Scenario, models
    >>> m = models.get("local-detection-loophole")
    >>> w = np.zeros(81); w[[m.strategy_index("++;++"), m.strategy_index("+0;++")]] = 0.5
    >>> c = Counts(np.full((2, 2, 2, 2), 10), Scenario.chsh())   # 40 coincidences per pair
    >>> round(pair_spread_loglik(m, c, {"weights": w}), 6)   # 80 log(4/3) + 80 log(2/3)
    -9.422643
    """
    d = model.coincidence_rate(params)
    if d is None:
        return 0.0
    n = np.asarray(counts.values).sum(axis=(2, 3))
    ps = model.scenario.settings_distribution()
    return float((n * (np.log(d) - np.log((ps * d).sum()))).sum())


@register("gisin-gisin")
class GisinGisin(_DetectionModel, PlanarModel, HiddenVariableModel):
    """Gisin & Gisin's local model: the singlet's coincidences exactly, from detection alone.

    lambda
        A unit vector uniform on the sphere S^2.
    Algorithm
        A's photon is detected with probability ``|a . lambda|`` and then answers
        ``sgn(a . lambda)``; B's is always detected and answers ``-sgn(b . lambda)``. With
        probability ``1 - V`` the pair is noise (A detected with probability 1/2, fair outcomes).
    Correlations
        Over coincidences lambda has density ``|a . lambda| / (2 pi)``, so ``E = -a . b``: the
        singlet exactly, fair marginals (the measure of ``dlr-one-sided``, reached here by
        detection instead of measurement dependence). Efficiencies ``eta_A = E|a . lambda| =
        1/2``, ``eta_B = 1``: 3/4 on average, the paper's 75%, below Garg & Mermin's
        ``2 (sqrt 2 - 1) = 0.828``. Over all pairs (no detection read as -1) it is local,
        ``|S| <= 2``.
    Ontic table
        Exact, over the arcs of lambda's azimuth (as ``dlr-one-sided``): the coincidence
        sub-ensemble has ``p(arc | a) = |sin(hi - a) - sin(lo - a)| / 4``, which depends on A's
        setting: the audit reads the post-selection as measurement dependence. Post-selected
        tables only (``table="post-selected"``).
    Assumption dropped
        Fair sampling (A's detection depends on lambda and a); locality holds.
    Citation
        N. Gisin & B. Gisin, "A local hidden variable model of quantum correlation exploiting
        the detection loophole", Phys. Lett. A 260, 323 (1999).

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels import models
    >>> full = models.get("gisin-gisin").full_behaviour()
    >>> float(round(full[0, 0, 2, :].sum(), 12))      # A undetected half of the time
    0.5
    """

    name = "gisin-gisin"
    family = "local"
    assumption_dropped = "fair sampling (A's detection depends on lambda and its setting)"
    citation = "Gisin & Gisin, Phys. Lett. A 260, 323 (1999)"
    table = "post-selected"

    def full_behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        p = self.params(params)
        a, b = self.angles(params)
        v = float(p["visibility"])
        lo, hi = arc_partition(a, b)
        xa = arc_signs(lo, hi, a)  # (L, K_a)
        xb = -arc_signs(lo, hi, b)
        mass = np.abs(np.sin(hi[:, None] - a) - np.sin(lo[:, None] - a)) / 8.0  # A detects
        length = (hi - lo)[:, None] / (2 * np.pi)
        ka, kb = a.size, b.size
        full = np.zeros((ka, kb, 3, 3))
        for i in range(ka):
            for j in range(kb):
                ia, ib = (xa[:, i] > 0).astype(int), (xb[:, j] > 0).astype(int)
                np.add.at(full[i, j], (ia, ib), v * mass[:, i])
                np.add.at(full[i, j], (np.full_like(ib, 2), ib), v * (length[:, 0] - mass[:, i]))
        full[:, :, :2, :2] += (1 - v) * 0.125  # noise: A detected half the time, fair outcomes
        full[:, :, 2, :2] += (1 - v) * 0.25
        return full

    def behaviour(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        return PlanarModel.behaviour(self, params)  # the singlet's, closed form

    def coincidence_rate_tensor(self, params: Mapping[str, Any]) -> Any:
        """1/2 at every setting pair, whatever the angles and V: ``E|a . lambda| = 1/2`` and B
        always detects (noise pairs: A half the time), so the coincidences spread over the
        setting pairs as the settings do (``bm.models.check`` compares it with the numpy form).
        """
        import pytensor.tensor as pt

        return pt.as_tensor_variable(np.full(self.scenario.shape[:2], 0.5))

    def detection_profile(
        self, params: Mapping[str, Any] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(p(lambda) (L,), P(both detect | lambda, s) (K_a, K_b, L))`` over all pairs, lambda
        coarse-grained to the azimuth arcs (averaged over the polar angle) plus ``"noise"``."""
        p = self.params(params)
        a, b = self.angles(params)
        v = float(p["visibility"])
        lo, hi = arc_partition(a, b)
        mass = np.abs(np.sin(hi[:, None] - a) - np.sin(lo[:, None] - a)) / 8.0  # (L, K_a)
        length = (hi - lo) / (2 * np.pi)
        det = np.concatenate([mass.T / length[None, :], np.full((a.size, 1), 0.5)], axis=1)
        det = np.broadcast_to(det[:, None, :], (a.size, b.size, det.shape[1]))
        return np.concatenate([v * length, [1 - v]]), det

    def ontic_table(self, params: Mapping[str, Any] | None = None) -> OnticTable:
        p = self.params(params)
        a, b = self.angles(params)
        v = float(p["visibility"])
        lo, hi = arc_partition(a, b)
        xa, xb = arc_signs(lo, hi, a), -arc_signs(lo, hi, b)
        mass = np.abs(np.sin(hi[:, None] - a) - np.sin(lo[:, None] - a)) / 4.0  # (L, K_a)
        ka, kb = a.size, b.size
        p_lam = np.broadcast_to(mass.T[:, None, :], (ka, kb, lo.size))
        p_all = np.concatenate([v * p_lam, np.full((ka, kb, 1), 1 - v)], axis=2)
        resp = deterministic_response(xa, xb)
        resp = np.concatenate([resp, np.full((ka, kb, 1, 2, 2), 0.25)], axis=2)
        labels = [*strategy_labels(xa, xb), "noise"]
        return OnticTable(p_all, resp, self.scenario, labels)

    def sample_trials(self, n: int, seed: int | None, setting_probs: Any = None) -> Trials:
        rng = np.random.default_rng(seed)
        p = self.params()
        a, b = self.angles()
        parts: list[list[np.ndarray]] = [[], [], [], []]
        kept = 0
        while kept < n:  # emit pairs, keep the coincidences
            m = max(3 * (n - kept), 1000)
            sa, sb = self.scenario.draw_settings(m, rng, setting_probs)
            lam = uniform_sphere(rng, m)
            da = np.einsum("ni,ni->n", planar_vectors(a)[sa.astype(int)], lam)
            db = np.einsum("ni,ni->n", planar_vectors(b)[sb.astype(int)], lam)
            noise = rng.random(m) >= float(p["visibility"])
            detect = rng.random(m) < np.where(noise, 0.5, np.abs(da))
            xa = np.where(noise, rng.choice([-1, 1], size=m), sign(da))
            xb = np.where(noise, rng.choice([-1, 1], size=m), -sign(db))
            for lst, arr in zip(parts, (sa, sb, xa, xb), strict=True):
                lst.append(arr[detect])
            kept += int(detect.sum())
        cat = [np.concatenate(x)[:n] for x in parts]
        return Trials(self.scenario, cat[0], cat[1], cat[2].astype(np.int8), cat[3].astype(np.int8))


__all__ = [
    "GisinGisin",
    "LocalDetectionLoophole",
    "coincidence_probability",
    "detection_strategies",
    "lump",
    "pair_spread_loglik",
    "post_select",
]
