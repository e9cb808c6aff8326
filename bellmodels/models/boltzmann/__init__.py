"""Boltzmann-machine hidden-variable models: Weinstein's RBM and the conditional RBM.

:mod:`~bellmodels.models.boltzmann._kernels` (exact computations on the machines' canonical
arrays and the one Gibbs sweep), :mod:`~bellmodels.models.boltzmann.base` (their shared model
class), :mod:`~bellmodels.models.boltzmann.rbm` (:class:`RBM`),
:mod:`~bellmodels.models.boltzmann.crbm` (:class:`CRBM`) and
:mod:`~bellmodels.models.boltzmann.training` (exact maximum likelihood, PCD, CD-k, the MI
penalty).

>>> from bellmodels.models import RBM
>>> RBM.weinstein2017().n_hidden
4
"""

from __future__ import annotations

from bellmodels.models.boltzmann._kernels import (
    MAX_ENUMERATED_HIDDEN,
    Layout,
    MachineArrays,
    all_states,
    free_log,
    hidden_labels,
    log_behaviour,
    log_joint_hidden,
    rbm_from_spin,
    rbm_to_spin,
    response_tables,
    setting_codes,
)
from bellmodels.models.boltzmann.base import (
    PRIOR_SIGMA_BINARY,
    PRIOR_SIGMA_SPIN,
    PRIORS,
    BoltzmannModel,
)
from bellmodels.models.boltzmann.crbm import CRBM
from bellmodels.models.boltzmann.rbm import (
    RBM,
    WEINSTEIN2017_C,
    WEINSTEIN2017_D,
    WEINSTEIN2017_W,
)

__all__ = [
    "CRBM",
    "MAX_ENUMERATED_HIDDEN",
    "PRIORS",
    "PRIOR_SIGMA_BINARY",
    "PRIOR_SIGMA_SPIN",
    "RBM",
    "WEINSTEIN2017_C",
    "WEINSTEIN2017_D",
    "WEINSTEIN2017_W",
    "BoltzmannModel",
    "Layout",
    "MachineArrays",
    "all_states",
    "free_log",
    "hidden_labels",
    "log_behaviour",
    "log_joint_hidden",
    "rbm_from_spin",
    "rbm_to_spin",
    "response_tables",
    "setting_codes",
]
