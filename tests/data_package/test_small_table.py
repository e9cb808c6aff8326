"""The small count-table reader (no pandas) agrees with the pandas reader on every file: the same
counts, rows and kind for a valid table, the same error (message, line, column) for a bad one,
because whatever it does not accept as plainly valid it leaves to pandas (issue #28 item 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bellmodels.data.files as files
from bellmodels import Scenario, datasets, read_counts
from bellmodels.data import DataFormatError
from bellmodels.data._small_table import SMALL_BYTES, small_count_table
from bellmodels.data.format import _preamble

HEAD = "setting_a,setting_b,outcome_a,outcome_b,count\n"
ROWS = "a,b,+1,+1,23\na,b,-1,-1,7\na',b',+1,-1,5\n1,0,-1,+1,4\n"
CASES = {
    "plain": HEAD + ROWS,
    "crlf and bom": "\ufeff" + (HEAD + ROWS).replace("\n", "\r\n"),
    "columns reordered": "count,outcome_b,outcome_a,setting_b,setting_a\n3,+1,-1,b,a\n",
    "quoted and spaced header": '"setting_a", setting_b,outcome_a,outcome_b ,count\na,b,1,-1,2\n',
    "preamble and kind": "# from the lab\n# kind: post-selected\n" + HEAD + ROWS,
    "quote in a comment": '# an "unbalanced quote\n' + HEAD + ROWS,
    "header only": HEAD,
    "zero counts": HEAD + "a,b,+1,+1,0\n",
    "float count": HEAD + "a,b,+1,+1,12.0\n",
    "exponent count": HEAD + "a,b,+1,+1,1e3\n",
    "spaced count": HEAD + "a,b,+1,+1, 12\n",
    "spaced outcome": HEAD + "a,b, +1,+1,12\n",
    "negative count": HEAD + "a,b,+1,+1,-3\n",
    "fractional count": HEAD + "a,b,+1,+1,2.5\n",
    "word count": HEAD + "a,b,+1,+1,many\n",
    "empty count": HEAD + "a,b,+1,+1,\n",
    "NA setting": HEAD + "NA,b,+1,+1,3\n",
    "unknown setting": HEAD + "c,b,+1,+1,3\n",
    "bad outcome": HEAD + "a,b,0,+1,3\n",
    "duplicate cell": HEAD + "a,b,+1,+1,3\na,b,+1,+1,4\n",
    "short row": HEAD + "a,b,+1,+1\n",
    "long row": HEAD + "a,b,+1,+1,3,9\n",
    "blank line inside": HEAD + "a,b,+1,+1,3\n\na,b,-1,-1,4\n",
    "trailing blank line": HEAD + "a,b,+1,+1,3\n\n",
    "over MAX_COUNT": HEAD + f"a,b,+1,+1,{2**53}\na,b,-1,-1,1\n",
    "huge count": HEAD + f"a,b,+1,+1,{2**60}\n",
    "extra column": "setting_a,setting_b,outcome_a,outcome_b,count,x\na,b,+1,+1,3,1\n",
    "duplicate column": "setting_a,setting_b,outcome_a,outcome_b,count,count\na,b,+1,+1,3,1\n",
    "bad kind": "# kind: sometimes\n" + HEAD + ROWS,
}


def read(path: Path, small: bool, **kw) -> tuple[str, object]:
    """``("ok", (values, provenance, kind))`` or ``("error", (type, message))``."""
    saved = files.small_count_table
    if not small:
        files.small_count_table = lambda *a: None
    try:
        c = read_counts(path, **kw)
        return "ok", (c.values.tolist(), c.provenance, c.kind)
    except (DataFormatError, ValueError) as exc:
        return "error", (type(exc).__name__, str(exc))
    finally:
        files.small_count_table = saved


@pytest.mark.parametrize("name", sorted(CASES))
def test_small_reader_agrees_with_pandas(tmp_path: Path, name: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(CASES[name].encode("utf-8"))
    assert read(path, small=True) == read(path, small=False)
    if name in {"plain", "crlf and bom", "preamble and kind", "quote in a comment"}:
        # the plainly valid ones are the small reader's own (not handed on to pandas)
        assert small_count_table(path, Scenario.chsh(), _preamble(path).lines) is not None
        status, (values, provenance, _) = read(path, small=True)
        assert status == "ok" and provenance["rows"] == 4 and np.sum(values) == 39


def test_a_kind_given_against_the_files_is_refused_by_both(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(CASES["preamble and kind"])
    small, big = read(path, True, kind="complete"), read(path, False, kind="complete")
    assert small == big and small[0] == "error" and "line 2" in str(small[1])


def test_a_large_file_goes_to_the_streaming_reader(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("# " + "x" * SMALL_BYTES + "\n" + HEAD + ROWS)
    assert small_count_table(path, Scenario.chsh(), 1) is None
    assert read(path, small=True)[0] == "ok"


@pytest.mark.parametrize("name", datasets.names())
def test_shipped_datasets_read_alike_and_without_pandas(name: str) -> None:
    scn = datasets.scenario(name)
    assert read(datasets.path(name), True, scenario=scn) == read(
        datasets.path(name), False, scenario=scn
    )
    code = (
        "import sys; from bellmodels import datasets\n"
        f"c = datasets.load({name!r}); print(c.total, 'pandas' in sys.modules, "
        "'xarray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    total, pandas, xarray = out.stdout.split()
    assert int(total) == datasets.load(name).total and (pandas, xarray) == ("False", "False")
