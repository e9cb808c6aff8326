"""A CSV file says what kind of count table it holds: ``# kind: complete|post-selected``.

The comment line before the header carries :attr:`Counts.kind` (the same name as the NetCDF
attribute, the datasets' provenance key and the ``kind=`` keyword); the reader validates it and
names the file and line, and line numbers of later errors count the comment lines.
"""

from __future__ import annotations

import numpy as np
import pytest

from bellmodels import Counts, Scenario, Trials, read_counts, write_counts
from bellmodels.data import read_trials
from bellmodels.data.format import DataFormatError

HEADER = "setting_a,setting_b,outcome_a,outcome_b,count\n"


def test_declared_kind_is_read_and_free_comments_are_skipped(tmp_path) -> None:
    f = tmp_path / "t.csv"
    f.write_text(
        "# Weihs et al. 1998, coincidences\n# kind: post-selected\n" + HEADER + "0,0,+1,+1,7\n"
    )
    c = read_counts(f)
    assert c.kind == "post-selected" and c.total == 7 and c.values[0, 0, 1, 1] == 7
    assert read_counts(f, kind="post-selected").kind == "post-selected"


def test_a_kind_that_is_not_a_table_kind_names_the_file_and_line(tmp_path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("# note\n# kind: coincidences\n" + HEADER)
    with pytest.raises(DataFormatError) as err:
        read_counts(f)
    assert (err.value.line, err.value.field) == (2, "kind")
    assert str(err.value).startswith(f"{f}: line 2, column 'kind': kind 'coincidences' is not")


def test_two_kind_lines_are_refused(tmp_path) -> None:
    f = tmp_path / "two.csv"
    f.write_text("# kind: complete\n# kind: complete\n" + HEADER)
    with pytest.raises(DataFormatError, match="line 2, column 'kind': a second '# kind:' line"):
        read_counts(f)


def test_a_kind_argument_that_contradicts_the_file_is_refused(tmp_path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("# kind: complete\n" + HEADER)
    with pytest.raises(DataFormatError, match=r"line 1, column 'kind'.*'complete' differs"):
        read_counts(f, kind="post-selected")


def test_line_numbers_count_the_comment_lines(tmp_path) -> None:
    f = tmp_path / "n.csv"
    f.write_text("# kind: complete\n# x\n" + HEADER + "0,0,+1,+1,3\n0,1,+1,0,2\n")
    with pytest.raises(DataFormatError) as err:
        read_counts(f)
    assert (err.value.line, err.value.field) == (5, "outcome_b")
    g = tmp_path / "fields.csv"
    g.write_text("# kind: complete\n" + HEADER + "0,0,+1,+1,3\n0,1,+1,+1,3,9\n")
    with pytest.raises(DataFormatError, match="line 4: row has 6 fields"):
        read_counts(g)
    h = tmp_path / "only.csv"
    h.write_text("# kind: complete\n")
    with pytest.raises(DataFormatError, match="line 2: empty file"):
        read_counts(h)


def test_write_and_read_back_each_kind_and_none(tmp_path) -> None:
    scn = Scenario.chsh()
    values = np.arange(16).reshape(2, 2, 2, 2)
    for kind in ("complete", "post-selected", None):
        f = write_counts(Counts(values, scn, kind=kind), tmp_path / f"{kind}.csv")
        first = f.read_text().splitlines()[0]
        assert first == (f"# kind: {kind}" if kind else HEADER.strip())
        back = read_counts(f)
        assert back.kind == kind and np.array_equal(back.values, values)
        rows = write_counts(
            Counts(values, scn, kind=kind), tmp_path / f"r{kind}.csv", form="trials"
        )
        assert read_counts(rows).kind == kind and read_trials(rows).counts() == back


def test_trials_carry_no_kind(tmp_path) -> None:
    t = Trials(Scenario.chsh(), [0, 1], [1, 1], [1, -1], [-1, -1])
    f = write_counts(t, tmp_path / "t.csv", form="trials")
    assert f.read_text().startswith("setting_a,") and read_counts(f).kind is None
