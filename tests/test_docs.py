"""The documentation: the site builds offline with -W, demos run and write their numbers, the
notebooks execute, the Quickstart's commands run.

The fixture copies ``docs/`` into a temporary directory, regenerates the docs' own outputs there
at small size (concepts numbers, model cards, demonstrations), and builds the copy with
``python -m sphinx -W`` and the notebooks not executed (``BELLMODELS_DOCS_EXECUTE=off``); the
checked-in tree is never written to. Numbers on the pages are compared with the package's own
computations, so a stale or broken generator fails a test. The slow tests execute every
notebook page in a build of their own, and screenshot the gallery in headless Chromium.
"""

from __future__ import annotations

import html as htmllib
import itertools
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _registry import shipped_model_names

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")
pytest.importorskip("myst_nb")
pytest.importorskip("sphinx_design")
pytest.importorskip("pydata_sphinx_theme")

sys.path.insert(0, str(DOCS / "_ext"))
from bmdocs import is_notebook, public_members  # noqa: E402

DEMOS = ("rbm_violation", "mi_frontier", "equivalence", "real_experiments", "hidden_units")
FAST_DEMOS = ("rbm_violation", "mi_frontier", "real_experiments")


def _run(
    args: list[str],
    cwd: Path,
    timeout: float = 300,
    path: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env.update(extra_env or {})
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _sphinx(
    src: Path, out: Path, execute: str = "off", timeout: float = 1500
) -> subprocess.CompletedProcess:
    """Build ``src`` into ``out`` with -W; ``execute`` is BELLMODELS_DOCS_EXECUTE (docs/conf.py)."""
    return _run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(src),
            str(out),
        ],
        cwd=ROOT,
        timeout=timeout,
        extra_env={"BELLMODELS_DOCS_EXECUTE": execute},
    )


def _copy_docs(dest: Path) -> Path:
    src = dest / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    return src


def notebook_pages() -> list[str]:
    """The docnames of the notebook pages (front matter ``file_format: mystnb``)."""
    return sorted(
        str(p.relative_to(DOCS).with_suffix("")) for p in DOCS.rglob("*.md") if is_notebook(p)
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A temporary copy of docs/ with regenerated small outputs, built with -W."""
    tmp = tmp_path_factory.mktemp("docs")
    src = tmp / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    gen = src / "generated"
    steps = [
        [sys.executable, str(DOCS / "scripts" / "concepts_numbers.py"), "--out", str(gen)],
        [
            sys.executable,
            str(DOCS / "scripts" / "model_cards.py"),
            "--out",
            str(gen),
            "--cards",
            str(src / "models"),
            "--size",
            "small",
        ],
    ]
    steps += [
        [sys.executable, str(DOCS / "demos" / f"{d}.py"), "--size", "small", "--out", str(gen)]
        for d in FAST_DEMOS
    ]
    for cmd in steps:
        res = _run(cmd, cwd=ROOT)
        assert res.returncode == 0, f"{cmd[1]} failed:\n{res.stderr[-3000:]}"
    out = tmp / "html"
    res = _sphinx(src, out)
    return {"src": src, "gen": gen, "html": out, "returncode": res.returncode, "stderr": res.stderr}


def test_site_builds_without_warnings(site: dict[str, Path]) -> None:
    assert site["returncode"] == 0, site["stderr"]
    assert "WARNING" not in str(site["stderr"])
    for page in (
        "index",
        "quickstart",
        "concepts",
        "benchmarks",
        "api",
        "models/index",
        "demos/index",
    ):
        assert (site["html"] / f"{page}.html").exists(), page


NOTEBOOKS = {
    # docnames of the notebook pages, and a string the executed page must show (its physics)
    "demos/rbm_violation": "local & measurement-dependent",
    "demos/mi_frontier": "hall2010",
    "demos/real_experiments": "delft2015",
    "demos/equivalence": "parameter-dependent (nonlocal)",
    "demos/fair_sampling": "weihs1998",
    "demos/evidence_vs_n": "local-polytope",
    "demos/hidden_units": "log BF",
    "tutorials/audit": "parameter-dependent (nonlocal)",
    "tutorials/comparison": "local & measurement-independent",
    "tutorials/real_data": "is not +1 or -1",
}


def test_notebook_pages_show_their_code_and_offer_downloads(site: dict[str, Path]) -> None:
    assert notebook_pages() == sorted(NOTEBOOKS)
    html = site["html"]
    assert "pydata-sphinx-theme" in (html / "index.html").read_text()
    for doc in NOTEBOOKS:
        page = (html / f"{doc}.html").read_text()
        assert "cell_input" in page, doc  # the code is on the page
        stem = Path(doc).name
        assert f'href="{stem}.ipynb" download' in page, doc
        notebook = json.loads((html / f"{doc}.ipynb").read_text())
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert code, doc
        assert notebook["metadata"]["kernelspec"]["name"] == "python3", doc
        script = DOCS / f"{doc}.py"
        if script.exists():  # a demonstration: its script beside the page, and on it
            assert f'href="{stem}.py" download' in page, doc
            assert (html / f"{doc}.py").read_bytes() == script.read_bytes(), doc
            assert any(f"import {stem}" in "".join(c["source"]) for c in code), doc
            assert "def main(" in _text(html / f"{doc}.html"), doc  # the script, in a dropdown


def test_gallery_has_a_thumbnail_card_per_demonstration(site: dict[str, Path]) -> None:
    gallery = site["html"] / "demos" / "index.html"
    text = gallery.read_text()
    demos = [d.split("/")[1] for d in NOTEBOOKS if d.startswith("demos/")]
    cards = re.findall(r'<div class="sd-card[^"]*"[^>]*>.*?</a>', text, flags=re.S)
    linked = {}
    for card in cards:
        link = re.search(r'href="([\w_]+)\.html"', card)
        img = re.search(r'<img[^>]+src="([^"]+)"', card)
        if link and img:
            linked[link.group(1)] = (gallery.parent / img.group(1)).resolve()
    assert sorted(linked) == sorted(demos)
    for demo, image in linked.items():
        assert image.read_bytes()[:4] == b"\x89PNG", demo
        assert image.stat().st_size > 10_000, demo  # a figure, not an empty placeholder


def test_api_pages_have_summary_tables(site: dict[str, Path]) -> None:
    for page in sorted((DOCS / "api").glob("*.md")):
        source = page.read_text()
        html = (site["html"] / "api" / f"{page.stem}.html").read_text()
        modules = re.findall(r"\.\. modsummary:: (\S+)\n(\s+:ignore-module-all:)?", source)
        with_members = [m for m, ignore in modules if public_members(m, bool(ignore))]
        assert html.count('class="autosummary') == len(with_members), page.name
    audit = (site["html"] / "api" / "audit.html").read_text()
    table = audit[audit.index('class="autosummary') :]
    assert 'href="#bellmodels.auditing.audit"' in table  # a row links to the documented object


def test_written_pages_link_into_the_api_reference(site: dict[str, Path]) -> None:
    """Cross-references on the hand-written pages resolve (an unresolved one renders unlinked)."""
    quickstart = (site["html"] / "quickstart.html").read_text()
    assert 'href="api/audit.html#bellmodels.auditing.audit"' in quickstart
    assert 'href="api/audit.html#bellmodels.auditing.AuditReport"' in quickstart
    concepts = (site["html"] / "concepts.html").read_text()
    assert 'href="api/audit.html#bellmodels.ontic.OnticTable"' in concepts


def test_site_loads_nothing_from_the_network(site: dict[str, Path]) -> None:
    remote = re.compile(
        r"""(<script[^>]+src=["']https?:|<link[^>]+href=["']https?:[^>]*stylesheet|@import\s+url\(["']?https?:|<img[^>]+src=["']https?:)"""
    )
    offenders = []
    for path in site["html"].rglob("*"):
        if path.suffix in {".html", ".css", ".js"}:
            if remote.search(path.read_text(encoding="utf-8", errors="replace")):
                offenders.append(path.name)
    assert offenders == []


def test_warning_fails_the_build(tmp_path: Path) -> None:
    """-W really fails: an undefined substitution or a broken link in a page breaks the build.

    The site's own configuration, extensions, theme and numbers, with one good page and one broken
    page: what -W does does not depend on how many other pages there are (the whole site costs a
    full build, which ``site`` already makes)."""
    src = tmp_path / "docs"
    src.mkdir()
    shutil.copy(DOCS / "conf.py", src / "conf.py")
    for folder in ("_ext", "_static", "_templates"):
        shutil.copytree(DOCS / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (src / "generated").mkdir()
    shutil.copy(DOCS / "generated" / "numbers.json", src / "generated" / "numbers.json")
    (src / "good.md").write_text("# Good\n\nS = {{ tsirelson }}, see {doc}`index`.\n")
    (src / "index.md").write_text("# Index\n\n```{toctree}\ngood\n```\n")
    good = _sphinx(src, tmp_path / "good")
    assert good.returncode == 0, good.stderr  # the small site builds: only the page below fails it
    (src / "broken.md").write_text("# Broken\n\n{{ no_such_number }} and {doc}`no-such-page`\n")
    (src / "index.md").write_text("# Index\n\n```{toctree}\ngood\nbroken\n```\n")
    res = _sphinx(src, tmp_path / "html")
    assert res.returncode != 0
    assert "no_such_number" in res.stderr or "no-such-page" in res.stderr


def test_missing_generated_file_is_announced_not_fatal(tmp_path: Path) -> None:
    src = tmp_path / "docs"
    (src / "_ext").mkdir(parents=True)
    shutil.copy(DOCS / "_ext" / "bmdocs.py", src / "_ext" / "bmdocs.py")
    (src / "generated").mkdir()
    (src / "generated" / "present.md").write_text("| a | b |\n|---|---|\n| 1.234 | 5 |\n")
    (src / "conf.py").write_text(
        "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parent / '_ext'))\n"
        "extensions = ['myst_parser', 'bmdocs']\nexclude_patterns = ['generated']\n"
    )
    (src / "index.md").write_text(
        "# T\n\n```{generated} absent.md\n:command: python make_absent.py\n```\n\n"
        "```{generated} present.md\n:command: python make_present.py\n```\n"
    )
    res = _sphinx(src, tmp_path / "html")
    assert res.returncode == 0, res.stderr
    html = _text(tmp_path / "html" / "index.html")
    assert "Not generated yet" in html and "python make_absent.py" in html
    assert "1.234" in html and "python make_present.py" in html


# -- the numbers on the pages are the package's -----------------------------------------------


def _text(html: Path) -> str:
    """The visible text of an HTML page, tags removed, entities decoded, spaces collapsed."""
    text = re.sub(r"<[^>]+>", "", html.read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", htmllib.unescape(text))


def test_concepts_numbers_are_the_packages(site: dict[str, Path]) -> None:
    import bellmodels as bm
    from bellmodels.auditing import audit

    numbers = json.loads((site["gen"] / "numbers.json").read_text())
    assert float(numbers["tsirelson"]) == pytest.approx(2 * math.sqrt(2), abs=1e-4)
    assert float(numbers["hall_M_tsirelson"]) == pytest.approx((2 * math.sqrt(2) - 2) / 3, abs=1e-4)
    singlet = audit(bm.models.get("quantum-singlet")).to_dict()
    assert float(numbers["singlet_min_mi_bits"]) == pytest.approx(singlet["min_mi_bits"], abs=1e-3)
    assert float(numbers["singlet_min_mi_bits"]) > 0  # the singlet needs some MD to be local
    assert float(numbers["equivalent_loglik_max_diff"]) < 1e-6
    text = _text(site["html"] / "concepts.html")
    for key in ("tsirelson", "hall_M_tsirelson", "singlet_min_mi_bits"):
        assert numbers[key] in text, key


def test_every_registered_model_has_a_card(site: dict[str, Path]) -> None:
    import bellmodels as bm
    from bellmodels.auditing import audit

    for name in shipped_model_names():
        page = site["html"] / "models" / f"{name}.html"
        assert page.exists(), name
        text = _text(page)
        report = audit(bm.models.get(name)).to_dict()
        assert report["classification"] in text
        assert f"{report['S']:.3f}" in text
        assert "chi-square" in text


# -- demonstrations ------------------------------------------------------------------------------


def test_rbm_demo_all_violation_is_measurement_dependence(site: dict[str, Path]) -> None:
    results = json.loads((site["gen"] / "demo_rbm_violation.json").read_text())
    machines = {k: v for k, v in results.items() if isinstance(v, dict)}
    assert len(machines) == 2
    for label, r in machines.items():
        assert r["parameter_independence_violation"] < 1e-9, label
        assert r["outcome_independence_violation"] < 1e-9, label
        assert r["S"] > 2.5, label  # violates CHSH...
        assert r["S_without_measurement_dependence"] <= 2 + 1e-9, label  # ...only through MD
        assert r["mi_bits"] >= r["min_mi_bits"] - 1e-6, label
        assert r["mi_bits"] > 0.1, label
        assert r["classification"] == "local & measurement-dependent", label
    md = (site["gen"] / "demo_rbm_violation.md").read_text()
    published = machines["published machine (Table II)"]
    assert f"{published['S']:.3f}" in md
    assert (site["gen"] / "demo_rbm_lambda.png").stat().st_size > 10_000
    assert "demo_rbm_lambda.png" in (site["html"] / "demos" / "rbm_violation.html").read_text()


def test_mi_frontier_demo(site: dict[str, Path]) -> None:
    results = json.loads((site["gen"] / "demo_mi_frontier.json").read_text())
    s = results["curve"]["S"]
    mi = results["curve"]["min_mi_bits"]
    assert mi[0] == pytest.approx(0, abs=1e-6)  # S <= 2 needs no measurement dependence
    for si, m in zip(s, mi, strict=True):
        if si <= 2 - 1e-6:
            assert m == pytest.approx(0, abs=1e-5)
        elif si > 2 + 1e-3:
            assert m > 0
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(mi))  # non-decreasing in S
    for name, point in results["models"].items():
        assert point["mi_bits"] >= point["min_mi_bits"] - 1e-6, name
        assert point["S"] <= min(4, 2 + 3 * point["hall_M"]) + 1e-6, name
    assert (site["gen"] / "demo_mi_frontier.png").stat().st_size > 10_000


def test_real_experiments_demo_reproduces_published_S(site: dict[str, Path]) -> None:
    results = json.loads((site["gen"] / "demo_real_experiments.json").read_text())
    for name in ("delft2015", "weihs1998"):
        r = results[name]
        assert round(r["S"], 2) == pytest.approx(r["published_S"]), name
        assert round(r["S_se"], 2) == pytest.approx(r["published_S_se"]), name
        assert 0 < r["min_mi_bits"] < 1, name  # S > 2: a local model needs some MI
        assert r["min_hall_M"] >= (r["S"] - 2) / 3 - 1e-6, name  # Hall's bound
    md = (site["gen"] / "demo_real_experiments.md").read_text()
    assert f"{results['weihs1998']['S']:.3f}" in md


@pytest.mark.slow
@pytest.mark.parametrize("demo", [d for d in DEMOS if d not in FAST_DEMOS])
def test_slow_demos_run_small(demo: str, tmp_path: Path) -> None:
    res = _run(
        [
            sys.executable,
            str(DOCS / "demos" / f"{demo}.py"),
            "--size",
            "small",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        timeout=1200,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads((tmp_path / f"demo_{demo}.json").read_text())
    assert data["size"] == "small"
    assert (tmp_path / f"demo_{demo}.md").read_text().count("|") > 10
    if demo == "equivalence":
        rows = data["models"]
        exact = [
            n
            for n in ("quantum-singlet", "toner-bacon", "brans", "hall2010", "dlr-one-sided")
            if n in rows
        ]
        assert len(exact) >= 2
        elpd = [rows[n]["elpd_loo"] for n in exact]
        # same likelihood, same priors: LOO agrees far inside its standard error
        assert max(elpd) - min(elpd) < 1.0  # nats, while each elpd's own se is tens of nats
        for n in exact:
            assert abs(rows[n]["elpd_diff"]) <= 2 * rows[n]["dse"] + 0.5, n
        assert len({rows[n]["classification"] for n in exact}) >= 3  # the audit separates them


# -- every notebook executes; the gallery in a browser ----------------------------------------


@pytest.mark.slow
def test_every_notebook_executes(tmp_path: Path) -> None:
    """A build that runs every notebook page (BELLMODELS_DOCS_EXECUTE=all), the slow ones included.

    The demonstrations run their scripts at ``--size small`` (equivalence: 2,000 trials and 2
    chains of 300 draws per model; fair_sampling: 2 chains of 100 draws; evidence_vs_n: three
    values of n, half the particles), so this takes tens of minutes on two cores.
    """
    src = tmp_path / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    html = tmp_path / "html"
    res = _sphinx(src, html, execute="all", timeout=4 * 3600)
    assert res.returncode == 0, res.stderr[-5000:]
    for doc, expected in NOTEBOOKS.items():
        notebook = json.loads((html / f"{doc}.ipynb").read_text())
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] is not None for c in code), doc
        outputs = [o for c in code for o in c["outputs"]]
        assert outputs and not any(o["output_type"] == "error" for o in outputs), doc
        assert expected in _text(html / f"{doc}.html"), doc


@pytest.mark.slow
def test_screenshots_show_the_gallery(site: dict[str, Path], tmp_path: Path) -> None:
    """docs/scripts/screenshot.py: the gallery and a demo page rendered by headless Chromium."""
    if shutil.which("chromium") is None and not Path("/usr/bin/chromium").is_file():
        pytest.skip("no Chromium installed (Debian: apt-get install chromium)")
    res = _run(
        [
            sys.executable,
            str(DOCS / "scripts" / "screenshot.py"),
            "--html",
            str(site["html"]),
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "thumbnails' colours" in res.stdout
    for name in ("gallery", "demo"):
        assert (tmp_path / f"{name}.png").stat().st_size > 50_000, name


# -- the Quickstart's commands ------------------------------------------------------------------


def quickstart_commands() -> list[str]:
    """The ``$ `` lines of the ``console`` blocks of docs/quickstart.md, in order."""
    text = (DOCS / "quickstart.md").read_text()
    commands = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        commands += [line[2:].strip() for line in block.splitlines() if line.startswith("$ ")]
    return commands


def _is_slow(command: str) -> bool:
    return "pip install" in command or command.startswith(("bellmodels run", "bellmodels report"))


def test_quickstart_has_the_main_job() -> None:
    commands = quickstart_commands()
    assert "bellmodels run weinstein2017 --out results/weinstein2017" in commands
    assert any(not _is_slow(c) for c in commands)


@pytest.mark.parametrize("command", [c for c in quickstart_commands() if not _is_slow(c)])
def test_quickstart_fast_commands(command: str, tmp_path: Path) -> None:
    res = _run(shlex.split(command), cwd=tmp_path, timeout=120)
    assert res.returncode == 0, f"{command}: {res.stderr[-2000:]}"
    assert res.stdout.strip(), command
    if command.endswith("--json"):
        json.loads(res.stdout)


@pytest.mark.slow
def test_quickstart_whole_page_in_order(tmp_path: Path) -> None:
    """Every command, install and main job included, run in order in a copy of the repo."""
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT,
        repo,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "venv",
            "results",
            "out",
            "_build",
            "__pycache__",
            "*.egg-info",
            ".pytest_cache",
            ".ruff_cache",
        ),
    )
    # a virtual environment that sees the installed dependencies, so `pip install -e .` installs
    # into it (pointing at the copy) and never re-points the developer's own installation
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    path = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    for command in quickstart_commands():
        res = _run(shlex.split(command), cwd=repo, timeout=1800, path=path)
        assert res.returncode == 0, f"{command}: {res.stderr[-2000:]}"
    assert (repo / "results" / "weinstein2017" / "report.md").exists()
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / "quickstart.md").read_text(), flags=re.S)
    assert blocks
    for code in blocks:
        res = _run(["python", "-c", code], cwd=repo, timeout=1800, path=path)
        assert res.returncode == 0, res.stderr[-2000:]
        assert "quantum-singlet" in res.stdout and "classification" in res.stdout
