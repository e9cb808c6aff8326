"""All tests of local realism on one count table (:func:`significance`), and their rows for the audit and the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bellmodels._util import renamed_keywords
from bellmodels.data import Counts, Trials
from bellmodels.significance._display import fmt_p, html_table
from bellmodels.significance._input import _as_counts, _settings
from bellmodels.significance.bayes import bayesian_answers
from bellmodels.significance.factors import TestFactorResult, test_factor_test
from bellmodels.significance.games import CHSHGame, chsh_game
from bellmodels.significance.likelihood_ratio import LikelihoodRatioResult, likelihood_ratio_test


@dataclass(frozen=True)
class Significance:
    """Result of :func:`significance`; :meth:`to_dict` gives the JSON of ``bellmodels test``."""

    source: str
    n_trials: int
    settings_distribution: list[Any]
    chsh_game: CHSHGame
    test_factor: TestFactorResult
    likelihood_ratio: LikelihoodRatioResult
    posterior_p_s_gt_2: float | None = None
    log_bayes_factor_local_vs_ns: float | None = None
    log_bayes_factor_se: float | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the fields above, each test's result as a nested dict.

        >>> from bellmodels import datasets
        >>> d = significance(datasets.load("delft2015"), bootstrap=0).to_dict()
        >>> sorted(d["chsh_game"])[:3], d["posterior_p_s_gt_2"]
        (['n', 'p_value', 'p_value_any_variant'], None)
        """
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d

    def summary_rows(self) -> list[tuple[str, str]]:
        """(test, result) rows for a text or Markdown table.

        >>> from bellmodels import datasets
        >>> significance(datasets.load("delft2015"), bootstrap=0).summary_rows()[0][0]
        'CHSH game'
        """
        g, t, lr = self.chsh_game, self.test_factor, self.likelihood_ratio
        rows = [
            (
                "CHSH game",
                f"{g.wins} wins of {g.n} (local bound {g.win_probability_bound:.4g}), "
                f"p = {g.p_value:.3g}",
            ),
            (
                "test factors",
                f"log10 p <= {t.log10_p:.3g} ({t.n_test} test trials, {t.n_train} training)",
            ),
        ]
        lr_text = f"G = {lr.statistic:.4g}, asymptotic p = {lr.asymptotic_p_value:.3g}"
        if lr.p_value is not None:
            lr_text += f", bootstrap p = {lr.p_value:.3g} ({lr.bootstrap} replicates)"
        rows.append(("likelihood ratio (local vs NS)", lr_text))
        if self.posterior_p_s_gt_2 is not None:
            rows.append(("posterior P(S > 2)", f"{self.posterior_p_s_gt_2:.3g}"))
        if self.log_bayes_factor_local_vs_ns is not None:
            rows.append(
                (
                    "log BF (local : NS)",
                    f"{self.log_bayes_factor_local_vs_ns:.3g} ± {self.log_bayes_factor_se:.2g}",
                )
            )
        return rows

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.summary_rows())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.summary_rows())

    def __repr__(self) -> str:
        """One line: source, trials and the three p-values.

        >>> from bellmodels import datasets
        >>> significance(datasets.load("delft2015"), bootstrap=0)
        Significance(source='delft2015', n_trials=245, chsh_game_p=0.0391, test_factor_log10_p=0, likelihood_ratio_p=-)
        """
        return (
            f"Significance(source={self.source!r}, n_trials={self.n_trials}, "
            f"chsh_game_p={fmt_p(self.chsh_game.p_value)}, "
            f"test_factor_log10_p={self.test_factor.log10_p:.3g}, "
            f"likelihood_ratio_p={fmt_p(self.likelihood_ratio.p_value)})"
        )

    def _repr_html_(self) -> str:
        """The summary table (:meth:`summary_rows`) as HTML, with the notes below it."""
        rows = self.summary_rows() + [("note", n) for n in self.notes]
        return html_table(f"tests of local realism on {self.source} ({self.n_trials} trials)", rows)


@renamed_keywords(progress="progressbar", settings_probs="setting_probs")
def significance(
    counts: Counts | Trials,
    setting_probs: Any = None,
    *,
    train_fraction: float = 0.2,
    bootstrap: int = 200,
    seed: int = 0,
    bayesian: bool = False,
    progressbar: bool = False,
) -> Significance:
    """p-values of local realism valid with memory: CHSH game, test factors, likelihood ratio.

    Parameters
    ----------
    counts
        A :class:`~bellmodels.data.Counts` (or :class:`~bellmodels.data.Trials`: then the
        test-factor split follows the time order).
    setting_probs
        The design's setting distribution; default uniform (the fair random bits of every
        loophole-free experiment shipped).
    train_fraction
        Training fraction of the test-factor split (:func:`test_factor_test`).
    bootstrap
        Replicates of the likelihood-ratio bootstrap (0 skips it).
    seed
        Seed of the training split and of the bootstrap.
    bayesian
        Also fit the no-signalling model and estimate the evidences (slow, see
        :func:`bayesian_answers`).
    progressbar
        Bootstrap progress on stderr.

    Returns
    -------
    Significance

    Examples
    --------
    >>> from bellmodels import datasets
    >>> r = significance(datasets.load("delft2015"), bootstrap=50, seed=0)
    >>> round(r.chsh_game.p_value, 3), r.likelihood_ratio.bootstrap, r.test_factor.n_test
    (0.039, 50, 196)
    """
    trials = counts if isinstance(counts, Trials) else None
    counts = _as_counts(counts)
    ps = _settings(counts.scenario, setting_probs)
    game = chsh_game(counts, ps)
    tf = test_factor_test(
        trials if trials is not None else counts, ps, train_fraction=train_fraction, seed=seed
    )
    lr = likelihood_ratio_test(counts, bootstrap=bootstrap, seed=seed, progressbar=progressbar)
    notes = []
    if game.variant_from_data:
        notes.append(
            "the CHSH variant was chosen from the data; if it was not fixed in advance use "
            f"p_value_any_variant = {game.p_value_any_variant:.3g}"
        )
    bayes: dict[str, float | None] = {}
    if bayesian:
        bayes = bayesian_answers(counts, seed=seed)
    name = counts.provenance.get("name") or counts.provenance.get("source") or "data"
    return Significance(
        source=str(name),
        n_trials=counts.total,
        settings_distribution=ps.tolist(),
        chsh_game=game,
        test_factor=tf,
        likelihood_ratio=lr,
        notes=tuple(notes),
        **bayes,  # type: ignore[arg-type]
    )


def audit_section(counts: Counts, *, as_json: bool = False) -> Any:
    """The significance block of the data-level audit (``bellmodels audit --data``).

    Without bootstrap (fast): a dict for the audit's JSON (key ``significance``) or the text
    block printed under the audit table. The one call the audit output needs.

    >>> from bellmodels import datasets
    >>> print(audit_section(datasets.load("delft2015")).splitlines()[1][:40])
    CHSH game                       196 wins
    """
    r = significance(counts, bootstrap=0)
    if as_json:
        return r.to_dict()
    return "significance (p-values of local realism valid with memory; `bellmodels test`)\n" + str(
        r
    )


def report_table(
    data_config: dict[str, Any], axes: list[dict[str, Any]]
) -> tuple[str, list[str], list[list[str]]] | None:
    """(title, header, rows) of a study report's significance table, or None.

    Only for a study on one shipped dataset (``data.source = "dataset"``, not swept); the one
    call a study report needs.

    >>> title, header, rows = report_table({"source": "dataset", "dataset": "delft2015"}, [])
    >>> title, header, rows[0][0]
    ('Significance', ['test', 'result'], 'CHSH game')
    """
    from bellmodels import datasets

    swept = any(a.get("key") == "data.dataset" for a in axes)
    if data_config.get("source") != "dataset" or swept:
        return None
    r = significance(datasets.load(str(data_config["dataset"])), bootstrap=0)
    rows = [[k, v] for k, v in r.summary_rows()]
    rows.append(
        ["command", f"`bellmodels test --data {data_config['dataset']}` (adds a bootstrap)"]
    )
    return "Significance", ["test", "result"], rows


__all__ = [
    "Significance",
    "audit_section",
    "report_table",
    "significance",
]
