"""The report of a study run, read from its results store (:mod:`bellmodels.study.store`).

:mod:`~bellmodels.report.document` holds the document model (blocks rendered to Markdown and
HTML, a table of contents, collapsible parts), :mod:`~bellmodels.report.sections` the page and
:func:`write_report`, :mod:`~bellmodels.report.point` the results of one sweep point,
:mod:`~bellmodels.report.sweeps` the sweep tables and figures and
:mod:`~bellmodels.report.bayes_factors` the Bayes factors. Nothing in
:mod:`bellmodels.study` imports this package: ``bm.run_study`` runs the study, then calls
:func:`write_report`.
"""

from __future__ import annotations

from bellmodels.report.sections import results_markdown, write_report

__all__ = ["results_markdown", "write_report"]
