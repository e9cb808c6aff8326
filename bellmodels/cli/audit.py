"""``bellmodels audit MODEL`` and ``bellmodels audit --data FILE|DATASET``.

Both call :func:`bellmodels.auditing.audit` and print the :class:`~bellmodels.auditing.AuditReport`:
``--json`` prints ``report.to_dict()`` as JSON (keys as in ``docs/architecture.md``), otherwise the short
human-readable table (``str(report)``).

>>> from bellmodels.cli import build_parser
>>> args = build_parser().parse_args(["audit", "--data", "delft2015", "--json"])
>>> args.data, args.model, args.json
('delft2015', None, True)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bellmodels.cli import UsageError, print_json


def add_commands(subparsers: Any) -> None:
    """Add the ``audit`` sub-command."""
    p = subparsers.add_parser(
        "audit",
        help="audit a model or a data set: CHSH, no-signalling, locality, measurement dependence",
        description=(
            "Audit a registered model (its ontic table: parameter and outcome independence, "
            "measurement dependence MI and Hall's M, no-signalling, CHSH, classification) or "
            "data (a count-table / per-trial CSV, a NetCDF file, or a shipped dataset: S with "
            "its standard error, CH/Eberhard J, no-signalling test, the least measurement "
            "dependence a local model needs)."
        ),
        epilog=(
            "examples:\n"
            "  bellmodels audit --data delft2015\n"
            "  bellmodels audit --data counts.csv --json\n"
            "  bellmodels audit --data k3.csv --scenario-json scenario.json\n"
            "  bellmodels audit quantum-singlet --json\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", nargs="?", help="a registered model name (bellmodels.models.names())")
    p.add_argument("--data", metavar="FILE|DATASET", help="a data file or a shipped dataset name")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--scenario-json",
        metavar="JSON",
        help="scenario (JSON text or file) for a CSV file or a model; default CHSH",
    )
    p.add_argument(
        "--skip-min-mi",
        action="store_true",
        help="skip the convex programmes for min_mi_bits / min_hall_M (faster)",
    )
    p.set_defaults(func=_audit)


def resolve_data(value: str, scenario: Any = None) -> Any:
    """Counts from a file path (if it exists) or else a shipped dataset name.

    Raises ``FileNotFoundError`` naming ``value`` and the known datasets when it is neither.

    >>> resolve_data("weihs1998").total
    14573
    """
    from bellmodels import datasets
    from bellmodels.data import read_counts

    path = Path(value)
    if path.exists():  # a directory or unreadable file gets read_counts' message naming it
        counts = read_counts(path, scenario=scenario)
        if counts.total == 0:
            raise UsageError(f"{value}: the table holds no trials (only a header, or all 0)")
        return counts
    if value in datasets.names():
        if scenario is not None:
            raise UsageError(
                f"--scenario-json does not apply to the dataset {value!r} (it has its own)"
            )
        return datasets.load(value)
    raise FileNotFoundError(
        f"no data file or dataset named {value!r} (datasets: {', '.join(datasets.names())})"
    )


def _audit(args: argparse.Namespace) -> int:
    from bellmodels.auditing import audit
    from bellmodels.cli.data import load_scenario

    if (args.model is None) == (args.data is None):
        raise UsageError("give either a MODEL name or --data FILE|DATASET (exactly one)")
    scenario = load_scenario(args.scenario_json) if args.scenario_json else None
    if args.data is not None:
        obj = resolve_data(args.data, scenario)
    else:
        from bellmodels import models

        obj = models.get(args.model, **({"scenario": scenario} if scenario else {}))
    skip = args.skip_min_mi
    report = audit(obj, compute_min_mi=not skip, compute_min_hall_M=not skip)
    if args.data is not None:  # data only: p-values of local realism (imports scipy.stats)
        from bellmodels.significance import audit_section

    if args.json:
        out = report.to_dict()
        if args.data is not None:
            out["significance"] = audit_section(obj, as_json=True)
        print_json(out)
    else:
        print(report)
        if args.data is not None:
            print("\n" + audit_section(obj))
    return 0
