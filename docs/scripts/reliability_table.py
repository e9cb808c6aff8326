"""Run the robustness probes (``tests/robustness``) and write their table for the Reliability page.

Every test in ``tests/robustness/`` (every ``test_*.py`` there, whoever wrote it) states its probe
in the first line of its docstring, ``probe: <what the user does> -> <what must happen>``. This
script runs each file in its own ``pytest`` process (``--junitxml``; a file that does not finish
within ``--timeout`` seconds is a **hang** for every test it holds), reads each test's outcome and
its probe (from the source, with :mod:`ast`), and writes ``docs/generated/reliability_probes.md``:
the counts, then one row per probe.

The counts the page promises are zero are derived from failed probes:

- *tracebacks*: a probe that failed with an exception other than an assertion (the program
  raised where it must not), or whose probe promises no traceback;
- *silently-wrong results*: a failed probe that promises the same, identical or new results,
  or that an error is named instead of a wrong result;
- *writes outside the output directory*: a failed probe about writing inside or outside;
- *hangs*: tests of a file that ran out of time.

A failed probe is counted in each class its text names (and always under "failed").

Run: ``python docs/scripts/reliability_table.py`` (the fast probes) or with ``--slow`` (also the
``@pytest.mark.slow`` ones: kill -9 at ten random moments, a full tmpfs). Run it from the
repository root with the interpreter whose line you want to record.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "docs" / "generated"
PROBE = re.compile(r"^\s*probe:\s*(?P<does>.*?)\s*->\s*(?P<must>.*)$", re.S)

WRONG_WORDS = ("same", "identical", "equal", "new data", "changed", "no result", "instead of")
OUTSIDE_WORDS = ("outside", "inside", "nothing elsewhere", "leave")


@dataclass
class Probe:
    """One test: its file, name, probe text and outcome."""

    file: str
    name: str
    does: str
    must: str
    outcome: str = "not run"
    detail: str = ""
    seconds: float = 0.0
    exception: bool = False


def probes_of(path: Path) -> dict[str, tuple[str, str]]:
    """``{test function name: (does, must)}`` from the first docstring line of each test."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            doc = (ast.get_docstring(node) or "").strip().splitlines()
            m = PROBE.match(doc[0]) if doc else None
            out[node.name] = (m["does"], m["must"]) if m else ("(no probe docstring)", "")
    return out


def run_file(path: Path, slow: bool, timeout: float) -> tuple[list[Probe], bool]:
    """Run one test file under pytest; its probes with outcomes, and whether it hung."""
    probes = probes_of(path)
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", str(path.relative_to(ROOT)), "-q"]
        cmd += ["-p", "no:cacheprovider", f"--junitxml={xml}", "-o", "junit_family=xunit1"]
        cmd += ["-m", "slow or not slow" if slow else "not slow"]
        env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
        try:
            subprocess.run(cmd, cwd=ROOT, env=env, timeout=timeout, capture_output=True)
        except subprocess.TimeoutExpired:
            return [
                Probe(path.name, n, d, m, "hang", f"no result within {timeout:.0f} s")
                for n, (d, m) in probes.items()
            ], True
        rows = []
        for case in ET.parse(xml).getroot().iter("testcase"):
            name = case.get("name", "")
            does, must = probes.get(name.split("[")[0], ("(no probe docstring)", ""))
            p = Probe(path.name, name, does, must, "passed", seconds=float(case.get("time", 0)))
            for tag in ("failure", "error", "skipped"):
                el = case.find(tag)
                if el is not None:
                    p.outcome = "skipped" if tag == "skipped" else "failed"
                    p.detail = (
                        (el.get("message") or "").splitlines()[0][:160] if el.get("message") else ""
                    )
                    kind = el.get("type") or ""
                    p.exception = tag == "error" or (
                        tag == "failure" and "AssertionError" not in kind + p.detail
                    )
            rows.append(p)
        ran = {p.name.split("[")[0] for p in rows}
        rows += [  # deselected (slow) or not collected: listed, not hidden
            Probe(path.name, n, d, m, "not run", "slow: run with --slow" if not slow else "")
            for n, (d, m) in probes.items()
            if n not in ran
        ]
        return rows, False


def classify(p: Probe) -> set[str]:
    """The promise classes a failed or hung probe breaks (see the module docstring)."""
    if p.outcome == "hang":
        return {"hang"}
    if p.outcome != "failed":
        return set()
    text = f"{p.does} {p.must}".lower()
    out = {"failed"}
    if p.exception or "traceback" in text:
        out.add("traceback")
    if any(w in text for w in WRONG_WORDS):
        out.add("wrong")
    if any(w in text for w in OUTSIDE_WORDS):
        out.add("outside")
    return out


def render(probes: list[Probe], slow: bool, seconds: float) -> str:
    """The Markdown of the page's table (counts, then one row per probe)."""
    classes = [classify(p) for p in probes]

    def n(cls: str) -> int:
        return sum(cls in c for c in classes)

    count = {
        o: sum(p.outcome == o for p in probes) for o in ("passed", "failed", "skipped", "not run")
    }
    files = sorted({p.file for p in probes})
    lines = [
        f"Probes run: {len(probes)} tests in {len(files)} files of `tests/robustness/` "
        f"({'fast and slow' if slow else 'fast only; slow ones with --slow'}), "
        f"Python {platform.python_version()}, {seconds:.0f} s.",
        "",
        "| outcome | count |",
        "|---|---|",
        f"| passed | {count['passed']} |",
        f"| failed | {count['failed']} |",
        f"| skipped | {count['skipped']} |",
        f"| not run (slow) | {count['not run']} |",
        f"| silently-wrong results | {n('wrong')} |",
        f"| writes outside the output directory | {n('outside')} |",
        f"| hangs | {n('hang')} |",
        f"| tracebacks | {n('traceback')} |",
        f"| tests without a probe docstring | "
        f"{sum(p.does == '(no probe docstring)' for p in probes)} |",
        "",
        "| file | test | the user does | what must happen | outcome |",
        "|---|---|---|---|---|",
    ]
    seen: set[tuple[str, str]] = set()
    for p in probes:
        base = p.name.split("[")[0]
        group = [q for q in probes if q.file == p.file and q.name.split("[")[0] == base]
        if (p.file, base) in seen:
            continue
        seen.add((p.file, base))
        outcomes = sorted({q.outcome for q in group})
        label = f"{outcomes[0]} ({len(group)} cases)" if len(group) > 1 else outcomes[0]
        if len(outcomes) > 1:
            label = ", ".join(f"{sum(q.outcome == o for q in group)} {o}" for o in outcomes)
        details = "; ".join(sorted({q.detail for q in group if q.outcome != "passed" and q.detail}))
        details = details.replace("\n", " ")
        if details:
            label += f": {details}"
        cells = [p.file, f"`{base}`", p.does, p.must, label]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slow", action="store_true", help="also the @pytest.mark.slow probes")
    ap.add_argument("--out", type=Path, default=GENERATED, help="output directory")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per file (900/3600)")
    ap.add_argument("--tests", type=Path, default=ROOT / "tests" / "robustness")
    args = ap.parse_args(argv)
    timeout = args.timeout or (3600.0 if args.slow else 900.0)
    t0 = time.perf_counter()
    probes: list[Probe] = []
    for path in sorted(args.tests.resolve().glob("test_*.py")):
        rows, hung = run_file(path, args.slow, timeout)
        probes.extend(rows)
        print(f"{path.name}: {len(rows)} tests{' (hang)' if hung else ''}", file=sys.stderr)
    text = render(probes, args.slow, time.perf_counter() - t0)
    sys.path.insert(0, str(ROOT))
    from bellmodels._util import write_atomic

    target = write_atomic(args.out / "reliability_probes.md", text)
    print(target)
    bad = sum(bool(classify(p)) for p in probes)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
