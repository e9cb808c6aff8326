"""Which sampler draws a fit's posterior: the NUTS samplers ``fit`` knows, those installed
here, the tempered-SMC alternative, and how ``sampler="auto"`` picks among them."""

from __future__ import annotations

import importlib.util

SAMPLERS: tuple[str, ...] = ("pymc", "nutpie", "numpyro")
"""Samplers ``fit`` knows; only installed ones can be used (:func:`available_samplers`)."""


def available_samplers() -> list[str]:
    """The samplers installed here, in :data:`SAMPLERS` order.

    >>> "pymc" in available_samplers()
    True
    """
    found = ["pymc"]
    if importlib.util.find_spec("nutpie") is not None:
        found.append("nutpie")
    if (
        importlib.util.find_spec("numpyro") is not None
        and importlib.util.find_spec("jax") is not None
    ):
        found.append("numpyro")
    return found


SMC_SAMPLER = "smc"
"""``fit(sampler="smc")``: not NUTS but tempered SMC from the prior with Hamiltonian moves
(:mod:`bellmodels.inference._tempered_smc`): ``chains`` independent runs of ``draws`` particles
each, :data:`SMC_HMC_STEPS` transitions per stage, the last stage's particles resampled and moved
at the posterior; a chain is a run, a draw a particle. It is for posteriors with separated modes,
which NUTS chains started in one mode do not cross (the gate's R-hat then fails): the particles
weigh the modes by their mass, and R-hat between runs checks that the runs agree on those
weights. Its ESS treats the particles' order as a chain's: systematic resampling keeps the
descendants of one ancestor next to each other, so the order-based ESS mostly sees their
correlation (it is not an SMC effective sample size proper)."""

SMC_HMC_STEPS = 64
"""HMC transitions per tempering stage of ``sampler="smc"``: on the one-unit machines at 10^5
trials, whose posteriors have separated modes, 8 transitions left the runs nats apart and 64
brought them within about a nat (``docs/generated/evidence_sizes_one_unit.md``)."""


def choose_sampler(sampler: str = "auto", preference: tuple[str, ...] = SAMPLERS) -> str:
    """Resolve ``sampler``: ``"auto"`` is the first installed one in ``preference`` (a model's
    declared :attr:`~bellmodels.models.base.HiddenVariableModel.samplers`); ``"smc"`` is the
    tempered SMC posterior (always there: it is this package's).

    Raises ``ValueError`` for an unknown or uninstalled sampler.

    >>> choose_sampler("auto") in SAMPLERS, choose_sampler("smc")
    (True, 'smc')
    """
    installed = available_samplers()
    if sampler == "auto":
        return next(s for s in (*preference, "pymc") if s in installed)
    if sampler == SMC_SAMPLER:
        return sampler
    if sampler not in SAMPLERS:
        raise ValueError(
            f"unknown sampler {sampler!r}; choose one of {('auto', *SAMPLERS, SMC_SAMPLER)}"
        )
    if sampler not in installed:
        raise ValueError(
            f"sampler {sampler!r} is not installed (installed: {installed}); "
            f"install it or use sampler='auto'"
        )
    return sampler
