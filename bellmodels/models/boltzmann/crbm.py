"""The conditional RBM (``crbm``): a Boltzmann machine with the settings clamped as inputs.

The **conditional RBM** (``crbm``; S. Weinstein, "Boltzmann machines as thermal models for
quantum systems", arXiv:1807.03910 (2018)) treats the settings as conditioning inputs, clamped and
never modelled: ``p(x, h | s) = exp(b . x + d . h + x . W . h + s . U . h + s . A . x) / Z(s)``
with weights ``U`` from the settings into the hidden units and direct weights ``A`` from the
settings into the outcome units. With ``local=True`` (default) A's setting units feed only A's
outcome unit and B's only B's (parameters ``A_a``, ``A_b``), so parameter independence holds; with
``local=False`` the full ``A`` is free and the audit will say what that costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from bellmodels.models._batch import uses_own
from bellmodels.models.base import Parameter
from bellmodels.models.boltzmann._kernels import MachineArrays
from bellmodels.models.boltzmann.base import BoltzmannModel
from bellmodels.models.boltzmann.rbm import WEINSTEIN2017_C, WEINSTEIN2017_D, WEINSTEIN2017_W
from bellmodels.models.registry import register
from bellmodels.scenario import Scenario

CITATION_CRBM = (
    "S. Weinstein, Boltzmann machines as thermal models for quantum systems, arXiv:1807.03910 "
    "(2018)"
)


@register()
class CRBM(BoltzmannModel):
    """Conditional RBM: settings are clamped inputs with weights into hidden and outcome units.

    S. Weinstein, "Boltzmann machines as thermal models for quantum systems", arXiv:1807.03910
    (2018). ``p(x, h | s) = exp(b . x + d . h + x . W . h + s . U . h + s . A . x) / Z(s)``:
    the model never describes how settings are chosen, only outcomes given settings; ``lambda = h``.

    Parameters
    ----------
    scenario, n_hidden, seed, setting_encoding, prior
        As for :class:`RBM`.
    local
        ``True`` (default): A's setting units feed only A's outcome unit (``A_a``) and B's only
        B's (``A_b``), so parameter independence holds exactly. ``False``: a full ``A``
        ``(n_settings, 2)`` (allows parameter dependence; the audit reports it).
    **values
        ``W`` ``(2, n_hidden)`` outcome-hidden, ``U`` ``(n_settings, n_hidden)`` settings-hidden,
        ``b`` ``(2,)`` outcome biases, ``d`` ``(n_hidden,)`` hidden biases, and ``A_a``
        ``(bits_a,)``, ``A_b`` ``(bits_b,)`` (or ``A`` when ``local=False``).

    Notes
    -----
    Defaults: for 2 x 2 settings, binary coding and 4 hidden units, the conditional of the
    published RBM (``U``, ``W``, ``b``, ``d`` from Table II, ``A = 0``), whose behaviour is
    exactly that of ``rbm-weinstein2017``; otherwise seeded small random weights. Prior as for
    :class:`RBM` (``prior="spin"``: Normal(0, 0.75) on every weight and bias of the machine
    with +-1 units, settings units included; ``"binary"``: Normal(0, 3) on the 0/1 ones).
    Training uses the conditional likelihood only (there is no ``p(s)``).

    Example
    -------
    >>> import numpy as np
    >>> from bellmodels.models.boltzmann import CRBM, RBM
    >>> bool(np.allclose(CRBM().behaviour(), RBM.weinstein2017().behaviour()))
    True
    """

    name = "crbm"
    assumption_dropped = "measurement independence"
    citation = CITATION_CRBM
    supports_joint = False

    def __init__(
        self,
        scenario: Scenario | None = None,
        n_hidden: int = 4,
        *,
        seed: int | None = 0,
        setting_encoding: str = "binary",
        prior: str = "spin",
        local: bool = True,
        **values: Any,
    ) -> None:
        self.local = bool(local)
        super().__init__(
            scenario,
            n_hidden,
            seed=seed,
            setting_encoding=setting_encoding,
            prior=prior,
            **values,
        )

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        n_s, nh = self.layout.n_settings, self.n_hidden
        shapes: dict[str, tuple[int, ...]] = {
            "W": (2, nh),
            "U": (n_s, nh),
            "b": (2,),
            "d": (nh,),
        }
        if self.local:
            shapes["A_a"] = (self.layout.bits_a,)
            shapes["A_b"] = (n_s - self.layout.bits_a,)
        else:
            shapes["A"] = (n_s, 2)
        return shapes

    @property
    def parameters(self) -> dict[str, Parameter]:
        shapes = self._shapes()
        published = (
            self.n_hidden == 4
            and self.layout.n_visible == 4
            and (self.scenario.n_a, self.scenario.n_b) == (2, 2)
        )
        if published:
            defaults = {
                "W": WEINSTEIN2017_W[2:],
                "U": WEINSTEIN2017_W[:2],
                "b": WEINSTEIN2017_C[2:],
                "d": WEINSTEIN2017_D,
            }
            defaults.update({k: np.zeros(shapes[k]) for k in ("A_a", "A_b", "A") if k in shapes})
        else:
            defaults = {k: self._random_default(k, s) for k, s in shapes.items()}
        desc = {
            "W": "outcome-hidden weights (rows outcome_a, outcome_b)",
            "U": "setting-hidden weights (rows: setting units of A, then of B)",
            "b": "outcome biases",
            "d": "hidden biases",
            "A_a": "direct weights from A's setting units to A's outcome unit",
            "A_b": "direct weights from B's setting units to B's outcome unit",
            "A": "direct weights from every setting unit to both outcome units",
        }
        return {k: self._parameter(k, s, defaults[k], desc[k]) for k, s in shapes.items()}

    _HIDDEN_AXES: ClassVar[dict[str, int]] = {"W": 1, "U": 1, "d": 0}

    _SPIN_FORMULA: ClassVar[dict[str, str]] = {
        "W": "4 W_spin",
        "U": "4 U_spin",
        "A_a": "4 A_a_spin",
        "A_b": "4 A_b_spin",
        "A": "4 A_spin",
        "b": "2 b_spin - 2 sum_j W_spin[:, j] - 2 sum_i A_spin[i, :]",
        "d": "2 d_spin - 2 sum_i W_spin[i, :] - 2 sum_i U_spin[i, :]",
    }

    def _from_spin(self, free: Mapping[str, Any], xp: Any = np) -> dict[str, Any]:
        # with x, h, s = (x_pm + 1) / 2, ...: x.W.h, s.U.h, s.A.x gain bias terms on x and h
        # (terms in s alone cancel in p(x, h | s)); see rbm_from_spin for the RBM's version
        out = {k: 4.0 * v for k, v in free.items() if k not in ("b", "d")}
        a_cols = self._full_a(free, xp).sum(axis=0)
        out["b"] = 2.0 * free["b"] - 2.0 * free["W"].sum(axis=1) - 2.0 * a_cols
        out["d"] = 2.0 * free["d"] - 2.0 * free["W"].sum(axis=0) - 2.0 * free["U"].sum(axis=0)
        return out

    def _to_spin(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {k: v / 4.0 for k, v in params.items() if k not in ("b", "d")}
        a_cols = self._full_a(out).sum(axis=0)
        out["b"] = params["b"] / 2.0 + out["W"].sum(axis=1) + a_cols
        out["d"] = params["d"] / 2.0 + out["W"].sum(axis=0) + out["U"].sum(axis=0)
        return out

    def _full_a(self, p: Mapping[str, Any], xp: Any = np) -> Any:
        if not self.local:
            return p["A"]
        ba = self.layout.bits_a
        n_s = self.layout.n_settings
        mask_a = np.zeros((n_s, 2))
        mask_a[:ba, 0] = 1.0
        mask_b = np.zeros((n_s, 2))
        mask_b[ba:, 1] = 1.0
        ea = np.zeros((n_s, ba))
        ea[np.arange(ba), np.arange(ba)] = 1.0
        eb = np.zeros((n_s, n_s - ba))
        eb[ba + np.arange(n_s - ba), np.arange(n_s - ba)] = 1.0
        # column 0 gets A_a on A's rows, column 1 gets A_b on B's rows
        col_a = xp.dot(ea, p["A_a"])
        col_b = xp.dot(eb, p["A_b"])
        return xp.stack([col_a, col_b], axis=1)

    def machine_arrays(self, params: Mapping[str, Any] | None = None) -> MachineArrays:
        p = self.params(params)
        n_s = self.layout.n_settings
        w = np.concatenate([p["U"], p["W"]], axis=0)
        c = np.concatenate([np.zeros(n_s), p["b"]])
        return MachineArrays(w, c, p["d"], np.asarray(self._full_a(p), dtype=float))

    def stacked_machine_arrays(self, values: Mapping[str, Any]) -> MachineArrays:
        if not uses_own(self, CRBM, ("machine_arrays", "_full_a")):
            return super().stacked_machine_arrays(values)
        p = self.stacked_params(values)
        n, n_s = p["W"].shape[0], self.layout.n_settings
        w = np.concatenate([p["U"], p["W"]], axis=1)
        c = np.concatenate([np.zeros((n, n_s)), p["b"]], axis=1)
        if not self.local:
            return MachineArrays(w, c, p["d"], p["A"])
        # _full_a's embedding, draw by draw: A's rows of column 0, B's rows of column 1
        ba = self.layout.bits_a
        a = np.zeros((n, n_s, 2))
        a[:, :ba, 0] = p["A_a"]
        a[:, ba:, 1] = p["A_b"]
        return MachineArrays(w, c, p["d"], a)

    def param_gradients(self, grad: MachineArrays) -> dict[str, np.ndarray]:
        n_s = self.layout.n_settings
        out = {"W": grad.W[n_s:], "U": grad.W[:n_s], "b": grad.c[n_s:], "d": grad.d}
        if self.local:
            ba = self.layout.bits_a
            out["A_a"] = grad.A[:ba, 0]
            out["A_b"] = grad.A[ba:, 1]
        else:
            out["A"] = grad.A
        return out

    def _tensor_arrays(self, params: Mapping[str, Any]) -> tuple[Any, Any, Any, Any]:
        import pytensor.tensor as pt

        p = {k: pt.as_tensor_variable(v) for k, v in params.items()}
        n_s = self.layout.n_settings
        w = pt.concatenate([p["U"], p["W"]], axis=0)
        # c = [0, b] as an embedding (a dot), not a concatenate with a constant: vectorised over a
        # batch of parameter points (tempered SMC), a Join of batched and unbatched inputs falls
        # back to a Python loop per point (Blockwise), which cost 86% of the CRBM's log density
        n_x = self.layout.n_visible - n_s
        embed = np.zeros((n_s + n_x, n_x))
        embed[n_s + np.arange(n_x), np.arange(n_x)] = 1.0
        c = pt.dot(embed, p["b"])
        return w, c, p["d"], self._full_a(p, xp=pt)


__all__ = ["CRBM"]
