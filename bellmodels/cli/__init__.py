"""The ``bellmodels`` command.

Each group of sub-commands lives in its own module of this package (``bellmodels.cli.data``,
``...audit``, ``...significance``, ``...rbm``, ``...compare``, ``...study``) with a function
``add_commands(subparsers)`` that adds its parsers and sets ``func`` on each; ``COMMAND_MODULES`` lists them in help order. Errors a user can fix (bad file, unknown model, bad option) print one line to
stderr and exit 2; ``--debug`` shows the traceback instead. Heavy imports happen inside the
commands so ``bellmodels --help`` stays fast.

A global option ``--import MODULE`` (repeatable; before or after the command) imports a module
that registers models of your own before the command runs, so every command knows them by name
(``bellmodels --import mypkg.models audit my-model``); the modules are also exported in
``BELLMODELS_IMPORT`` so the study runner's worker processes import them too. Installed
packages declaring the entry-point group ``bellmodels.models`` need no option.

Exit codes: 0 success, 1 a check failed (e.g. a fit did not pass the diagnostics gate), 2 bad
input or usage.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

EXAMPLES = """examples:
  bellmodels simulate --n-trials 100000 --seed 0 --out counts.csv
  bellmodels datasets list
  bellmodels datasets show delft2015
  bellmodels audit rbm-weinstein2017 --json
  bellmodels audit --data delft2015
  bellmodels audit --data counts.csv --json
  bellmodels test --data delft2015 --json
  bellmodels train-rbm --data counts.csv --n-hidden 4
  bellmodels compare --data weihs1998 --models local-polytope,quantum-singlet,rbm --json
  bellmodels run studies/weinstein2017.toml
  bellmodels run studies/noise_sweep.toml --dask --workers 2 --quiet
  bellmodels report out/weinstein2017
  bellmodels --import mypkg.models compare --data delft2015 --models my-model,quantum-singlet
"""


class UsageError(Exception):
    """A mistake in the command line or its input that the user can fix (exit code 2)."""


def print_json(obj: Any) -> None:
    """Write ``obj`` as indented, standard JSON to stdout: NaN and infinities become ``null``,
    as in every file the package writes (``_util.to_jsonable``), so any JSON parser reads it."""
    from bellmodels._util import to_jsonable

    json.dump(to_jsonable(obj), sys.stdout, indent=2, allow_nan=False)
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
    parser.add_argument("--import", **IMPORT_OPTION)  # type: ignore[arg-type]
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"bellmodels.cli.{name}")
        module.add_commands(sub)
    for command in sub.choices.values():  # the same option after the command name
        command.add_argument("--import", **{**IMPORT_OPTION, "dest": "imports_after"})  # type: ignore[arg-type]
    return parser


IMPORT_OPTION: dict[str, Any] = {
    "dest": "imports",
    "action": "append",
    "default": [],
    "metavar": "MODULE",
    "help": "import MODULE first, so the models it registers are known by name (repeatable)",
}


def import_model_modules(modules: Sequence[str]) -> None:
    """Import the ``--import`` modules here and export them (``BELLMODELS_IMPORT``) to the
    processes this command starts (the study runner's workers)."""
    if not modules:
        return
    from bellmodels.models.registry import IMPORT_ENV, import_modules

    import_modules(modules, source="--import")
    known = [m for m in os.environ.get(IMPORT_ENV, "").split(",") if m]
    os.environ[IMPORT_ENV] = ",".join(dict.fromkeys([*known, *modules]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        import_model_modules([*args.imports, *getattr(args, "imports_after", [])])
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
