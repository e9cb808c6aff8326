"""The audit result as text rows: what ``str(report)`` and the notebook table show."""

from __future__ import annotations

from typing import Any

from bellmodels._format import fmt_significant as fmt
from bellmodels.behaviour import ALGEBRAIC, LOCAL_BOUND, TSIRELSON


def report_rows(r: Any) -> tuple[str, list[tuple[str, str]]]:
    """(heading, [(quantity, value as text)]) of an :class:`~bellmodels.auditing.AuditReport`
    (any of its kinds: a row whose field the kind does not have is left out)."""
    rows: list[tuple[str, str]] = [("classification", r.classification)]
    if getattr(r, "verdict", r.classification) != r.classification:
        rows.append(("verdict", r.verdict))
    if r.S is not None:
        s = fmt(r.S)
        if getattr(r, "S_se", None) is not None:
            s += f" ± {fmt(r.S_se)}"
        s += f"   (local {LOCAL_BOUND:g}, Tsirelson {TSIRELSON:.4f}, algebraic {ALGEBRAIC:g})"
        rows.append(("S = max_k |S_k|", s))
    if r.S_values is not None:
        rows.append(("S_k (k = 0..3)", "  ".join(fmt(v) for v in r.S_values)))
    if r.S_settings is not None and (len(r.labels_a) > 2 or len(r.labels_b) > 2):
        rows.append(("CHSH settings", f"{r.S_settings[0]} x {r.S_settings[1]}"))
    cells = []
    for i, la in enumerate(r.labels_a):
        for j, lb in enumerate(r.labels_b):
            cells.append(f"E({la},{lb}) = {fmt(r.correlators[i][j])}")
    rows.append(("correlators", ";  ".join(cells)))
    if r.ch_J is not None:
        j_se = getattr(r, "ch_J_se", None)
        j = fmt(r.ch_J) + (f" ± {fmt(j_se)}" if j_se is not None else "")
        rows.append(("CH/Eberhard J", j + "   (local bound 0)"))
    if r.chained_value is not None and len(r.labels_a) > 2:
        chained = fmt(r.chained_value)
        if getattr(r, "chained_se", None) is not None:
            chained += f" ± {fmt(r.chained_se)}"
        rows.append(
            (
                "chained Bell value",
                f"{chained}   (local bound {fmt(r.chained_local_bound)})",
            )
        )
    if r.no_signalling is not None:
        ns = f"max marginal difference {fmt(r.no_signalling)}"
        if getattr(r, "no_signalling_p_value", None) is not None:
            ns += f", LR test p = {r.no_signalling_p_value:.3g}"
        ns += " (holds)" if r.no_signalling_ok else " (VIOLATED)"
        rows.append(("no-signalling", ns))
    if r.kind == "ontic":
        rows += _hidden_variable_rows(r)
    if r.min_mi_bits is not None:
        rows.append(("least MI a local model needs", f"{fmt(r.min_mi_bits)} bits"))
    if r.min_hall_M is not None:
        rows.append(("least M a local model needs", fmt(r.min_hall_M)))
    return f"audit of {r.source} ({r.kind}; p(s) {r.settings_distribution})", rows


def _hidden_variable_rows(r: Any) -> list[tuple[str, str]]:
    """The rows only an ontic table has: locality, MI and Hall's M with its bound."""
    hb = "respected" if r.respects_hall_bound else "NOT respected"
    return [
        ("parameter indep. violation", fmt(r.parameter_independence_violation)),
        ("outcome indep. violation", fmt(r.outcome_independence_violation)),
        ("MI(lambda; settings)", f"{fmt(r.mi_bits)} bits"),
        (
            "Hall M / M_A / M_B",
            f"{fmt(r.hall_M)} / {fmt(r.hall_M_a)} / {fmt(r.hall_M_b)};"
            f" min(4, 2 + 3M) = {fmt(r.hall_bound)} ({hb})",
        ),
    ]
