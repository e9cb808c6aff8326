"""``bellmodels test --data FILE|DATASET``: p-values of local realism valid with memory.

Calls :func:`bellmodels.significance.significance` and prints its summary table, or with
``--json`` its :meth:`~bellmodels.significance.Significance.to_dict` (keys ``chsh_game``,
``test_factor``, ``likelihood_ratio``, ``posterior_p_s_gt_2`` ...). Bootstrap progress goes to
stderr.

>>> from bellmodels.cli import build_parser
>>> args = build_parser().parse_args(["test", "--data", "delft2015", "--json"])
>>> args.data, args.bootstrap, args.seed, args.train_fraction, args.bayesian
('delft2015', 200, 0, 0.2, False)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bellmodels.cli import UsageError, print_json


def add_commands(subparsers: Any) -> None:
    """Add the ``test`` sub-command."""
    p = subparsers.add_parser(
        "test",
        help="p-values of local realism valid with memory (CHSH game, test factors, LRT)",
        description=(
            "Test the local-realist hypothesis on a count table: the CHSH-game binomial bound "
            "(Gill 2003; Elkouss & Wehner 2016), test factors chosen on a random training split "
            "(Zhang, Glancy & Knill 2011), and the likelihood ratio of the local polytope "
            "against no-signalling with a parametric bootstrap (Gill 2022). With --bayesian "
            "also the posterior P(S > 2) and the log Bayes factor local : no-signalling."
        ),
        epilog=(
            "examples:\n"
            "  bellmodels test --data delft2015\n"
            "  bellmodels test --data vienna2015 --json --bootstrap 100\n"
            "  bellmodels test --data counts.csv --setting-probs '[[0.3,0.2],[0.3,0.2]]'\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, metavar="FILE|DATASET", help="data file or dataset")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--bootstrap", type=int, default=200, metavar="B", help="LRT bootstrap replicates (200)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of split and bootstrap")
    p.add_argument(
        "--train-fraction",
        type=float,
        default=0.2,
        metavar="F",
        help="training fraction of the test-factor split (0.2)",
    )
    p.add_argument(
        "--setting-probs",
        metavar="JSON",
        help="the design's p(s_a, s_b) as a JSON nested list (default uniform)",
    )
    p.add_argument(
        "--bayesian",
        action="store_true",
        help="also fit the no-signalling model and the evidences (slow)",
    )
    p.add_argument(
        "--scenario-json", metavar="JSON", help="scenario (JSON text or file) for a CSV file"
    )
    p.add_argument("--quiet", action="store_true", help="errors only: no progress on stderr")
    p.set_defaults(func=_test)


def _setting_probs(text: str | None) -> Any:
    if text is None:
        return None
    source = Path(text).read_text(encoding="utf-8") if Path(text).is_file() else text
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--setting-probs: not JSON ({exc})") from None


def _test(args: argparse.Namespace) -> int:
    from bellmodels.cli.audit import resolve_data
    from bellmodels.cli.data import load_scenario
    from bellmodels.significance import significance

    if args.bootstrap < 0:
        raise UsageError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    scenario = load_scenario(args.scenario_json) if args.scenario_json else None
    counts = resolve_data(args.data, scenario)
    result = significance(
        counts,
        _setting_probs(args.setting_probs),
        train_fraction=args.train_fraction,
        bootstrap=args.bootstrap,
        seed=args.seed,
        bayesian=args.bayesian,
        progressbar=not args.quiet,
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print(result)
        for note in result.notes:
            print(f"note: {note}")
    return 0
