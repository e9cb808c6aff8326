"""The posterior audit's ontic tables: one ``ontic_table`` per draw against ``ontic_tables``.

After every fit the audit of the posterior builds one ontic table per draw and audits them all
at once (:func:`bellmodels.auditing.audit_draws`). Built one at a time in a Python loop, the
12,000 tables of ``bm.compare(["quantum-singlet", "local-polytope", "bell1964"], delft2015)``
took 2.4 s of its 28.5 s (issue #28); ``model.ontic_tables(values)`` builds them in one call,
vectorised over the draws for the shipped models. For each model, on the same parameter draws
(``--chains`` x ``--draws`` from the model's prior, seeded), the median of ``--repeats`` runs of:

- *loop*: ``[model.ontic_table(draw) for draw in draws]``, what the audit did before (and
  what the default ``ontic_tables`` still does for a model without an override);
- *batched*: ``model.ontic_tables(values)``;
- *with the audit*: *before*, the loop then ``audit_draws`` as it was before (each table padded
  with ``np.pad``, then stacked; kept here as ``audit_draws_before``); *loop*, the loop then
  today's ``audit_draws`` of the list; *batched*, ``audit_draws`` of the stack. The last ratio
  is before / batched: what the audit of a posterior saves per model;
- *differs*: the largest relative difference between the two audits' numbers (MI, Hall's M,
  parameter and outcome independence, no-signalling), so a faster path that computed something
  else would show.

``toner-bacon``'s table is a quadrature (about 5 ms a draw, on either path: the batched call
runs it once per draw and shares only the assembly), so it is measured on at most
``--slow-draws`` draws per chain; the *draws* column says how many each row used.

Prints the table and the ratios loop / batched; writes nothing.

    python benchmarks/ontic_batch.py
    python benchmarks/ontic_batch.py --models rbm --draws 500 --repeats 5
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from bellmodels.auditing.measures import DRAW_MEASURES as KEYS

MODELS = ("quantum-singlet", "local-polytope", "bell1964", "rbm", "toner-bacon")
SLOW = frozenset({"toner-bacon"})
"""Models measured on at most ``--slow-draws`` draws per chain."""


def prior_draws(model: Any, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` draws of every parameter from the model's prior, stacked ``(n, *shape)``."""
    import pymc as pm

    with pm.Model():
        rvs = model.prior_variables()
    out = pm.draw(list(rvs.values()), draws=n, random_seed=seed)
    return {name: np.asarray(v, dtype=float) for name, v in zip(rvs, out, strict=True)}


def median_seconds(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls of ``fn`` (after one untimed call) and its result."""
    result = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def audit_draws_before(tables: list[Any]) -> dict[str, np.ndarray]:
    """``audit_draws`` of a list before issue #28: every table padded by ``np.pad``, stacked."""
    from bellmodels.auditing import ontic_measures

    scn = tables[0].scenario
    n_lam = max(t.n_lambda for t in tables)

    def padded(arr: np.ndarray, fill: float) -> np.ndarray:
        width = [(0, 0)] * arr.ndim
        width[2] = (0, n_lam - arr.shape[2])
        return np.pad(arr, width, constant_values=fill)

    return ontic_measures(
        np.stack([padded(t.p_lambda_values, 0.0) for t in tables]),
        np.stack([padded(t.response_values, 0.25) for t in tables]),
        scn.settings_distribution(None),
    )


def largest_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """Largest |a - b| / max(|b|, 1e-12) over the audit's numbers (classes must agree)."""
    if not np.array_equal(a["classification"], b["classification"]):
        return float("inf")
    return max(float(np.max(np.abs(a[k] - b[k]) / np.maximum(np.abs(b[k]), 1e-12))) for k in KEYS)


def measure(name: str, n: int, repeats: int, seed: int) -> dict[str, float]:
    from bellmodels import models
    from bellmodels.auditing import audit_draws

    model = models.get(name)
    values = prior_draws(model, n, seed)
    rows = [{k: v[i] for k, v in values.items()} for i in range(n)]

    def loop() -> list[Any]:
        return [model.ontic_table(row) for row in rows]

    def batched() -> Any:
        return model.ontic_tables(values)

    t_loop, tables = median_seconds(loop, repeats)
    t_batch, stack = median_seconds(batched, repeats)
    t_before, _ = median_seconds(lambda: audit_draws_before(loop()), repeats)
    t_loop_audit, audit_loop = median_seconds(lambda: audit_draws(loop()), repeats)
    t_batch_audit, audit_batch = median_seconds(lambda: audit_draws(batched()), repeats)
    assert len(tables) == len(stack) == n
    return {
        "loop": t_loop,
        "batched": t_batch,
        "before": t_before,
        "loop_audit": t_loop_audit,
        "batched_audit": t_batch_audit,
        "differs": largest_difference(audit_batch, audit_loop),
    }


def row(name: str, n: int, r: dict[str, float]) -> str:
    """One line of the table: the draws, the times, the ratios and the largest difference."""
    differs = "" if np.isnan(r["differs"]) else f"{r['differs']:.1e}"
    ratio = r["loop"] / r["batched"]
    return (
        f"{name:<16} {n:>6} {r['loop']:>8.3f} {r['batched']:>10.4f} "
        f"{ratio:>8.{0 if ratio >= 10 else 1}f}x | "
        f"{r['before']:>9.3f} {r['loop_audit']:>8.3f} {r['batched_audit']:>10.4f} "
        f"{r['before'] / r['batched_audit']:>13.1f}x  {differs:>8}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--slow-draws", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2028)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    n = args.chains * args.draws
    print(
        f"ontic tables of {args.chains} chains x {args.draws} draws = {n} prior draws per model "
        f"({', '.join(sorted(SLOW))}: at most {args.slow_draws} per chain), "
        f"median of {args.repeats} runs; Python {platform.python_version()}, "
        f"numpy {np.__version__}, {platform.machine()}"
    )
    head = (
        f"{'':<23} {'tables':^29} | {'tables + audit_draws':^44}\n"
        f"{'model':<16} {'draws':>6} {'loop s':>8} {'batched s':>10} {'ratio':>9} | "
        f"{'before s':>9} {'loop s':>8} {'batched s':>10} {'before/batched':>14}  {'differs':>8}"
    )
    head = "\n".join(line.rstrip() for line in head.splitlines())
    width = max(len(line) for line in head.splitlines())
    print(head)
    print("-" * width)
    keys = ("loop", "batched", "before", "loop_audit", "batched_audit")
    total = dict.fromkeys(keys, 0.0)
    n_all = 0
    for name in args.models:
        n_model = args.chains * min(args.draws, args.slow_draws) if name in SLOW else n
        r = measure(name, n_model, args.repeats, args.seed)
        for k in keys:
            total[k] += r[k]
        n_all += n_model
        print(row(name, n_model, r))
    print("-" * width)
    print(row("all", n_all, {**total, "differs": float("nan")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
