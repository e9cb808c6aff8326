"""The ``bellmodels`` command.

Each group of sub-commands lives in its own module of this package (``bellmodels.cli.data``,
``...audit``, ``...significance``, ``...rbm``, ``...compare``, ``...study``) with a function
``add_commands(subparsers)`` that adds its parsers and sets ``func`` on each; ``COMMAND_MODULES`` lists them in help order. Errors a user can fix (bad file, unknown model, bad option) print one line to
stderr and exit 2; ``--debug`` shows the traceback instead. Heavy imports happen inside the
commands so ``bellmodels --help`` stays fast.

Exit codes: 0 success, 1 a check failed (e.g. a fit did not pass the diagnostics gate), 2 bad
input or usage.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

EXAMPLES = """examples:
  bellmodels simulate --n 100000 --seed 0 --out counts.csv
  bellmodels datasets list
  bellmodels datasets show delft2015
  bellmodels audit rbm-weinstein2017 --json
  bellmodels audit --data delft2015
  bellmodels audit --data counts.csv --json
  bellmodels test --data delft2015 --json
  bellmodels train-rbm --data counts.csv --hidden 4
  bellmodels compare --data weihs1998 --models local-polytope,quantum-singlet,rbm --json
  bellmodels run studies/weinstein2017.toml
  bellmodels run studies/noise_sweep.toml --dask --workers 2 --quiet
  bellmodels report out/weinstein2017
"""


class UsageError(Exception):
    """A mistake in the command line or its input that the user can fix (exit code 2)."""


def print_json(obj: Any) -> None:
    """Write ``obj`` as indented JSON to stdout (NaN allowed, as JSON null is not a number)."""
    json.dump(obj, sys.stdout, indent=2, allow_nan=True)
    sys.stdout.write("\n")


COMMAND_MODULES: tuple[str, ...] = ("data", "audit", "significance", "rbm", "compare", "study")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bellmodels",
        description="Fit, compare and audit hidden-variable models of Bell/EPR correlations.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"bellmodels.cli.{name}")
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (UsageError, ValueError, FileNotFoundError, KeyError, OSError) as exc:
        if args.debug:
            raise
        print(f"bellmodels {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
