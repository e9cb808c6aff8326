"""Compute the numbers quoted on the Concepts page.

Writes into ``--out`` (default ``docs/generated``):

- ``numbers.json``: named numbers used inline through MyST substitutions (``{{ tsirelson }}``);
- ``concepts_locality.md``: parameter/outcome independence, no-signalling and classification of
  the models, from their ontic tables;
- ``concepts_measurement_dependence.md``: MI, Hall's M (M_A, M_B), S and the least MI any local
  model needs, for every model;
- ``concepts_equivalence.md``: log-likelihoods of empirically equivalent models on the same
  simulated data;
- ``concepts_rbm_ridge.md``: two RBMs with the same behaviour on the main job's data (the exact
  maximum-likelihood fit and the posterior mode) and their different measurement dependence.

Run: ``python docs/scripts/concepts_numbers.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docgen import audit_dict, fmt, md_table, parser, provenance, write_atomic, write_json

COMMAND = "python docs/scripts/concepts_numbers.py"
ORDER = (
    "local-polytope",
    "bell1964",
    "quantum-singlet",
    "toner-bacon",
    "no-signalling",
    "brans",
    "hall2010",
    "dlr-one-sided",
    "rbm-weinstein2017",
)
EQUIVALENT = ("quantum-singlet", "toner-bacon", "brans", "hall2010", "dlr-one-sided")
N_TRIALS = 20_000


def log_likelihood(behaviour: np.ndarray, counts: np.ndarray) -> float:
    """sum_cells n * log p(x_a, x_b | s_a, s_b): the likelihood conditional on the settings."""
    p = np.asarray(behaviour, dtype=float)
    n = np.asarray(counts, dtype=float)
    live = n > 0
    return float(np.sum(n[live] * np.log(p[live])))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parser(__doc__.splitlines()[0], sizes=False).parse_args(argv)
    import bellmodels as bm
    from bellmodels.auditing import min_hall_M
    from bellmodels.behaviour import Behaviour

    out = Path(args.out)
    registered = set(bm.models.names())
    names = [n for n in ORDER if n in registered]
    models = {n: bm.models.get(n) for n in names}
    audits = {n: audit_dict(m) for n, m in models.items()}

    scn = bm.Scenario.chsh()
    singlet = bm.models.get("quantum-singlet")
    singlet_audit = audits.get("quantum-singlet") or audit_dict(singlet)
    tsirelson = Behaviour.TSIRELSON
    hall_m_needed = (tsirelson - 2) / 3
    numbers: dict[str, str] = {
        "tsirelson": fmt(tsirelson, 4),
        "singlet_S": fmt(singlet_audit["S"], 4),
        "hall_M_tsirelson": fmt(hall_m_needed, 4),
        "hall_M_tsirelson_percent": fmt(100 * hall_m_needed / 2, 1),
        "singlet_min_hall_M": fmt(min_hall_M(singlet.behaviour(), scn), 4),
        "singlet_min_mi_bits": fmt(singlet_audit["min_mi_bits"], 4),
        "n_trials_equivalence": f"{N_TRIALS:,}",
    }

    rows = [
        [
            n,
            models[n].family,
            a["S"],
            a["parameter_independence_violation"],
            a["outcome_independence_violation"],
            a["no_signalling"],
            a["classification"],
        ]
        for n, a in audits.items()
    ]
    write_atomic(
        out / "concepts_locality.md",
        provenance(COMMAND)
        + md_table(
            [
                "model",
                "family (claimed)",
                "S",
                "PI violation",
                "OI violation",
                "signalling",
                "audit classification",
            ],
            rows,
        )
        + "\nViolations are the largest over lambda and settings (0 = the condition holds); "
        '"signalling" is the largest change of a marginal with the distant setting. Default '
        "(ideal) parameters, CHSH scenario, uniform settings; the defaults of local-polytope and "
        "no-signalling are uniform mixtures, hence their S = 0 here.\n",
    )

    rows = [
        [
            n,
            a["S"],
            a["mi_bits"],
            a["hall_M"],
            a["hall_M_a"],
            a["hall_M_b"],
            a["hall_bound"],
            a["min_mi_bits"],
        ]
        for n, a in audits.items()
    ]
    write_atomic(
        out / "concepts_measurement_dependence.md",
        provenance(COMMAND)
        + md_table(
            [
                "model",
                "S",
                "MI (bits)",
                "Hall M",
                "M_A",
                "M_B",
                "min(4, 2 + 3M)",
                "least MI (bits)",
            ],
            rows,
        )
        + "\nHall's bound min(4, 2 + 3M) limits *local* models only: the nonlocal ones "
        "(quantum-singlet, toner-bacon) exceed it with M = 0 because they break parameter or "
        "outcome independence instead. "
        '"least MI" is the least mutual information any local model needs to reproduce the '
        "model's behaviour (a convex programme; for the nonlocal models it says what a local "
        f"imitation would need). The least Hall M any local model needs for the singlet is "
        f"{numbers['singlet_min_hall_M']} (the package's `min_hall_M`).\n",
    )

    counts = bm.simulate_singlet(scn, n_trials=N_TRIALS, seed=0).counts()
    c = np.asarray(counts.values)
    lls = {n: log_likelihood(models[n].behaviour(), c) for n in EQUIVALENT if n in models}
    ref = lls.get("quantum-singlet", next(iter(lls.values()), 0.0))
    rows = [
        [n, f"{ll:.6f}", fmt(ll - ref, 3), audits[n]["classification"], audits[n]["mi_bits"]]
        for n, ll in lls.items()
    ]
    diffs = [abs(v - ref) for v in lls.values()]
    worst = max(diffs, default=0.0)
    numbers["equivalent_loglik_max_diff"] = f"{worst:.1e}" if worst > 0 else "0"
    write_atomic(
        out / "concepts_equivalence.md",
        provenance(COMMAND)
        + md_table(
            ["model", "log-likelihood (nats)", "difference", "audit classification", "MI (bits)"],
            rows,
        )
        + f"\n{N_TRIALS:,} simulated singlet trials (seed 0) at the CHSH angles; each model at its "
        "default (ideal) parameters; log-likelihood conditional on the settings.\n",
    )
    numbers.update(rbm_ridge(out, counts))
    write_json(out / "numbers.json", numbers)
    return numbers


def rbm_ridge(out: Path, counts: Any) -> dict[str, str]:
    """The data fix an RBM's behaviour, not its weights, and not its measurement dependence.

    The exact ML fit, the posterior mode under the RBM's prior (``pm.find_MAP`` from the ML fit,
    as :func:`bellmodels.inference.fit` starts its chains) and the published machine: KL to the
    data, MI and Hall's M, and the largest weight.
    """
    import warnings

    import pymc as pm

    import bellmodels as bm
    from bellmodels.inference import build_model

    rbm = bm.models.get("rbm")
    ml = bm.models.get("rbm").train(counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = pm.find_MAP(
            start=rbm.free_values(ml.params()), model=build_model(rbm, counts), progressbar=False
        )
    mode = bm.models.get("rbm", **{k: np.asarray(found[k], float) for k in rbm.parameters})
    machines = {
        "exact maximum likelihood": ml,
        "posterior mode (the +-1-coded prior)": mode,
        "published (Weinstein 2017, Table II)": bm.models.get("rbm-weinstein2017"),
    }
    rows, vals = [], {}
    for label, m in machines.items():
        a = audit_dict(m)
        kl = m.kl(counts, objective="conditional")
        w = float(np.abs(m.params()["W"]).max())
        vals[label] = (kl, a["mi_bits"])
        rows.append(
            [label, f"{kl:.1e}", fmt(a["S"]), fmt(a["mi_bits"]), fmt(a["hall_M"]), fmt(w, 1)]
        )
    write_atomic(
        out / "concepts_rbm_ridge.md",
        provenance(COMMAND)
        + md_table(
            ["machine", "KL(data ‖ model), nats", "S", "MI (bits)", "Hall's M", "max |W|"], rows
        )
        + f"\n{counts.total:,} simulated singlet trials (seed 0); KL of the "
        "conditional behaviour p(x | s), averaged over the data's settings.\n",
    )
    (kl_ml, mi_ml), (kl_map, mi_map) = list(vals.values())[:2]
    return {
        "rbm_ridge_ml_mi": fmt(mi_ml, 3),
        "rbm_ridge_map_mi": fmt(mi_map, 3),
        "rbm_ridge_kl_max": f"{max(kl_ml, kl_map):.0e}",
    }


if __name__ == "__main__":
    main()
