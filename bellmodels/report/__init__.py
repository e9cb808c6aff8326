"""The report of a study run, read from its results store (:mod:`bellmodels.study.store`).

:mod:`~bellmodels.report.document` holds the document model (blocks rendered to Markdown and
HTML), :mod:`~bellmodels.report.sections` the sections and :func:`write_report`. Nothing in
:mod:`bellmodels.study` imports this package: ``bm.run_study`` runs the study, then calls
:func:`write_report`.
"""

from __future__ import annotations

from bellmodels.report.sections import results_markdown, write_report

__all__ = ["results_markdown", "write_report"]
