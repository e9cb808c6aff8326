"""``bellmodels compare --data FILE|DATASET --models a,b,c``: fit and compare models.

Prints the comparison table (Markdown, or JSON rows with ``--json``); ``--out DIR`` saves one
NetCDF per fit and ``comparison.json`` there (:meth:`~bellmodels.comparison.Comparison.save`;
files already there are refused before any fit, unless ``--overwrite``). Exit code 1 when any fit fails the diagnostics
gate (the table still prints, with ``diagnostics_ok`` false for that model), except with
``--quick``: the quick exploratory setting (:data:`~bellmodels.comparison.QUICK_SETTING`) labels
a failing fit and still weights it, and the output says it is that setting.

>>> from bellmodels.cli import build_parser
>>> args = build_parser().parse_args(
...     ["compare", "--data", "delft2015", "--models", "local-polytope,quantum-singlet"])
>>> args.models, args.quick, args.draws    # None: the setting's (1000, or 300 with --quick)
('local-polytope,quantum-singlet', False, None)
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

from bellmodels._evidence_methods import DEFAULT_EVIDENCE_METHOD, EVIDENCE_METHODS
from bellmodels.cli import UsageError, print_json

log = logging.getLogger(__name__)


def add_commands(subparsers: Any) -> None:
    """Add the ``compare`` sub-command."""
    p = subparsers.add_parser(
        "compare",
        help="fit models to data and compare them (LOO, stacking, evidence, audit, gate)",
        description=(
            "Fit every model with PyMC, compare by exact per-trial PSIS-LOO (ArviZ stacking "
            "weights), the log evidence (tempered SMC by default), and the audit's MI / Hall M / classification. Fits that "
            "fail the convergence gate are listed last with diagnostics_ok = false."
        ),
        epilog=(
            "examples:\n"
            "  bellmodels compare --data delft2015 --models local-polytope,quantum-singlet\n"
            "  bellmodels compare --quick --data delft2015 --models quantum-singlet,bell1964\n"
            "  bellmodels compare --data counts.csv --models quantum-singlet,rbm --json --out fits\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, metavar="FILE|DATASET", help="data file or dataset")
    p.add_argument(
        "--models", required=True, metavar="A,B,C", help="comma-separated registered model names"
    )
    p.add_argument("--json", action="store_true", help="print the table as JSON rows")
    p.add_argument("--out", metavar="DIR", help="write one NetCDF per fit (and comparison.json)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace the files --out DIR already holds"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="quick exploratory setting, not for results: 2 chains x 300 draws, evidence 4 runs "
        "x 250 particles; a fit failing the gate is labelled, still weighted, and exits 0",
    )
    p.add_argument("--draws", type=int, help="NUTS draws per chain (1000; --quick 300)")
    p.add_argument("--tune", type=int, help="NUTS tuning steps per chain (1000; --quick 300)")
    p.add_argument("--chains", type=int, help="chains (4; --quick 2)")
    p.add_argument("--seed", type=int, default=None, help="master seed (default: random)")
    p.add_argument("--sampler", default="auto", help="auto | pymc | nutpie | numpyro (NUTS) | smc")
    p.add_argument("--no-evidence", action="store_true", help="skip the log evidence")
    p.add_argument(
        "--evidence-method",
        choices=EVIDENCE_METHODS,
        default=DEFAULT_EVIDENCE_METHOD,
        help=f"tempered SMC with HMC moves from the prior ({DEFAULT_EVIDENCE_METHOD}, default) or "
        "back from each fit's draws, bridge sampling on the draws, or PyMC's SMC",
    )
    p.add_argument(
        "--scenario-json", metavar="JSON", help="scenario (JSON text or file) for a CSV file"
    )
    p.set_defaults(func=_compare)


def check_out_dir(out: str) -> Path:
    """Refuse an ``--out`` the fits could not be written to, before any fit is run: an existing
    file, a path through a file, or a directory that is not writable.

    >>> import tempfile
    >>> check_out_dir(tempfile.mkdtemp() + "/fits").name
    'fits'
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"--out {out}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: {parent} is not writable")
    return path


def _compare(args: argparse.Namespace) -> int:
    from bellmodels import models as registry
    from bellmodels.cli.audit import resolve_data
    from bellmodels.cli.data import load_scenario
    from bellmodels.comparison import check_save_targets, compare

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    if not names:
        raise UsageError("--models needs at least one model name")
    unknown = [n for n in names if n not in registry.names()]
    if unknown:
        raise UsageError(f"unknown model(s) {unknown}; known models: {', '.join(registry.names())}")
    for opt in ("draws", "chains"):
        if getattr(args, opt) is not None and getattr(args, opt) < 1:
            raise UsageError(f"--{opt} must be >= 1")
    if args.out:  # before any fit: a refused --out must not cost the fits
        check_out_dir(args.out)
        try:
            check_save_targets(args.out, names, overwrite=args.overwrite)
        except (FileExistsError, ValueError) as exc:
            raise UsageError(f"--out {args.out}: {exc}") from exc
    scenario = load_scenario(args.scenario_json) if args.scenario_json else None
    counts = resolve_data(args.data, scenario)
    res = compare(
        names,
        counts,
        quick=args.quick,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        evidence=not args.no_evidence,
        evidence_method=args.evidence_method,
        progressbar=not args.quiet,
        sampler=args.sampler,
    )
    records = res.to_records()
    if args.out:
        for path in res.save(args.out, overwrite=args.overwrite):
            log.info("wrote %s", path)
    if args.json:
        print_json(records)
        if res.quick:  # the rows are the same keys in either setting: say which on stderr
            log.warning("%s", res.setting_note())
    else:
        print(res.to_markdown(), end="")
    return 0 if res.quick or all(r["diagnostics_ok"] for r in records) else 1
