"""Boltzmann-machine hidden-variable models: Weinstein's RBM and the conditional RBM.

The **RBM** (S. Weinstein, "Learning the Einstein-Podolsky-Rosen correlations on a Restricted
Boltzmann Machine", arXiv:1707.03114 (2017)) is a joint model of settings *and* outcomes. Its
visible layer is ``v = (setting bits of A, setting bits of B, outcome_a bit, outcome_b bit)``
(outcome bit 1 <-> +1; with two settings per party the setting bit is the setting index, as in
the paper and ``docs/architecture.md``), its hidden layer ``h`` has ``n_hidden`` binary units, and

    E(v, h) = -(c . v + d . h + v . W . h),        p(v, h) = exp(-E(v, h)) / Z.

The hidden units are the hidden variables: ``lambda = h`` (``2^n_hidden`` values). The
observable behaviour is the conditional ``p(outcomes | settings)`` (the machine's own
``p(settings)`` is not uniform and is not part of the behaviour); the ontic table is
``p(h | settings) = sum_x p(x, h | settings)`` and the response
``p(x_a, x_b | settings, h) = sigmoid(+-(c_a + W_a . h)) * sigmoid(+-(c_b + W_b . h))``, which
factorises and does not depend on the settings: parameter and outcome independence hold exactly
and the Bell violation is paid for by measurement dependence.

The conditional RBM is :class:`~bellmodels.models.boltzmann.crbm.CRBM`; the kernels both share
are in :mod:`~bellmodels.models.boltzmann._kernels`, their base class in
:mod:`~bellmodels.models.boltzmann.base`.

Example
-------
>>> import numpy as np
>>> from bellmodels.models.boltzmann.rbm import RBM
>>> rbm = RBM.weinstein2017()
>>> p = rbm.behaviour()
>>> E = p[:, :, 0, 0] + p[:, :, 1, 1] - p[:, :, 0, 1] - p[:, :, 1, 0]
>>> np.round(E, 3).tolist()
[[-0.711, -0.699], [-0.713, 0.704]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from bellmodels.models._batch import uses_own
from bellmodels.models.base import Parameter
from bellmodels.models.boltzmann._kernels import (
    MachineArrays,
    all_states,
    free_log,
    logsumexp,
    rbm_from_spin,
    rbm_to_spin,
)
from bellmodels.models.boltzmann.base import BoltzmannModel
from bellmodels.models.registry import register
from bellmodels.scenario import Scenario

# Weinstein (2017), Table II: rows v1..v4 = (setting_a, setting_b, outcome_a, outcome_b),
# columns h1..h4.
WEINSTEIN2017_W = np.array(
    [
        [2.652, 3.527, 3.546, -2.456],
        [-2.664, 3.575, 3.585, 2.471],
        [3.343, -5.587, 5.578, 3.717],
        [3.326, 5.577, -5.592, 3.721],
    ]
)
WEINSTEIN2017_C = np.array([-5.026, -4.872, -3.467, -3.464])
WEINSTEIN2017_D = np.array([-3.320, -1.015, -0.933, -3.753])

CITATION_RBM = (
    "S. Weinstein, Learning the Einstein-Podolsky-Rosen correlations on a Restricted Boltzmann "
    "Machine, arXiv:1707.03114 (2017)"
)


@register()
class RBM(BoltzmannModel):
    """Weinstein's Restricted Boltzmann Machine: a local, measurement-dependent model.

    S. Weinstein, "Learning the Einstein-Podolsky-Rosen correlations on a Restricted Boltzmann
    Machine", arXiv:1707.03114 (2017). A joint model of settings and outcomes (see the module
    docstring); ``lambda = h``.

    Parameters
    ----------
    scenario
        Default :meth:`Scenario.chsh`.
    n_hidden
        Number of hidden units (default 4, as in the paper).
    seed
        Seed of the random default weights (used when the published ones do not apply).
    setting_encoding
        ``"binary"`` (default) or ``"onehot"`` (see the module docstring).
    prior
        ``"spin"`` (default) or ``"binary"``: the PyMC prior (see the notes).
    **values
        Parameter values ``W`` ``(n_visible, n_hidden)``, ``c`` ``(n_visible,)``, ``d``
        ``(n_hidden,)``.

    Notes
    -----
    Defaults: for the paper's geometry (2 x 2 settings, binary coding, 4 hidden units) the
    defaults are the published Table II weights, so ``models.get("rbm")`` is usable untrained;
    otherwise seeded small random weights N(0, 0.01^2) (an untrained machine, near-uniform).
    Prior (for PyMC), ``prior="spin"`` (default): the machine is written with +-1 units
    (``v_pm = 2 v - 1``, ``h_pm = 2 h - 1``; :func:`rbm_from_spin`) and every one of those
    weights and biases is Normal(0, 0.75) independently (:data:`PRIOR_SIGMA_SPIN`); the free
    PyMC variables are ``W_spin``, ``c_spin``, ``d_spin`` and ``W``, ``c``, ``d`` are
    ``Deterministic``. Each 0/1 weight is then Normal(0, 3), and the prior, like the likelihood,
    is unchanged when any outcome, setting or hidden unit is relabelled (a bit flip is a sign
    flip of a row or column of +-1 weights). ``prior="binary"`` (independent Normal(0, 3) on the
    0/1 weights and biases) is not: flipping a bit shifts biases by weights, so the posterior
    MI, which the data do not fix, changes with the arbitrary choice of which outcome and which
    setting get the bit 1 (``docs/generated/concepts_rbm_labelling.md``, by
    ``docs/scripts/rbm_labelling.py``).

    Example
    -------
    >>> from bellmodels import models
    >>> m = models.get("rbm")
    >>> m.ontic_table().n_lambda
    16
    """

    name = "rbm"
    assumption_dropped = "measurement independence"
    citation = CITATION_RBM
    supports_joint = True

    def _uses_published_defaults(self) -> bool:
        return (
            self.n_hidden == 4
            and self.layout.n_visible == 4
            and self.scenario.n_a == 2
            and self.scenario.n_b == 2
        )

    @property
    def parameters(self) -> dict[str, Parameter]:
        nv, nh = self.layout.n_visible, self.n_hidden
        published = self._uses_published_defaults()
        shapes = {"W": (nv, nh), "c": (nv,), "d": (nh,)}
        defaults = (
            {"W": WEINSTEIN2017_W, "c": WEINSTEIN2017_C, "d": WEINSTEIN2017_D}
            if published
            else {k: self._random_default(k, s) for k, s in shapes.items()}
        )
        desc = {
            "W": "visible-hidden weights (rows: setting units, outcome_a, outcome_b)",
            "c": "visible biases (setting units, outcome_a, outcome_b)",
            "d": "hidden biases",
        }
        return {k: self._parameter(k, shapes[k], defaults[k], desc[k]) for k in shapes}

    _HIDDEN_AXES: ClassVar[dict[str, int]] = {"W": 1, "d": 0}

    _SPIN_FORMULA: ClassVar[dict[str, str]] = {
        "W": "4 W_spin",
        "c": "2 c_spin - 2 sum_j W_spin[:, j]",
        "d": "2 d_spin - 2 sum_i W_spin[i, :]",
    }

    def _from_spin(self, free: Mapping[str, Any], xp: Any = np) -> dict[str, Any]:
        return dict(zip("Wcd", rbm_from_spin(free["W"], free["c"], free["d"]), strict=True))

    def _to_spin(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip("Wcd", rbm_to_spin(params["W"], params["c"], params["d"]), strict=True))

    def machine_arrays(self, params: Mapping[str, Any] | None = None) -> MachineArrays:
        p = self.params(params)
        return MachineArrays(p["W"], p["c"], p["d"], np.zeros((self.layout.n_settings, 2)))

    def stacked_machine_arrays(self, values: Mapping[str, Any]) -> MachineArrays:
        if not uses_own(self, RBM, ("machine_arrays",)):
            return super().stacked_machine_arrays(values)
        p = self.stacked_params(values)
        n = p["W"].shape[0]
        return MachineArrays(p["W"], p["c"], p["d"], np.zeros((n, self.layout.n_settings, 2)))

    def param_gradients(self, grad: MachineArrays) -> dict[str, np.ndarray]:
        return {"W": grad.W, "c": grad.c, "d": grad.d}

    def _tensor_arrays(self, params: Mapping[str, Any]) -> tuple[Any, Any, Any, Any]:
        import pytensor.tensor as pt

        return (
            pt.as_tensor_variable(params["W"]),
            pt.as_tensor_variable(params["c"]),
            pt.as_tensor_variable(params["d"]),
            None,
        )

    # -- the RBM as a joint model ------------------------------------------------------------
    def log_prob_visible(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """log p(v) for every cell, ``(K_a, K_b, 2, 2)``: the joint law of settings and outcomes.

        Normalised over all ``2^n_visible`` visible states (codes naming no setting included).
        """
        arr = self.machine_arrays(params)
        log_z = logsumexp(free_log(arr, all_states(self.layout.n_visible)))
        return free_log(arr, self.layout.visible) - log_z

    def settings_distribution(self, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """The machine's own p(s_a, s_b) (not uniform; not used by the behaviour or the audit).

        >>> from bellmodels.models.boltzmann import RBM
        >>> RBM.weinstein2017().settings_distribution().round(3).tolist()
        [[0.255, 0.247], [0.251, 0.247]]
        """
        return np.exp(logsumexp(self.log_prob_visible(params), axis=(2, 3)))

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_parameters(
        cls,
        W: Any,
        c: Any,
        d: Any,
        scenario: Scenario | None = None,
        setting_encoding: str = "binary",
    ) -> RBM:
        """An RBM with the given weights; ``n_hidden`` is read from ``W``.

        >>> import numpy as np
        >>> m = RBM.from_parameters(np.zeros((4, 2)), np.zeros(4), np.zeros(2))
        >>> float(m.behaviour()[0, 0, 1, 1])
        0.25
        """
        w = np.asarray(W, dtype=float)
        if w.ndim != 2:
            raise ValueError(f"W must be a 2-D (n_visible, n_hidden) array, got shape {w.shape}")
        return cls(scenario, n_hidden=w.shape[1], setting_encoding=setting_encoding, W=w, c=c, d=d)

    @classmethod
    def weinstein2017(cls, scenario: Scenario | None = None) -> RBM:
        """The published machine (Weinstein 2017, Table II), registered as ``rbm-weinstein2017``.

        Its ``name`` is ``"rbm-weinstein2017"`` so comparison tables say which machine it is.

        >>> RBM.weinstein2017().name
        'rbm-weinstein2017'
        """
        scenario = scenario if scenario is not None else Scenario.chsh()
        if (scenario.n_a, scenario.n_b) != (2, 2):
            raise ValueError(
                "the published RBM is for two settings per party (CHSH); got "
                f"{scenario.n_a} x {scenario.n_b}"
            )
        model = cls(scenario, n_hidden=4, W=WEINSTEIN2017_W, c=WEINSTEIN2017_C, d=WEINSTEIN2017_D)
        model.name = "rbm-weinstein2017"  # type: ignore[misc]
        return model


register("rbm-weinstein2017")(RBM.weinstein2017)


__all__ = ["RBM", "WEINSTEIN2017_C", "WEINSTEIN2017_D", "WEINSTEIN2017_W"]
