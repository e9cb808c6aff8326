"""The report of a study run, section by section, read from the results store
(:mod:`bellmodels.study.store`): ``DIR/report.md``, ``DIR/report.html`` and
``DIR/figures/*.png`` (:func:`write_report`).

The page opens with a table of contents; then the set-up (the study's model options as a
table), the results at each sweep point (:mod:`bellmodels.report.point`: comparison, audit,
figures, the diagnostics with each model's plots collapsed) or, for larger sweeps, the sweep
tables and figures (:mod:`bellmodels.report.sweeps`), measurement dependence, and provenance.
The model comparison is the ranking the runner stored in ``results.nc``
(:func:`bellmodels.comparison.rank`): nothing is refitted and no LOO is recomputed here.

>>> option_rows({"rbm": {"train": True, "params": {"n_hidden": 4}}})
[['rbm', 'train', 'true'], ['rbm', 'params.n_hidden', '4']]

On a finished study (``tests/study/test_study.py`` checks the report of small ones)::

    write_report("out/weinstein2017")
    # -> PosixPath('out/weinstein2017/report.md')
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bellmodels._util import write_atomic
from bellmodels.report.document import Document
from bellmodels.report.point import point_section
from bellmodels.report.sweeps import _coords_text, _md_section, _sweep_section
from bellmodels.study.store import load_study

MAX_POINT_SECTIONS = 4
"""Sweep points with their own figures; larger sweeps get sweep figures and pivot tables."""


def write_report(out_dir: str | os.PathLike[str]) -> Path:
    """Write ``report.md``, ``report.html`` and ``figures/*.png`` for a study directory.

    Parameters
    ----------
    out_dir
        A directory written by :func:`bellmodels.study.run_study` (holds ``results.nc``).

    Returns
    -------
    pathlib.Path
        The Markdown report.

    Examples
    --------
    On a finished study (``tests/study/test_study.py`` checks the report of small ones)::

        write_report("out/weinstein2017")
        # -> PosixPath('out/weinstein2017/report.md')
    """
    out = Path(out_dir)
    ds = load_study(out)
    info = json.loads(ds.attrs["config"])
    config = info["config"]
    axes = [a["name"] for a in info["axes"]]
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    for old in fig_dir.glob("*.png"):
        old.unlink()
    figures = config.get("report", {}).get("figures", True)

    doc = Document()
    title = config["study"].get("title") or f"Study {config['study']['name']}"
    doc.h(1, title)
    if config["study"].get("description"):
        doc.p(config["study"]["description"])
    for note in json.loads(ds.attrs.get("input_changes", "[]")):
        doc.p(f"**Note:** {note}.")
    doc.toc()
    _setup_section(doc, ds, config, info)
    from bellmodels.significance import report_table  # one shipped dataset: its p-values

    if (sig := report_table(config["data"], info["axes"])) is not None:
        doc.h(2, sig[0])
        doc.table(sig[1], sig[2])
    from bellmodels.plots import model_colors

    colors = model_colors([str(m) for m in ds["model"].values])
    points = list(np.ndindex(*[ds.sizes[a] for a in axes])) if axes else [()]
    _failures(doc, ds, axes, points)
    if len(points) <= MAX_POINT_SECTIONS:
        _point_sections(doc, ds, out, axes, colors, fig_dir if figures else None)
    else:
        _sweep_section(doc, ds, out, axes, points, colors, figures, fig_dir)
    if figures:
        _md_section(doc, ds, out, axes, points, colors, fig_dir, config)
    _provenance(doc, ds)

    md = out / "report.md"
    for path, text in ((md, doc.markdown()), (out / "report.html", doc.html(title))):
        write_atomic(path, text)
    return md


def results_markdown(out_dir: str | os.PathLike[str], heading_level: int = 2) -> str:
    """The report's results sections of a study run (comparison, Bayes factors, gate, audit at
    every sweep point), as Markdown without figures: for pages that show a study's tables.

    On a finished run (``tests/study/test_study.py`` checks it on a small one)::

        md = results_markdown("out/real_data")
    """
    out = Path(out_dir)
    ds = load_study(out)
    info = json.loads(ds.attrs["config"])
    from bellmodels.plots import model_colors

    colors = model_colors([str(m) for m in ds["model"].values])
    doc = Document()
    _point_sections(doc, ds, out, [a["name"] for a in info["axes"]], colors, None)
    text = doc.markdown()
    shift = heading_level - 2  # the report's result sections are level 2
    if shift:
        text = "\n".join(
            ("#" * shift + line) if line.startswith("#") else line for line in text.splitlines()
        )
    return text


def _point_sections(
    doc: Document,
    ds: Any,
    out: Path,
    axes: list[str],
    colors: dict[str, Any],
    fig_dir: Path | None,
) -> None:
    """A results section per sweep point (one, ``main``, without a sweep)."""
    points = list(np.ndindex(*[ds.sizes[a] for a in axes])) if axes else [()]
    for k, idx in enumerate(points):
        sel = dict(zip(axes, idx, strict=True))
        pt = ds.isel(sel) if sel else ds
        heading = f"Results at {_coords_text(ds, axes, idx)}" if sel else "Results"
        point_section(doc, pt, out, heading, f"p{k}" if sel else "main", colors, fig_dir)


def _setup_section(doc: Document, ds: Any, config: dict[str, Any], info: dict[str, Any]) -> None:
    # swept data fields hold the first point's value here: name the sweep instead
    swept = {a["key"][5:] for a in info["axes"] if a["key"].startswith("data.")}
    data = {k: "(swept, see below)" if k in swept else v for k, v in config["data"].items()}
    inf = config["inference"]
    doc.h(2, "Set-up")
    if data["source"] == "simulate":
        src = (
            f"simulated spin-singlet trials (`simulate_singlet`): n_trials = {data.get('n_trials', data.get('trials'))}, "
            f"visibility = {data['visibility']}, seed = {data['seed']}, scenario "
            f"{data['scenario']}, settings uniform unless given"
        )
    elif data["source"] == "dataset":
        one = f"shipped dataset `{data['dataset']}`"
        src = "shipped datasets, one per sweep point (see below)" if "dataset" in swept else one
    else:
        src = f"file `{data['path']}`"
    doc.p(f"**Data**: {src}.")
    doc.p("**Models**: " + ", ".join(f"`{m}`" for m in ds["model"].values) + ".")
    if inf.get("fit", True):
        doc.p(
            f"**Inference** (PyMC): draws = {inf['draws']}, tune = {inf['tune']}, chains = "
            f"{inf['chains']}, seed = {inf['seed']}, sampler = {inf['sampler']}, evidence = "
            f"{inf['evidence']}. Each model is also audited at its parameters (its defaults, the "
            "published values, or the maximum-likelihood values when trained)."
        )
    else:
        doc.p("**Inference**: none (audit only).")
    opts = config["models"].get("options") or {}
    if opts:
        doc.p("**Model options** (from the study file; nested keys joined by `.`):")
        doc.table(["model", "option", "value"], option_rows(opts))
    if info["axes"]:
        doc.p(
            "**Sweep axes**: "
            + "; ".join(f"`{a['key']}` = {a['values']}" for a in info["axes"])
            + f" ({int(np.prod([len(a['values']) for a in info['axes']]))} points)."
        )
    secs = ds.attrs.get("tasks_seconds")
    if secs is not None:
        doc.p(f"**Wall time of the tasks**: {float(secs):.1f} s.")


def option_rows(options: Mapping[str, Any]) -> list[list[str]]:
    """``[model, option, value]`` rows of the study's ``[models.options]``: nested tables
    flattened to dotted keys (``inference.draws``), values written as in the study's JSON
    (``true``, ``[1, 2]``) so a row reads back into the TOML it came from."""
    rows: list[list[str]] = []

    def walk(model: str, prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for k, v in value.items():
                walk(model, f"{prefix}.{k}" if prefix else str(k), v)
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            rows.append([model, prefix or "–", text])

    for model, opts in options.items():
        walk(str(model), "", opts)
    return rows


def _failures(doc: Document, ds: Any, axes: list[str], points: list[tuple[int, ...]]) -> None:
    rows = []
    for idx in points:
        for j, m in enumerate(ds["model"].values):
            status = str(ds["status"].values[(*idx, j)])
            if status and status != "done":
                coords = _coords_text(ds, axes, idx)
                rows.append([m, coords, status, str(ds["error"].values[(*idx, j)])[:300]])
    if rows:
        doc.h(2, "Failed tasks")
        doc.p("These tasks did not finish; re-run the study to retry them.")
        doc.table(["model", "point", "status", "error"], rows)


def _provenance(doc: Document, ds: Any) -> None:
    doc.h(2, "Provenance")
    wall = ds["seconds"].values
    if np.isfinite(wall).any() and "cpu_seconds" in ds:
        models = [str(m) for m in ds["model"].values]
        flat_w = wall.reshape(-1, len(models))
        flat_c = ds["cpu_seconds"].values.reshape(-1, len(models))
        rows = [
            [m, float(np.nansum(flat_w[:, j])), float(np.nansum(flat_c[:, j]))]
            for j, m in enumerate(models)
        ]
        doc.p(
            "Time per model, summed over sweep points (wall: as the task saw it on this "
            "machine; CPU: the task's own process). Tasks shared by several points count once "
            "per point."
        )
        doc.table(["model", "wall (s)", "CPU (s)"], rows)
    versions = json.loads(ds.attrs.get("versions", "{}") or "{}")
    if versions:
        doc.table(["package", "version"], sorted(versions.items()))
    doc.p(
        "Results: `results.nc` (load with `bellmodels.load_study(DIR)`); one NetCDF per task in "
        "`tasks/` (the InferenceData of the fit plus a `bellmodels` group with the audit, the "
        "model's behaviour and ontic table, the resolved configuration and these versions)."
    )
    doc.code(json.dumps(json.loads(ds.attrs["config"])["config"], indent=2))


__all__ = ["MAX_POINT_SECTIONS", "option_rows", "results_markdown", "write_report"]
