"""The Bayes-factor section of a study report: log Bayes factors against the model of highest
evidence, posterior model probabilities, and the log Bayes factor between every pair of models.

Every number comes from the evidence the tasks stored (``fit.evidence`` in each task's summary);
the pairwise errors are :func:`bellmodels.inference.log_bayes_factors`, the same function
``bm.compare(...).bayes_factors()`` uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bellmodels.inference.evidence import (
    EvidenceEstimate,
    evidence_reliable,
    log_bayes_factors,
)
from bellmodels.inference.summary import FitSummary
from bellmodels.report.document import Document, _fmt
from bellmodels.study.store import read_task_summary, task_path


def equal_evidence_groups(estimates: dict[str, EvidenceEstimate]) -> list[list[str]]:
    """Models whose stored evidence is the same estimate, run by run (observationally equivalent
    models under the same priors and seed), in the order first met.

    >>> a = EvidenceEstimate(-10.0, 0.1, "smc", (-10.1, -9.9), 1.0, {"seed": 1})
    >>> b = EvidenceEstimate(-12.0, 0.1, "smc", (-12.1, -11.9), 1.0, {"seed": 1})
    >>> equal_evidence_groups({"qs": a, "hall": a, "lp": b})
    [['qs', 'hall'], ['lp']]
    """
    groups: dict[tuple[Any, ...], list[str]] = {}
    for name, est in estimates.items():
        key = (est.method, est.log_evidence, tuple(est.repetitions))
        groups.setdefault(key, []).append(name)
    return list(groups.values())


def bayes_factor_section(
    doc: Document, pt: Any, rows: dict[str, Any], out: Path, task_ids: dict[str, str]
) -> None:
    """The Bayes factors of one sweep point: against the best model, then between every pair."""
    ev = {
        m: (float(pt.sel(model=m)["log_evidence"]), float(pt.sel(model=m)["log_evidence_se"]))
        for m in rows
    }
    # the stored estimates (their runs), so that runs paired by seed give a paired error
    est = {}
    for m in rows:
        record = read_task_summary(task_path(out, task_ids[m])).get("fit") or {}
        stored = FitSummary.from_dict(record, model=m).evidence
        est[m] = stored or EvidenceEstimate(*ev[m], "given", (), float("nan"))
    ok = {m: v for m, v in ev.items() if np.isfinite(v[0]) and evidence_reliable(v[1])}
    if len(ok) < 2:
        return
    lbf, se = log_bayes_factors({m: est[m] for m in ok})
    best = max(ok, key=lambda m: ok[m][0])
    lz = np.array([v[0] for v in ok.values()])
    prob = np.exp(lz - np.logaddexp.reduce(lz))
    doc.h(3, "Bayes factors")
    doc.p(
        f"log Bayes factor of `{best}` (highest evidence) over each model, with its Monte Carlo "
        "error, and the posterior probability of each model under a uniform prior over the "
        "models with reliable evidence. Bayes factors depend on each model's stated priors "
        "(the model cards give them); LOO above does not."
    )
    body = [
        [m, float(lbf.loc[best, m]), float(se.loc[best, m]), p]
        for (m, v), p in sorted(zip(ok.items(), prob, strict=True), key=lambda kv: -kv[0][1][0])
    ]
    doc.table(["model", f"log BF({best} : model)", "se", "p(model | data)"], body)
    doc.p(
        "The error of a log Bayes factor between two SMC estimates run with the same seed is "
        "the spread of their run-by-run differences (the runs share random numbers), so it is "
        "zero between observationally equivalent models."
    )
    groups = equal_evidence_groups({m: est[m] for m in sorted(ok, key=lambda m: -ok[m][0])})
    if len(groups) < 2:
        return
    heads = [g[0] for g in groups]
    doc.p(
        "log Bayes factor of the row model over the column model ± its Monte Carlo error, "
        "for every pair"
        + (
            "; models with the same evidence estimate share a row: "
            + "; ".join(
                f"`{g[0]}` stands for " + ", ".join(f"`{m}`" for m in g)
                for g in groups
                if len(g) > 1
            )
            if any(len(g) > 1 for g in groups)
            else ""
        )
        + "."
    )
    doc.table(
        ["log BF(row : column)", *heads],
        [
            [a]
            + [
                "0" if a == b else f"{_fmt(lbf.loc[a, b], 2)} ± {_fmt(se.loc[a, b], 2)}"
                for b in heads
            ]
            for a in heads
        ],
    )


__all__ = ["bayes_factor_section", "equal_evidence_groups"]
