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

Output: what a command computes (a table, JSON, a file name) goes to stdout; notes, warnings and
errors go to stderr through :mod:`logging` (the ``bellmodels`` loggers), so a script can redirect
or filter them, and progress bars (rich's, PyMC's) go to stderr too. ``--quiet`` shows errors only (no progress bar,
notes or summary), ``--verbose`` adds debug records; both are global (before or after the
command), like ``--import``. A program that calls the package from Python configures the
``bellmodels`` logger as it likes; without a configuration Python prints its warnings.

Exit codes: 0 success, 1 a check failed (e.g. a fit did not pass the diagnostics gate), 2 bad
input or usage.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
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
  bellmodels run weinstein2017
  bellmodels run noise_sweep --dask --workers 2 --quiet
  bellmodels run my_study.toml --verbose
  bellmodels report out/weinstein2017
  bellmodels --import mypkg.models compare --data delft2015 --models my-model,quantum-singlet
"""


log = logging.getLogger("bellmodels.cli")


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
    _add_verbosity(parser, before=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"bellmodels.cli.{name}")
        module.add_commands(sub)
    for command in sub.choices.values():  # the same options after the command name
        command.add_argument("--import", **{**IMPORT_OPTION, "dest": "imports_after"})  # type: ignore[arg-type]
        _add_verbosity(command, before=False)
    return parser


IMPORT_OPTION: dict[str, Any] = {
    "dest": "imports",
    "action": "append",
    "default": [],
    "metavar": "MODULE",
    "help": "import MODULE first, so the models it registers are known by name (repeatable)",
}


def _add_verbosity(parser: argparse.ArgumentParser, *, before: bool) -> None:
    """``--quiet`` / ``--verbose`` on the top-level parser (``before``) or on a command.

    The two places write different attributes (``quiet_before`` / ``quiet``): argparse lets a
    command's defaults overwrite the top-level values, so one attribute would lose
    ``bellmodels --quiet run ...``; :func:`main` joins them. A command that declared its own
    ``--quiet`` (``run``, ``test``) keeps it.
    """
    suffix = "_before" if before else ""
    group = parser.add_mutually_exclusive_group()
    if "--quiet" not in parser._option_string_actions:
        group.add_argument(
            "--quiet",
            dest=f"quiet{suffix}",
            action="store_true",
            help="errors only: no progress, notes or summary on stderr",
        )
    group.add_argument(
        "--verbose",
        dest=f"verbose{suffix}",
        action="store_true",
        help="debug records on stderr too",
    )


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to the current ``sys.stderr`` (looked up at each record, so a test's
    or a notebook's replacement of ``sys.stderr`` gets the records)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


@contextlib.contextmanager
def logging_to_stderr(*, quiet: bool = False, verbose: bool = False) -> Iterator[logging.Logger]:
    """Within the block, send the ``bellmodels`` log records to stderr: errors only when
    ``quiet``, debug records too when ``verbose``, else info and above. :func:`main` runs each
    command inside it; the loggers are restored after, so calling :func:`main` from Python (a
    test, a notebook) leaves that program's logging as it was.

    >>> import logging
    >>> with logging_to_stderr(quiet=True) as logger:
    ...     logger.level == logging.ERROR
    True
    >>> logging.getLogger("bellmodels").level == logging.NOTSET
    True
    """
    logger = logging.getLogger("bellmodels")
    pymc = logging.getLogger("pymc")
    saved = logger.level, pymc.level
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO)
    if quiet:  # PyMC logs its sampler choices at INFO on its own handler
        pymc.setLevel(logging.WARNING)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        pymc.setLevel(saved[1])


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
    args.quiet = args.quiet_before or getattr(args, "quiet", False)
    args.verbose = args.verbose_before or getattr(args, "verbose", False)
    with logging_to_stderr(quiet=args.quiet and not args.verbose, verbose=args.verbose):
        return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    """Run the parsed command; a usage error is one line on stderr and exit code 2."""
    try:
        if args.quiet and args.verbose:
            raise UsageError("--quiet and --verbose exclude each other")
        log.debug("bellmodels %s (Python %s)", args.command, sys.executable)
        import_model_modules([*args.imports, *getattr(args, "imports_after", [])])
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    except (UsageError, ValueError, FileNotFoundError, KeyError, OSError) as exc:
        if args.debug:
            raise
        log.error("bellmodels %s: error: %s", args.command, exc)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
