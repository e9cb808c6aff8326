"""Demonstration: how much freedom must a local model give up to reach a given CHSH value?

For the family of behaviours with correlators E(a,b) = E(a,b') = E(a',b) = -c and E(a',b') = +c
(unbiased marginals; c = V/sqrt(2) is the singlet at visibility V, c = 1 the PR box), S = 4c.
For each S the script computes, with the package's audit:

- the least mutual information MI(lambda; settings) any local model needs to reproduce the
  behaviour (``bellmodels.auditing.min_mi_bits``, a convex programme over the local deterministic
  strategies; Hall, PRA 84, 022102 (2011); Barrett & Gisin, PRL 106, 100406 (2011));
- the least Hall M any local model needs (``bellmodels.auditing.min_hall_M``), against Hall's bound
  |S| <= 2 + 3M (Hall, PRL 105, 250404 (2010)), i.e. M >= (S - 2) / 3.

On the same axes: the RBM's frontier (machines trained with the penalty KL + beta * MI on
simulated singlet data, ``bellmodels.experiments.mi_frontier``), Weinstein's published machine,
and every registered measurement-dependent model at its default parameters.

Outputs (``--out``): ``demo_mi_frontier.md``, ``demo_mi_frontier.json``, ``demo_mi_frontier.png``.
Run: ``python docs/demos/mi_frontier.py --size full`` (``--size small`` for the tests).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from docgen import (
    audit_dict,
    fmt,
    md_table,
    parser,
    provenance,
    save_figure,
    write_atomic,
    write_json,
)

COMMAND = "python docs/demos/mi_frontier.py --size {size}"
SIZES: dict[str, dict[str, Any]] = {
    "small": {"grid": 9, "n_trials": 10_000, "betas": [0.0, 0.3], "restarts": 1},
    "full": {
        "grid": 41,
        "n_trials": 100_000,
        "betas": [0.0, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0],
        "restarts": 4,
    },
}
MD_FAMILIES = ("retrocausal", "measurement-dependent")


def isotropic_behaviour(c: float) -> np.ndarray:
    """p(x_a, x_b | s) = (1 + x_a x_b E_s) / 4 with E = -c, -c, -c, +c; S = 4c."""
    signs = np.array([[-1.0, -1.0], [-1.0, 1.0]])
    x = np.array([-1.0, 1.0])
    prod = x[:, None] * x[None, :]
    return (1 + c * signs[:, :, None, None] * prod[None, None]) / 4


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    import bellmodels as bm
    from bellmodels.auditing import min_hall_M, min_mi_bits
    from bellmodels.experiments import mi_frontier

    size = SIZES[args.size]
    scn = bm.Scenario.chsh()
    cs = np.union1d(np.linspace(0.0, 1.0, size["grid"]), [1 / np.sqrt(2)])  # + the singlet
    curve: dict[str, list[float]] = {
        "S": [],
        "min_mi_bits": [],
        "min_hall_M": [],
        "hall_M_bound": [],
    }
    for c in cs:
        b = isotropic_behaviour(float(c))
        curve["S"].append(4 * float(c))
        curve["min_mi_bits"].append(float(min_mi_bits(b, scn)))
        curve["min_hall_M"].append(float(min_hall_M(b, scn)))
        curve["hall_M_bound"].append(max(0.0, (4 * float(c) - 2) / 3))

    counts = bm.simulate_singlet(scn, n_trials=size["n_trials"], seed=0).counts()
    ds = mi_frontier(
        counts,
        size["betas"],
        n_hidden=4,
        seed=0,
        n_restarts=size["restarts"],
        objective="conditional",  # the fit of the behaviour p(x | s), as the likelihood sees it
    )
    frontier = {
        "beta": [float(x) for x in ds["beta"].values],
        "S": [float(x) for x in ds["S"].values],
        "mi_bits": [float(x) for x in ds["mi_bits"].values],
        "hall_M": [float(x) for x in ds["hall_M"].values],
        "kl": [float(x) for x in ds["kl"].values],
        "data_min_mi_bits": float(ds.attrs["min_mi_bits"]),
    }

    models: dict[str, dict[str, float]] = {}
    for name in bm.models.names():
        m = bm.models.get(name)
        if m.family not in MD_FAMILIES:
            continue
        a = audit_dict(m)
        same = [
            k
            for k, v in models.items()
            if abs(v["S"] - a["S"]) + abs(v["mi_bits"] - a["mi_bits"]) < 1e-9
        ]
        if same:  # e.g. "rbm" and "crbm" default to the published machine: one point, both names
            models[f"{same[0]} = {name}"] = models.pop(same[0])
            continue
        models[name] = {
            "S": a["S"],
            "mi_bits": a["mi_bits"],
            "hall_M": a["hall_M"],
            "min_mi_bits": a["min_mi_bits"],
        }

    results = {"size": args.size, "curve": curve, "rbm_frontier": frontier, "models": models}
    out = Path(args.out)
    write_json(out / "demo_mi_frontier.json", results)
    save_figure(figure(results), out / "demo_mi_frontier.png")

    tsirelson_i = int(np.argmin(np.abs(np.asarray(curve["S"]) - 2 * np.sqrt(2))))
    text = provenance(COMMAND.format(size=args.size))
    text += "**The least measurement dependence any local model needs**, at some values of S:\n\n"
    picks = sorted(
        {0, len(cs) // 2, tsirelson_i, len(cs) - 1}
        | {i for i, s in enumerate(curve["S"]) if abs(s - 2.4) < 2 / len(cs)}
    )
    text += md_table(
        ["S", "least MI (bits)", "least Hall M", "Hall's bound (S - 2) / 3"],
        [
            [
                curve["S"][i],
                curve["min_mi_bits"][i],
                curve["min_hall_M"][i],
                curve["hall_M_bound"][i],
            ]
            for i in picks
        ],
    )
    text += (
        f"\n**The RBM's frontier** (4 hidden units, {size['n_trials']:,} simulated singlet "
        f"trials, seed 0; loss = KL + beta * MI, KL of the behaviour: sum_s q(s) KL(q(x | s) || "
        "p(x | s))). The least MI any local model needs for these "
        f"data is {fmt(frontier['data_min_mi_bits'])} bits.\n\n"
    )
    text += md_table(
        ["beta", "KL (nats)", "S", "MI (bits)", "Hall M"],
        [
            [fmt(b, 3), k, s, mi, m]
            for b, k, s, mi, m in zip(
                frontier["beta"],
                frontier["kl"],
                frontier["S"],
                frontier["mi_bits"],
                frontier["hall_M"],
                strict=True,
            )
        ],
        digits=4,
    )
    text += "\n**Measurement-dependent models** at their default parameters:\n\n"
    text += md_table(
        ["model", "S", "MI (bits)", "least MI for its behaviour", "Hall M", "min(4, 2 + 3M)"],
        [
            [n, p["S"], p["mi_bits"], p["min_mi_bits"], p["hall_M"], min(4.0, 2 + 3 * p["hall_M"])]
            for n, p in models.items()
        ],
    )
    write_atomic(out / "demo_mi_frontier.md", text)
    return results


def figure(results: dict[str, Any]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve, fr, models = results["curve"], results["rbm_frontier"], results["models"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.plot(curve["S"], curve["min_mi_bits"], "k-", label="least MI any local model needs")
    ax1.plot(fr["S"], fr["mi_bits"], "o--", color="tab:blue", label="RBM frontier (beta sweep)")
    ax2.plot(curve["S"], curve["hall_M_bound"], "k-", label="Hall: M >= (S - 2)/3")
    ax2.plot(curve["S"], curve["min_hall_M"], "k:", lw=2, label="least M (package)")
    ax2.plot(fr["S"], fr["hall_M"], "o--", color="tab:blue", label="RBM frontier")
    markers = iter("s^vDPX*hp")
    for name, p in models.items():
        mk = next(markers, "o")
        ax1.plot(p["S"], p["mi_bits"], mk, ms=8, label=name)
        ax2.plot(p["S"], p["hall_M"], mk, ms=8, label=name)
    for ax in (ax1, ax2):
        for x, lab in ((2.0, "2"), (2 * np.sqrt(2), "2√2"), (4.0, "4")):
            ax.axvline(x, color="grey", lw=0.8, ls=":")
            ax.text(x, 1.0, lab, transform=ax.get_xaxis_transform(), ha="center", va="bottom")
        ax.set_xlabel("CHSH S")
        ax.set_xlim(0, 4.05)
    ax1.set_ylabel("MI(lambda; settings) (bits; log scale above 0.01)")
    ax2.set_ylabel("Hall's M")
    ax1.set_yscale("symlog", linthresh=0.01)
    ax1.set_ylim(bottom=0)
    ax1.legend(fontsize=7, loc="upper left")
    ax2.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
