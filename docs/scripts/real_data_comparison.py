"""Every model on the shipped real data sets (Delft 2015, Weihs 1998, Vienna 2015), from a run of
the study.

Reads a finished ``bellmodels run real_data --out DIR`` (the study holds the
models, the data and the inference sizes; this script fits nothing) and writes
``docs/generated/real_data_comparison.md`` (atomically): for each data set the report's results
sections (:func:`bellmodels.report.results_markdown`): the comparison by exact per-trial
PSIS-LOO with stacking weights, log Bayes factors with their errors and posterior model
probabilities, the diagnostics gate and the audit of every model.

Run::

    bellmodels run real_data --out results/real_data
    python docs/scripts/real_data_comparison.py --study-dir results/real_data
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docgen import GENERATED, provenance, write_atomic

COMMAND = "python docs/scripts/real_data_comparison.py --study-dir results/real_data"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--study-dir",
        type=Path,
        default=Path("results/real_data"),
        help="output of `bellmodels run real_data` (default results/real_data)",
    )
    p.add_argument("--out", type=Path, default=GENERATED, help="directory to write into")
    args = p.parse_args(argv)
    from bellmodels.report import results_markdown
    from bellmodels.studies import names as shipped_names
    from bellmodels.studies import path as shipped_study

    study = args.study_dir / "study.json"
    if not study.is_file():
        raise SystemExit(
            f"{study} does not exist: run `bellmodels run real_data --out {args.study_dir}` first"
        )
    rec = json.loads(study.read_text())
    inf = rec["config"]["inference"]
    # the shipped study by its name, not by where this checkout keeps it
    source = Path(rec["source"])
    if source.stem in shipped_names() and source.resolve() == shipped_study(source.stem).resolve():
        source = Path(source.stem)
    parts = [
        provenance(COMMAND),
        "",
        f"From `bellmodels run {source}`: every model fitted with "
        f"{inf['chains']} chains x {inf['draws']} draws after {inf['tune']} tuning steps (the "
        "study file sets more draws for the machines), seed "
        f"{inf['seed']}, log evidence by {inf['evidence_method']} (its error: the spread of "
        "independent runs). Rows are best first among the fits that pass the diagnostics gate; "
        "fits that fail it are listed after them, unweighted.",
        "",
        results_markdown(args.study_dir, heading_level=2),
    ]
    path = write_atomic(args.out / "real_data_comparison.md", "\n".join(parts) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
