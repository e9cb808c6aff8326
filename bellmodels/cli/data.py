"""``bellmodels simulate`` and ``bellmodels datasets list|show``.

>>> from bellmodels.cli import build_parser
>>> args = build_parser().parse_args(["simulate", "--n-trials", "1000", "--seed", "3", "--out", "c.nc"])
>>> args.n_trials, args.seed, args.visibility, args.form
(1000, 3, 1.0, 'counts')
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from pathlib import Path
from typing import Any

from bellmodels.cli import UsageError, print_json

log = logging.getLogger(__name__)


def add_commands(subparsers: Any) -> None:
    """Add the ``simulate`` and ``datasets`` sub-commands."""
    p = subparsers.add_parser(
        "simulate",
        help="draw singlet trials and write them as CSV or NetCDF",
        description=(
            "Draw N trials with the exact statistics of the spin singlet (E = -V cos(a - b), "
            "unbiased marginals) at the CHSH angles (or a scenario given as JSON) and write "
            "them as a count table (CSV or NetCDF) or as per-trial CSV rows. Without --out the "
            "count table is printed as CSV on stdout. A count table says it is complete (every "
            "trial kept): '# kind: complete' before the CSV header, attribute kind in NetCDF. "
            "All N trials are held in memory "
            "(about 20 bytes per trial while drawing)."
        ),
        epilog=(
            "examples:\n"
            "  bellmodels simulate --n-trials 100000 --seed 1 --out singlet.csv\n"
            "  bellmodels simulate --n-trials 100000 --seed 1 --visibility 0.7 --out noisy.nc\n"
            "  bellmodels simulate --n-trials 1000 --seed 2 --form trials --out rows.csv\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--n-trials",
        type=trial_count,
        required=True,
        metavar="N",
        help="number of trials (1e6 is fine)",
    )
    p.add_argument("--seed", type=int, required=True, metavar="S", help="random seed")
    p.add_argument(
        "--visibility", type=float, default=1.0, metavar="V", help="visibility in [0, 1] (1)"
    )
    p.add_argument("--out", metavar="FILE", help="output file: .csv or .nc (default: stdout)")
    p.add_argument(
        "--form",
        choices=("counts", "trials"),
        default="counts",
        help="count table (default) or one row per trial (CSV only)",
    )
    p.add_argument(
        "--scenario-json",
        metavar="JSON",
        help="scenario as JSON text or a JSON file (Scenario.to_json fields); default CHSH",
    )
    p.set_defaults(func=_simulate)

    d = subparsers.add_parser(
        "datasets",
        help="list the shipped real datasets or show one's provenance",
        description="The real Bell-test datasets shipped with bellmodels.",
        epilog="examples:\n  bellmodels datasets list\n  bellmodels datasets show delft2015\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dsub = d.add_subparsers(dest="datasets_command", metavar="ACTION")
    lst = dsub.add_parser("list", help="names, papers and sizes")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=_datasets_list)
    show = dsub.add_parser("show", help="provenance and counts of one dataset")
    show.add_argument("name", help="dataset name (see `bellmodels datasets list`)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=_datasets_show)
    d.set_defaults(func=_datasets_help, datasets_parser=d)


def trial_count(text: str) -> int:
    """Parse a trial count: ``100000``, ``100_000`` or ``1e5`` (a whole, non-negative number).

    >>> trial_count("1e6"), trial_count("10_000")
    (1000000, 10000)
    """
    from bellmodels.data import MAX_COUNT

    plain = text.strip().replace("_", "")
    try:
        value = int(plain) if plain.lstrip("+-").isdigit() else float(plain)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value >= 0 and float(value).is_integer()):
        raise argparse.ArgumentTypeError(f"must be a whole non-negative number, got {text!r}")
    if value > MAX_COUNT:
        raise argparse.ArgumentTypeError(
            f"{text!r} exceeds MAX_COUNT = 2**53 = {MAX_COUNT}, the bound on every count"
        )
    return int(value)


def load_scenario(text: str | None) -> Any:
    """A :class:`~bellmodels.Scenario` from JSON text or a JSON file; ``None`` -> CHSH.

    >>> load_scenario('{"angles_a": [0, 1], "angles_b": [0.5, 1.5]}').n_a
    2
    """
    import json

    from bellmodels.scenario import Scenario

    if text is None:
        return Scenario.chsh()
    source = "--scenario-json"
    if not text.lstrip().startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise FileNotFoundError(f"--scenario-json: no such file: {text}")
        source, text = str(path), path.read_text(encoding="utf-8")
    try:
        return Scenario.from_json(json.loads(text))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{source}: not a scenario ({type(exc).__name__}: {exc})") from None


def _simulate(args: argparse.Namespace) -> int:
    from bellmodels.data import Counts, write_counts
    from bellmodels.simulate import simulate_singlet

    if args.out is None and args.form == "trials":
        raise UsageError("--form trials needs --out FILE.csv")
    scenario = load_scenario(args.scenario_json)
    try:
        trials = simulate_singlet(
            scenario, args.n_trials, seed=args.seed, visibility=args.visibility
        )
    except MemoryError:
        raise UsageError(
            f"--n-trials {args.n_trials}: the trials do not fit in memory (about 20 bytes per trial, "
            f"{20 * args.n_trials / 1e9:.3g} GB while drawing); draw fewer"
        ) from None
    provenance = {
        "source": "bellmodels simulate",
        "experiment": f"simulated singlet ({args.n_trials} trials, V = {args.visibility:g}, seed {args.seed})",
        "model": "quantum singlet (exact sampler)",
        "n_trials": args.n_trials,
        "seed": args.seed,
        "visibility": args.visibility,
    }
    # every simulated trial is in the table: a complete one (Counts.kind; '# kind:' in CSV)
    counts = Counts(trials.counts().values, scenario, provenance=provenance, kind="complete")
    if args.out is None:
        from bellmodels.data.format import COUNT_COLUMNS, kind_comment
        from bellmodels.scenario import OUTCOMES

        sys.stdout.write(kind_comment(counts.kind) + ",".join(COUNT_COLUMNS) + "\n")
        for (sa, sb, xa, xb), n in zip(_cells(scenario), counts.values.ravel(), strict=True):
            sys.stdout.write(f"{sa},{sb},{OUTCOMES[xa]:+d},{OUTCOMES[xb]:+d},{int(n)}\n")
        return 0
    path = write_counts(trials if args.form == "trials" else counts, args.out, form=args.form)
    log.info(
        "wrote %d singlet trials (V = %g, seed %s) as %s to %s",
        args.n_trials,
        args.visibility,
        args.seed,
        "per-trial rows" if args.form == "trials" else "a count table",
        path,
    )
    return 0


def _cells(scenario: Any) -> list[tuple[int, int, int, int]]:
    return [
        (sa, sb, xa, xb)
        for sa in range(scenario.n_a)
        for sb in range(scenario.n_b)
        for xa in range(2)
        for xb in range(2)
    ]


def _datasets_help(args: argparse.Namespace) -> int:
    args.datasets_parser.print_help()
    return 2


def _datasets_list(args: argparse.Namespace) -> int:
    from bellmodels import datasets

    rows = []
    for name in datasets.names():
        rec = datasets.info(name)
        pub = rec.get("published", {})
        rows.append(
            {
                "name": name,
                "experiment": rec["experiment"],
                "paper": rec["paper"],
                "doi": rec["doi"],
                "n": pub.get("n"),
                "S": pub.get("S"),
                "S_se": pub.get("S_se"),
            }
        )
    if args.json:
        print_json(rows)
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        if r["S"] is not None:
            summary = f"S = {r['S']:.2f} ± {r['S_se']:.2f}"
        else:  # a CH/Eberhard table (vienna2015) publishes J and a p-value, not S
            pub = datasets.info(r["name"])["published"]
            summary = f"J {pub.get('J_sign', '?')}, p = {pub.get('p_value_local_realism')}"
        print(f"{r['name'].ljust(width)}  n = {r['n']:>6}  {summary}  doi:{r['doi']}")
        print(f"{''.ljust(width)}  {r['paper']}")
    return 0


def _datasets_show(args: argparse.Namespace) -> int:
    from bellmodels import datasets

    record = datasets.info(args.name)
    counts = datasets.load(args.name)
    record["counts"] = counts.values.tolist()
    record["counts_dims"] = list(counts.array.dims)
    if args.json:
        print_json(record)
        return 0
    wrap = textwrap.TextWrapper(width=100, subsequent_indent=" " * 22)
    for key, value in record.items():
        if key in ("counts", "counts_dims", "scenario"):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k} = {v}" for k, v in value.items())
        print(wrap.fill(f"{key.ljust(20)}  {value}"))
    print("counts (++, +-, -+, --) per setting pair:")
    sc = counts.scenario
    for i, la in enumerate(sc.labels_a):
        for j, lb in enumerate(sc.labels_b):
            v = counts.values[i, j]
            print(f"  ({la}, {lb}): {v[1, 1]}, {v[1, 0]}, {v[0, 1]}, {v[0, 0]}")
    return 0
