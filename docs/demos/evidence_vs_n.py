"""Demonstration: log Bayes factors against the number of trials.

Simulates 10^5 singlet trials at the CHSH angles once (``bellmodels.simulate_singlet``, seed 0)
and, for nested prefixes of n trials (n = 10^2 ... 10^5), fits quantum-singlet and three rivals
estimates the log evidence of quantum-singlet and three rivals by tempered SMC from the prior with
HMC moves (``bellmodels.inference.estimate_log_evidence``, method ``"smc"``: it needs no NUTS fit,
and its Monte Carlo error is the spread of independent runs) and reports the log Bayes factor of
the singlet against each rival,

    log BF(singlet : rival) = log p(data | singlet) - log p(data | rival),  se = hypot(se_s, se_r),

on the scale of Kass & Raftery, J. Am. Stat. Assoc. 90, 773 (1995). The rivals are
local-polytope (local and measurement independent: it cannot reach S > 2, so its log BF grows
linearly in n once the data resolve S > 2), no-signalling (the whole no-signalling polytope: it
contains the singlet's behaviour, so it pays only its Occam factor) and the restricted Boltzmann
machine of G. Weinstein, arXiv:1707.03114 (``rbm``: measurement dependent, it can fit the singlet
exactly with more parameters, so again only the Occam factor). When a rival fits as well, the
Laplace approximation gives log BF ~ (Delta d / 2) log n for Delta d extra effective parameters;
the script fits that slope against log n.

The SMC sizes are the main job's (bellmodels/studies/weinstein2017.toml): 4 runs x 500 particles x 4 HMC
transitions per stage for the explicit models, 3 x 1,000 x 8 for the machine; ``--quick`` halves
the particles. Each estimate's wall time is recorded; estimates with se > 0.5 nat are marked
unreliable (open markers in the figure).

Outputs (``--out-dir``): ``demo_evidence_vs_n.json`` (every number), ``demo_evidence_vs_n.png``
and ``demo_evidence_vs_n.md`` (the table). Run: ``python docs/demos/evidence_vs_n.py`` (about
ten minutes on two cores; ``--rbm-n`` chooses the RBM's subset of n, which dominates the
cost); ``--quick`` (or ``--size small``) runs three values of n with fewer draws; ``--out`` is
an alias of ``--out-dir``; ``--replot`` rewrites the table and figure from the JSON, no SMC.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from docgen import GENERATED, fmt, md_table, provenance, write_atomic, write_json

COMMAND = "python docs/demos/evidence_vs_n.py"
REFERENCE = "quantum-singlet"
RIVALS = ("local-polytope", "no-signalling", "rbm")
N_FULL = (100, 300, 1_000, 3_000, 10_000, 30_000, 100_000)
N_QUICK = (100, 1_000, 10_000)
RBM_N_FULL = N_FULL
# SMC sizes (runs, particles, HMC transitions per stage) of bellmodels/studies/weinstein2017.toml
SMC_SIZES = {"rbm": (3, 1000, 8)}
SMC_SIZES_DEFAULT = (4, 500, 4)
COLOURS = {"local-polytope": "C0", "no-signalling": "C1", "rbm": "C2"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--out-dir", "--out", dest="out_dir", type=Path, default=GENERATED, help="output directory"
    )
    p.add_argument("--quick", action="store_true", help="three values of n, half the particles")
    p.add_argument(
        "--size",
        choices=("small", "full"),
        default=None,
        help="the demos' common switch: small is --quick, full the default",
    )
    p.add_argument(
        "--replot",
        action="store_true",
        help="no fitting: rewrite the table, slopes and figure from the JSON in --out-dir",
    )
    p.add_argument(
        "--rbm-n",
        type=lambda s: tuple(int(x) for x in s.split(",") if x),
        default=None,
        help="comma-separated n at which to fit the RBM (default: "
        + ",".join(map(str, RBM_N_FULL))
        + ")",
    )
    return p


def _prefix(trials: Any, n: int) -> Any:
    """The first ``n`` trials (nested data): ``Trials`` has no slicing, so rebuild one."""
    from bellmodels.data import Trials

    return Trials(
        trials.scenario,
        trials.setting_a[:n],
        trials.setting_b[:n],
        trials.outcome_a[:n],
        trials.outcome_b[:n],
    )


def evidence_point(name: str, counts: Any, quick: bool) -> dict[str, Any]:
    """One model's log evidence on one prefix, by forward tempered SMC, and its wall time."""
    from bellmodels.inference import estimate_log_evidence

    runs, particles, hmc = SMC_SIZES.get(name, SMC_SIZES_DEFAULT)
    particles //= 2 if quick else 1
    t0 = time.perf_counter()
    est = estimate_log_evidence(
        name,
        counts,
        method="smc",
        seed=1,
        evidence_draws=particles,
        evidence_chains=runs,
        evidence_hmc_steps=hmc,
    )
    return {
        "log_evidence": float(est.log_evidence),
        "se": float(est.se),
        "reliable": bool(est.reliable),
        "method": est.method,
        "repetitions": [float(r) for r in est.repetitions],
        "details": {
            k: v for k, v in est.details.items() if isinstance(v, int | float | str | bool)
        },
        "smc_runs": runs,
        "smc_particles": particles,
        "smc_hmc_steps": hmc,
        "evidence_seconds": time.perf_counter() - t0,
    }


def bayes_factors(fits: dict[str, dict[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """log BF(singlet : rival) per n where both were estimated."""
    out: dict[str, list[dict[str, Any]]] = {}
    ref = fits.get(REFERENCE, {})
    for rival in RIVALS:
        rows = []
        for key, r in sorted(fits.get(rival, {}).items(), key=lambda kv: int(kv[0])):
            s = ref.get(key)
            if s is None:
                continue
            rows.append(
                {
                    "n": int(key),
                    "log_bf": s["log_evidence"] - r["log_evidence"],
                    "se": math.hypot(s["se"], r["se"]),
                    "reliable": s["reliable"] and r["reliable"],
                }
            )
        out[rival] = rows
    return out


def slopes(bf: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Least-squares fits over the reliable points: log BF against n (the rate of
    the decisive rival) and against log n (the Occam slope Delta d / 2 of the others)."""
    out: dict[str, dict[str, Any]] = {}
    for rival, rows in bf.items():
        good = [r for r in rows if r["reliable"]]
        entry: dict[str, Any] = {"points": len(good)}
        if len(rows) >= 2:  # every point, unreliable ones included: indicative only
            entry["per_log_n_all_points"] = float(
                np.polyfit(np.log([r["n"] for r in rows]), [r["log_bf"] for r in rows], 1)[0]
            )
        if len(good) >= 2:
            n = np.array([r["n"] for r in good], dtype=float)
            y = np.array([r["log_bf"] for r in good])
            entry["per_trial"] = float(np.polyfit(n, y, 1)[0])
            slope, icpt = np.polyfit(np.log(n), y, 1)
            entry["per_log_n"] = float(slope)
            entry["intercept_log_n"] = float(icpt)
            entry["effective_extra_parameters"] = float(2 * slope)
            big = [r for r in good if r["n"] >= 1000]
            if len(big) >= 2:
                entry["per_trial_n_ge_1000"] = float(
                    np.polyfit([r["n"] for r in big], [r["log_bf"] for r in big], 1)[0]
                )
        out[rival] = entry
    return out


def figure(bf: dict[str, list[dict[str, Any]]]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, rivals, title in (
        (ax1, RIVALS, "all rivals (symlog y)"),
        (ax2, ("no-signalling", "rbm"), "the Occam factor (linear y)"),
    ):
        for rival in rivals:
            rows = bf.get(rival, [])
            if not rows:
                continue
            n = np.array([r["n"] for r in rows])
            y = np.array([r["log_bf"] for r in rows])
            e = np.array([r["se"] for r in rows])
            ok = np.array([r["reliable"] for r in rows])
            c = COLOURS[rival]
            ax.plot(n, y, "-", color=c, lw=1, label=f"vs {rival}")
            ax.errorbar(n[ok], y[ok], yerr=e[ok], fmt="o", color=c, capsize=3)
            if (~ok).any():
                ax.errorbar(n[~ok], y[~ok], yerr=e[~ok], fmt="o", color=c, mfc="white", capsize=3)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("trials n")
        ax.set_title(title, fontsize=9)
    ax1.set_yscale("symlog", linthresh=10)
    ax1.set_ylabel("log BF(quantum-singlet : rival) ± 1 SE  [nats]")
    ax1.legend(fontsize=8)
    ax2.plot([], [], "o", color="grey", mfc="white", label="unreliable (se > 0.5 nat)")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save_png(fig: Any, path: Path) -> None:
    """Save to a temporary name in the same directory, then ``os.replace``."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


def table(fits: dict[str, Any], bf: dict[str, list[dict[str, Any]]], command: str) -> str:
    ns = sorted({int(k) for f in fits.values() for k in f})
    by = {rival: {r["n"]: r for r in rows} for rival, rows in bf.items()}

    def cell(rival: str, n: int) -> str:
        r = by.get(rival, {}).get(n)
        if r is None:
            return "not run"
        mark = "" if r["reliable"] else " (unreliable)"
        return f"{fmt(r['log_bf'], 2)} ± {fmt(r['se'], 2)}{mark}"

    rows = []
    for n in ns:
        fitted = [f[str(n)] for f in fits.values() if str(n) in f]
        rows.append(
            [f"{n:,}"]
            + [cell(rival, n) for rival in RIVALS]
            + [
                "yes" if all(f["reliable"] for f in fitted) else "no",
            ]
        )
    text = provenance(command)
    text += md_table(["n", *[f"log BF vs {r}" for r in RIVALS], "all reliable?"], rows)
    text += (
        "\nlog BF(quantum-singlet : rival) in nats ± one Monte Carlo SE (tempered SMC from the prior); "
        "positive favours the singlet. *Unreliable*: SE > 0.5 nat.\n\n"
    )
    text += "Each log evidence, its SE, the SMC sizes (runs x particles x HMC) and wall time:\n\n"
    per = []
    for name, f in fits.items():
        for key in sorted(f, key=int):
            r = f[key]
            per.append(
                [
                    name,
                    f"{int(key):,}",
                    f"{fmt(r['log_evidence'], 2)} ± {fmt(r['se'], 2)}",
                    "yes" if r["reliable"] else "no",
                    f"{r['smc_runs']} x {r['smc_particles']} x {r['smc_hmc_steps']}",
                    f"{r['evidence_seconds']:.0f} s",
                ]
            )
    text += md_table(["model", "n", "log evidence ± SE", "reliable?", "SMC", "time"], per)
    return text


def write_outputs(out: Path, payload: dict[str, Any], command: str) -> None:
    fits = payload["fits"]
    payload["fitted_n"] = {name: sorted(int(k) for k in f) for name, f in fits.items()}
    bf = bayes_factors(fits)
    payload["log_bf"] = bf
    payload["slopes"] = slopes(bf)
    write_json(out / "demo_evidence_vs_n.json", payload)
    write_atomic(out / "demo_evidence_vs_n.md", table(fits, bf, command))
    save_png(figure(bf), out / "demo_evidence_vs_n.png")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parser().parse_args(argv)
    args.quick = args.quick or args.size == "small"
    if args.replot:
        import json

        out = Path(args.out_dir)
        payload = json.loads((out / "demo_evidence_vs_n.json").read_text())
        payload.setdefault("size", "small" if payload.get("quick") else "full")
        write_outputs(out, payload, payload.get("command", COMMAND))
        return payload
    import bellmodels as bm

    ns = N_QUICK if args.quick else N_FULL
    rbm_ns = args.rbm_n if args.rbm_n is not None else (N_QUICK if args.quick else RBM_N_FULL)
    command = COMMAND + (" --quick" if args.quick else "")
    if args.rbm_n is not None:
        command += " --rbm-n " + ",".join(map(str, args.rbm_n))
    start = time.perf_counter()
    trials = bm.simulate_singlet(bm.Scenario.chsh(), n_trials=max(ns), seed=0)
    payload: dict[str, Any] = {
        "quick": args.quick,
        "size": "small" if args.quick else "full",
        "command": command,
        "reference": REFERENCE,
        "rivals": list(RIVALS),
        "n": list(ns),
        "rbm_n": sorted(n for n in rbm_ns if n in ns),
        "data": f"simulate_singlet(Scenario.chsh(), n_trials={max(ns)}, seed=0); first n trials",
        "evidence": "estimate_log_evidence(name, counts, method='smc', seed=1), SMC_SIZES",
        "fits": {},
        "complete": False,
    }
    # explicit models at every n first, then the machine (the expensive part): outputs are rewritten
    # after each n, so an interrupted run still leaves consistent files
    plan = [(n, name) for n in ns for name in (REFERENCE, "local-polytope", "no-signalling")]
    plan += [(n, "rbm") for n in rbm_ns if n in ns]
    out = Path(args.out_dir)
    for k, (n, name) in enumerate(plan):
        counts = _prefix(trials, n).counts()
        r = evidence_point(name, counts, args.quick)
        payload["fits"].setdefault(name, {})[str(n)] = r
        print(
            f"[{time.perf_counter() - start:6.0f} s] {name:16s} n={n:>6}: "
            f"log Z = {r['log_evidence']:.2f} ± {r['se']:.2f} ({r['evidence_seconds']:.0f} s)",
            flush=True,
        )
        last_of_n = k + 1 == len(plan) or plan[k + 1][0] != n or name == "rbm"
        if last_of_n:
            payload["total_seconds"] = time.perf_counter() - start
            payload["complete"] = k + 1 == len(plan)
            write_outputs(out, payload, command)
    return payload


if __name__ == "__main__":
    main()
