"""The command's output channels: results on stdout, everything else through ``logging`` on
stderr, with ``--quiet`` (errors only) and ``--verbose`` (debug records) on every command,
before or after its name."""

from __future__ import annotations

import argparse
import logging

import pytest

from bellmodels.cli import build_parser, main


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_takes_quiet_and_verbose(name: str) -> None:
    options = _commands()[name]._option_string_actions
    assert {"--quiet", "--verbose"} <= set(options), name


def _simulate(capsys, tmp_path, *flags: str) -> tuple[int, str, str]:
    out = tmp_path / "c.csv"
    argv = ["simulate", "--n", "100", "--seed", "0", "--out", str(out)]
    before = [f for f in flags if f.startswith("^")]
    after = [f for f in flags if not f.startswith("^")]
    code = main([*(f[1:] for f in before), *argv, *after])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_info_by_default_nothing_under_quiet_debug_under_verbose(capsys, tmp_path) -> None:
    code, out, err = _simulate(capsys, tmp_path)
    assert code == 0 and out == ""
    assert err.startswith("wrote 100 singlet trials (V = 1, seed 0) as a count table to ")
    assert "Python" not in err  # no debug record by default
    for flags in (("--quiet",), ("^--quiet",)):
        assert _simulate(capsys, tmp_path, *flags) == (0, "", "")
    for flags in (("--verbose",), ("^--verbose",)):
        code, out, err = _simulate(capsys, tmp_path, *flags)
        assert code == 0 and out == ""
        assert err.splitlines()[0].startswith("bellmodels simulate (Python ")
        assert "wrote 100 singlet trials" in err


def test_quiet_still_shows_errors_and_excludes_verbose(capsys, tmp_path) -> None:
    assert main(["--quiet", "audit", "no-such-model"]) == 2
    assert "bellmodels audit: error: unknown model 'no-such-model'" in capsys.readouterr().err
    code, out, err = _simulate(capsys, tmp_path, "^--quiet", "--verbose")
    assert code == 2 and out == ""
    assert err.strip() == "bellmodels simulate: error: --quiet and --verbose exclude each other"


def test_stdout_keeps_only_the_result_under_verbose(capsys) -> None:
    code = main(["--verbose", "simulate", "--n", "50", "--seed", "3"])  # the table to stdout
    out, err = capsys.readouterr()
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["# kind: complete", "setting_a,setting_b,outcome_a,outcome_b,count"]
    assert sum(int(row.rsplit(",", 1)[1]) for row in lines[2:]) == 50
    assert "bellmodels simulate (Python" in err


def test_the_global_quiet_reaches_a_command_with_its_own(capsys) -> None:
    args = build_parser().parse_args(["--quiet", "run", "weinstein2017"])
    assert args.quiet_before and not args.quiet  # main() joins the two places
    args = build_parser().parse_args(["test", "--data", "delft2015", "--quiet"])
    assert args.quiet


def test_main_leaves_the_callers_logging_as_it_was(capsys, tmp_path) -> None:
    logger = logging.getLogger("bellmodels")
    level, handlers = logger.level, list(logger.handlers)
    _simulate(capsys, tmp_path, "--verbose")
    assert main(["audit", "no-such-model"]) == 2
    assert logger.level == level and logger.handlers == handlers
