"""Gallery thumbnails of the demonstrations that draw no figure of their own.

The gallery (``docs/demos/index.md``) shows each demonstration's figure. ``equivalence.py`` and
``fair_sampling.py`` write tables only, so this script draws a small figure from the numbers they
wrote (``demo_equivalence.json``, ``demo_fair_sampling.json`` in ``--in``), fitting nothing:

- ``thumb_equivalence.png``: each model's elpd_loo difference to the best, with 2 dse, coloured by
  its audit class: the models that tie sit on zero in different colours;
- ``thumb_fair_sampling.png``: per data set, each model's log Bayes factor against the best one,
  with its Monte Carlo error, coloured by family.

Run: ``python docs/scripts/thumbnails.py [--in docs/generated] [--out docs/generated]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docgen import GENERATED, parser, save_figure

COLOURS = ("C0", "C1", "C2", "C3", "C4", "C5", "C6")


def _axes(title: str) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 3.2))
    ax.set_title(title, fontsize=10)
    ax.axvline(0, color="0.3", lw=0.8)
    return fig, ax


def equivalence_figure(results: dict[str, Any]) -> Any:
    """elpd_loo difference to the best model (nats, 2 dse bars), one colour per audit class."""
    models = results["models"]
    order = [m for m in results["order"] if m in models]
    classes = sorted({models[m]["classification"] for m in order})
    colour = dict(zip(classes, COLOURS, strict=False))
    fig, ax = _axes("Tied on LOO, told apart by the audit")
    for y, name in enumerate(reversed(order)):
        row = models[name]
        ax.errorbar(
            -row["elpd_diff"],
            y,
            xerr=2 * row["dse"],
            fmt="o",
            color=colour[row["classification"]],
            label=row["classification"],
        )
    ax.set_yticks(range(len(order)), list(reversed(order)), fontsize=8)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("elpd_loo - best (nats, 2 dse)", fontsize=8)
    return _legend_below(fig, ax)


def _legend_below(fig: Any, ax: Any) -> Any:
    """One legend entry per label, below the axes (a thumbnail has no room beside them)."""
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(
        unique.values(),
        unique.keys(),
        fontsize=6,
        loc="upper center",
        bbox_to_anchor=(0.4, -0.22),
        ncol=2,
    )
    fig.tight_layout()
    return fig


def fair_sampling_figure(results: dict[str, Any]) -> Any:
    """log Bayes factor of each model against the data set's best (nats), per data set."""
    datasets = sorted(k for k, v in results.items() if isinstance(v, dict) and "models" in v)
    fig, ax = _axes("log Bayes factor against the best model")
    labels, y = [], 0
    families: dict[str, str] = {}
    for name in datasets:
        entry = results[name]
        for model, row in entry["models"].items():
            value, se = entry["log_bayes_factors_vs_best"].get(model, (0.0, 0.0))
            family = row["family"]
            families.setdefault(family, COLOURS[len(families) % len(COLOURS)])
            ax.errorbar(-value, y, xerr=se, fmt="o", color=families[family], label=family)
            labels.append(f"{name}: {model}")
            y += 1
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("log evidence - best (nats)", fontsize=8)
    return _legend_below(fig, ax)


def main(argv: list[str] | None = None) -> list[Path]:
    p = parser(__doc__.splitlines()[0], sizes=False)
    p.add_argument("--in", dest="src", type=Path, default=GENERATED, help="the demos' JSON")
    args = p.parse_args(argv)
    written = []
    for stem, draw in (
        ("equivalence", equivalence_figure),
        ("fair_sampling", fair_sampling_figure),
    ):
        source = args.src / f"demo_{stem}.json"
        if not source.exists():
            raise SystemExit(f"{source}: missing; run python docs/demos/{stem}.py first")
        try:
            results = json.loads(source.read_text(encoding="utf-8"))
            fig = draw(results)
        except (KeyError, TypeError, ValueError) as exc:
            raise SystemExit(f"{source}: cannot draw the thumbnail ({exc!r})") from exc
        written.append(save_figure(fig, Path(args.out) / f"thumb_{stem}.png", dpi=90))
    return written


if __name__ == "__main__":
    main()
