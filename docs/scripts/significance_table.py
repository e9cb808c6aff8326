"""Write ``docs/generated/significance.md`` (and ``.json``): published p-values beside ours.

For each shipped dataset the table gives what the paper published and what
:func:`bellmodels.significance` computes: the CHSH-game binomial bound (Gill 2003; Elkouss &
Wehner 2016), the test-factor bound on a seeded 20 % training split (Zhang, Glancy & Knill,
PRA 84, 062118 (2011)), and the likelihood ratio of the local polytope against no-signalling
with its parametric-bootstrap p-value (Gill, arXiv:2209.00702). Every row names the command
that reproduces it (``bellmodels test ...`` with the same seed and bootstrap size). With
``--bayesian`` the posterior P(S > 2) and log BF (local : no-signalling) of the two small
datasets are added (a minute or two each).

Run: ``python docs/scripts/significance_table.py [--bootstrap B] [--bayesian] [--out DIR]``.

Example
-------
>>> rows = table_rows({"vienna2015": None}, {"vienna2015": _published("vienna2015")}, 200)
>>> rows[0][:2]
['vienna2015', 'published (Giustina et al. 2015)']
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docgen import fmt, md_table, parser, provenance, write_json

from bellmodels import datasets
from bellmodels.data import write_atomic
from bellmodels.significance import significance

DATASETS = ("delft2015", "vienna2015", "weihs1998")
COMMAND = "python docs/scripts/significance_table.py"
SEED = 0
AUTHORS = {
    "delft2015": "Hensen et al. 2015",
    "vienna2015": "Giustina et al. 2015",
    "weihs1998": "Weihs et al. 1998",
}


def _published(name: str) -> str:
    pub = datasets.info(name)["published"]
    p = pub.get("p_value_local_realism")
    if p is None:
        return f"S = {pub['S']} ± {pub['S_se']}; no p-value valid with memory published"
    if name == "delft2015":
        return f"196 of 245 trials won, p = {p}"
    return f"J > 0, p = {p}"


def _cmd(name: str, bootstrap: int, bayesian: bool = False) -> str:
    extra = " --bayesian" if bayesian else ""
    return f"`bellmodels test --data {name} --bootstrap {bootstrap} --seed {SEED}{extra} --json`"


def _log10(p: float) -> str:
    return f"p = {p:.3g}" if p >= 1e-4 else f"log10 p = {math.log10(p):.1f}"


def table_rows(
    results: dict[str, dict[str, Any] | None], published: dict[str, str], bootstrap: int
) -> list[list[str]]:
    """Rows (dataset, test, result, command) of the table; ``None`` results give the published
    row only."""
    rows: list[list[str]] = []
    for name, r in results.items():
        rows.append(
            [name, f"published ({AUTHORS[name]})", published[name], "the paper (provenance)"]
        )
        if r is None:
            continue
        cmd = _cmd(name, bootstrap)
        g, t, lr = r["chsh_game"], r["test_factor"], r["likelihood_ratio"]
        rows.append(
            [
                name,
                "CHSH game (uniform settings)",
                f"{g['wins']:,} wins of {g['n']:,}, {_log10(g['p_value'])}",
                cmd,
            ]
        )
        rows.append(
            [
                name,
                "test factors (20 % training split)",
                f"log10 p ≤ {t['log10_p']:.1f} on {t['n_test']:,} test trials",
                cmd,
            ]
        )
        lr_p = "n/a" if lr["p_value"] is None else f"{lr['p_value']:.3g}"
        rows.append(
            [
                name,
                "likelihood ratio, local vs no-signalling",
                f"G = {lr['statistic']:.4g}; bootstrap p = {lr_p} ({lr['bootstrap']} replicates);"
                f" ½χ²₁ tail {_log10(lr['asymptotic_p_value'])}",
                cmd,
            ]
        )
        if r.get("posterior_p_s_gt_2") is not None:
            rows.append(
                [
                    name,
                    "Bayesian: posterior P(S > 2) (no-signalling fit); log BF (local : NS)",
                    f"{fmt(r['posterior_p_s_gt_2'])}; {fmt(r['log_bayes_factor_local_vs_ns'], 2)}"
                    f" ± {fmt(r['log_bayes_factor_se'], 2)}",
                    _cmd(name, bootstrap, bayesian=True),
                ]
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0], sizes=False)
    p.add_argument("--bootstrap", type=int, default=1000, help="LRT bootstrap replicates")
    p.add_argument("--bayesian", action="store_true", help="add the Bayesian rows (slow)")
    p.add_argument(
        "--from-json",
        type=Path,
        metavar="FILE",
        help="re-render the table from a significance.json this script wrote (no computing)",
    )
    args = p.parse_args(argv)
    results: dict[str, dict[str, Any] | None] = {}
    seconds: dict[str, float] = {}
    if args.from_json is not None:
        saved = json.loads(args.from_json.read_text(encoding="utf-8"))
        results, seconds, args.bootstrap = saved["results"], saved["seconds"], saved["bootstrap"]
        args.bayesian = any(r and r.get("posterior_p_s_gt_2") is not None for r in results.values())
    for name in DATASETS if args.from_json is None else ():
        start = time.perf_counter()
        bayes = args.bayesian and name != "vienna2015"
        results[name] = significance(
            datasets.load(name),
            bootstrap=args.bootstrap,
            seed=SEED,
            bayesian=bayes,
            progressbar=True,
        ).to_dict()
        seconds[name] = round(time.perf_counter() - start, 1)
        print(f"{name}: {seconds[name]} s", file=sys.stderr)
    published = {name: _published(name) for name in DATASETS}
    rows = table_rows(results, published, args.bootstrap)
    text = provenance(COMMAND + (" --bayesian" if args.bayesian else ""))
    text += md_table(["dataset", "test", "result", "command"], rows)
    text += (
        "\nAll p-values are of the local-realist hypothesis (local, measurement-independent "
        "models, settings drawn uniformly and independently of the past). The CHSH game and "
        "the test-factor product are valid with memory; the random training split of a count "
        "table assumes exchangeable trials (see `bellmodels.significance.test_factor_test`); "
        "the likelihood ratio assumes i.i.d. trials and its bootstrap p-value is never below "
        "1 / (B + 1). Weihs et al. counted coincidences "
        "only, so its rows assume fair sampling.\n"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "significance.md", text)
    write_json(
        args.out / "significance.json",
        {"bootstrap": args.bootstrap, "seed": SEED, "seconds": seconds, "results": results},
    )
    print(f"wrote {args.out / 'significance.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
