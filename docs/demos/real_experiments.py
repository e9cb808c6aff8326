"""Demonstration: two real Bell experiments, Delft 2015 and Weihs 1998, through the package.

For each shipped dataset (``bellmodels.datasets``) the script audits the counts: correlators
with standard errors, CHSH S with its standard error (next to the published value), the
CH/Eberhard J, the no-signalling test, and the least measurement dependence any local model needs
to reproduce the observed frequencies (least MI in bits, least Hall M). The fitted model
comparison on the same data is written by ``docs/scripts/real_data_comparison.py`` and shown on
the same page.

Outputs (``--out``): ``demo_real_experiments.md``, ``demo_real_experiments.json``,
``demo_real_experiments.png``. Run: ``python docs/demos/real_experiments.py`` (the data are fixed,
so ``--size`` changes nothing; it is accepted like every demo's).
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

COMMAND = "python docs/demos/real_experiments.py"
DATASETS = ("delft2015", "weihs1998")


def analyse(name: str) -> dict[str, Any]:
    import bellmodels as bm
    from bellmodels.behaviour import Behaviour

    counts = bm.datasets.load(name)
    report = audit_dict(counts)
    b = Behaviour.from_counts(counts)
    corr = b.correlators()
    n = counts.pair_totals()
    published = (counts.provenance or {}).get("published", {})
    return {
        "n_trials": int(counts.total),
        "paper": (counts.provenance or {}).get("paper", ""),
        "labels_a": list(counts.scenario.labels_a),
        "labels_b": list(counts.scenario.labels_b),
        "correlators": corr.tolist(),
        "correlator_se": np.sqrt((1 - corr**2) / n).tolist(),
        "S": report["S"],
        "S_se": report["S_se"],
        "published_S": published.get("S"),
        "published_S_se": published.get("S_se"),
        "ch_J": report["ch_J"],
        "ch_J_se": report["ch_J_se"],
        "no_signalling": report["no_signalling"],
        "no_signalling_p_value": report["no_signalling_p_value"],
        "min_mi_bits": report["min_mi_bits"],
        "min_hall_M": report["min_hall_M"],
        "classification": report["verdict"],  # the sentence (report["classification"]: its class)
    }


def figure(results: dict[str, dict[str, Any]]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / len(results)
    for k, (name, r) in enumerate(results.items()):
        corr = np.asarray(r["correlators"]).ravel()
        se = np.asarray(r["correlator_se"]).ravel()
        pairs = [f"({a}, {b})" for a in r["labels_a"] for b in r["labels_b"]]
        x = np.arange(len(pairs)) + (k - (len(results) - 1) / 2) * width
        ax1.bar(x, corr, width, yerr=se, capsize=3, label=f"{name} (n = {r['n_trials']:,})")
        ax1.set_xticks(np.arange(len(pairs)), pairs)
    for y in (1 / np.sqrt(2), -1 / np.sqrt(2)):
        ax1.axhline(y, color="grey", ls="--", lw=0.8)
    ax1.axhline(0, color="black", lw=0.5)
    ax1.set_ylabel("correlator E (± 1 SE)")
    ax1.set_title("Correlators (dashed: ±1/√2, the singlet at the CHSH angles)", fontsize=9)
    ax1.legend(fontsize=8)
    names = list(results)
    s = [results[n]["S"] for n in names]
    s_se = [results[n]["S_se"] for n in names]
    ax2.errorbar(range(len(names)), s, yerr=s_se, fmt="o", capsize=4, label="S ± 1 SE")
    for y, lab in ((2.0, "local bound 2"), (2 * np.sqrt(2), "Tsirelson 2√2")):
        ax2.axhline(y, color="grey", ls=":", lw=1)
        ax2.text(len(names) - 0.5, y, lab, fontsize=7, va="bottom", ha="right")
    ax2.set_xticks(range(len(names)), names)
    ax2.set_xlim(-0.5, len(names) - 0.5)
    ax2.set_ylabel("CHSH S")
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    results = {name: analyse(name) for name in DATASETS}
    rows = [
        [
            name,
            f"{r['n_trials']:,}",
            f"{fmt(r['S'])} ± {fmt(r['S_se'])}",
            f"{fmt(r['published_S'], 2)} ± {fmt(r['published_S_se'], 2)}",
            f"{fmt(r['ch_J'])} ± {fmt(r['ch_J_se'])}",
            f"{r['no_signalling_p_value']:.2g}",
            r["min_mi_bits"],
            r["min_hall_M"],
        ]
        for name, r in results.items()
    ]
    text = provenance(COMMAND) + md_table(
        [
            "dataset",
            "trials",
            "S ± SE",
            "published S",
            "CH J ± SE",
            "no-signalling p",
            "least MI (bits)",
            "least Hall M",
        ],
        rows,
    )
    text += "\nThe audit's verdict on each dataset:\n\n"
    text += "".join(f"- **{name}**: {r['classification']}\n" for name, r in results.items())
    out = Path(args.out)
    write_atomic(out / "demo_real_experiments.md", text)
    write_json(out / "demo_real_experiments.json", {"size": args.size, **results})
    save_figure(figure(results), out / "demo_real_experiments.png")
    return results


if __name__ == "__main__":
    main()
