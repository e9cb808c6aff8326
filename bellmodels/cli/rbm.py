"""``bellmodels train-rbm``: train an RBM (or conditional RBM) on counts and print the machine.

Example::

    bellmodels train-rbm --data weihs1998 --n-hidden 4 --json
    bellmodels train-rbm --data counts.csv --n-hidden 8 --mi-penalty 0.1 --objective conditional

The model's audit is ``bellmodels audit rbm-weinstein2017`` (the generic audit command).
"""

from __future__ import annotations

import argparse
from typing import Any

from bellmodels.cli import UsageError, print_json

# MAX_ENUMERATED_HIDDEN of bellmodels.models.boltzmann._kernels, written out so that building
# the parser (``bellmodels --help``) imports no model; tests/cli/test_startup_imports.py checks
# the two agree, and --n-hidden is validated against the module's own value
_MAX_HIDDEN_IN_HELP = 16

EPILOG = """examples:
  bellmodels train-rbm --data weihs1998 --n-hidden 4 --json
  bellmodels train-rbm --data counts.csv --n-hidden 8 --mi-penalty 0.1 --seed 1
  bellmodels train-rbm --data counts.csv --model crbm --method pcd
"""


def add_commands(subparsers: Any) -> None:
    """Add the ``train-rbm`` sub-command."""
    p = subparsers.add_parser(
        "train-rbm",
        help="train a Boltzmann-machine model (Weinstein's RBM or the conditional RBM)",
        description=(
            "Train an RBM (Weinstein, arXiv:1707.03114) or a conditional RBM (arXiv:1807.03910) "
            "on a count table or per-trial CSV file or a shipped dataset, by exact maximum "
            "likelihood (default), PCD or CD-k, optionally penalising the measurement "
            "dependence MI(h; settings). Prints the fit, the machine and its audit."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, metavar="FILE|DATASET", help="counts to train on")
    p.add_argument(
        "--n-hidden",
        type=_hidden_units,
        default=4,
        help=f"hidden units, 1..{_MAX_HIDDEN_IN_HELP} (the audit lists the 2^n hidden states; "
        "default 4)",
    )
    p.add_argument("--model", choices=("rbm", "crbm"), default="rbm", help="default rbm")
    p.add_argument(
        "--method", choices=("exact", "pcd", "cd"), default="exact", help="default exact"
    )
    p.add_argument(
        "--objective",
        choices=("joint", "conditional"),
        default=None,
        help="likelihood of (settings, outcomes) or of outcomes given settings "
        "(default: joint for rbm, conditional for crbm)",
    )
    p.add_argument(
        "--mi-penalty",
        type=_non_negative_float,
        default=0.0,
        metavar="BETA",
        help="minimise KL + BETA * MI(h; settings) in bits (default 0)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of starts and chains (default 0)")
    p.add_argument(
        "--n-restarts",
        type=_at_most(MAX_RESTARTS, "MAX_RESTARTS"),
        default=8,
        help=f"exact method: starts, 1..{MAX_RESTARTS} (default 8)",
    )
    p.add_argument(
        "--n-iter",
        type=_at_most(MAX_ITERATIONS, "MAX_ITERATIONS"),
        default=5000,
        help=f"pcd/cd: updates, 1..{MAX_ITERATIONS:_} (default 5000)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_train)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


MAX_RESTARTS = 1000
"""Most exact-method starts: a cap that keeps a mistyped option from running for hours (the time
of a start: ``docs/generated/rbm_training_benchmark.md``)."""

MAX_ITERATIONS = 1_000_000
"""Most PCD/CD updates: a cap of the same kind as :data:`MAX_RESTARTS`."""


def _at_most(limit: int, name: str) -> Any:
    """An argparse type: a whole number in ``1..limit``, the refusal naming ``name``.

    >>> _at_most(10, "LIMIT")("7")
    7
    """

    def parse(text: str) -> int:
        value = _positive_int(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"{value} is more than {name} = {limit:_}")
        return value

    return parse


def _hidden_units(text: str) -> int:
    """``--n-hidden``: 1..MAX_ENUMERATED_HIDDEN, since the printed audit lists all 2^n states of h.

    >>> _hidden_units("8")
    8
    """
    from bellmodels.models.boltzmann._kernels import MAX_ENUMERATED_HIDDEN

    value = _positive_int(text)
    if value > MAX_ENUMERATED_HIDDEN:
        raise argparse.ArgumentTypeError(
            f"{value} hidden units: train-rbm audits the machine, which lists the 2^n states "
            f"of the hidden layer, so n is at most MAX_ENUMERATED_HIDDEN = {MAX_ENUMERATED_HIDDEN}"
        )
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    from bellmodels._util import correlators
    from bellmodels.auditing import audit
    from bellmodels.cli.audit import resolve_data
    from bellmodels.models.boltzmann import CRBM, RBM

    counts = resolve_data(args.data)
    if counts.total == 0:
        raise UsageError(f"--data {args.data}: no trials")
    cls = RBM if args.model == "rbm" else CRBM
    model = cls(counts.scenario, n_hidden=args.n_hidden, seed=args.seed)
    options: dict[str, Any] = {
        "method": args.method,
        "objective": args.objective,
        "mi_penalty": args.mi_penalty,
        "seed": args.seed,
    }
    if args.method == "exact":
        options["n_restarts"] = args.n_restarts
    else:
        options["n_iter"] = args.n_iter
    model.train(counts, **options)
    report = audit(model)
    p = model.behaviour()
    e = correlators(p)
    e_data = correlators(counts.values / np.maximum(counts.pair_totals(), 1)[:, :, None, None])
    out = {
        "model": model.name,
        "n_hidden": model.n_hidden,
        "data": args.data,
        "n_trials": counts.total,
        "training": model.training_,
        "kl_nats": model.kl_,
        "loss": model.loss_,
        "n_iter": model.n_iter_,
        "fit_time_s": model.fit_time_,
        "restarts_loss": [float(x) for x in model.restarts_],
        "correlators": e.tolist(),
        "correlators_data": e_data.tolist(),
        "S": report.S,
        "mi_bits": report.mi_bits,
        "hall_M": report.hall_M,
        "min_mi_bits": report.min_mi_bits,
        "parameter_independence_violation": report.parameter_independence_violation,
        "outcome_independence_violation": report.outcome_independence_violation,
        "no_signalling": report.no_signalling,
        "classification": report.classification,
        "parameters": {k: np.asarray(v).tolist() for k, v in model.params().items()},
    }
    if args.json:
        print_json(out)
        return 0
    print(f"{model.name} with {model.n_hidden} hidden units on {args.data} ({counts.total} trials)")
    print(
        f"  {args.method} training, {model.training_['objective']} objective, "
        f"mi_penalty {args.mi_penalty:g}: KL {model.kl_:.3e} nats in {model.fit_time_:.2f} s"
    )
    print(f"  correlators  {np.round(e, 4).tolist()}   (data {np.round(e_data, 4).tolist()})")
    print(f"  S {report.S:.4f}   MI {report.mi_bits:.4f} bits   Hall M {report.hall_M:.4f}")
    print(f"  least MI a local model needs: {report.min_mi_bits:.4f} bits")
    print(f"  classification: {report.classification}")
    for name, value in model.params().items():
        print(f"  {name} = {np.round(value, 3).tolist()}")
    return 0
