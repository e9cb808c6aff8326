"""Every public name is in the glossary (docs/api/glossary.md), and no forbidden synonym is used.

Collected from the code, not from a list kept by hand: the CLI flags from the argparse parsers,
the TOML keys from the study schema, the JSON keys of an audit and of a comparison row, the
variables of a study's ``results.nc`` and the keyword names of the functions of ``bellmodels``
(``bm.*``). A name the glossary does not list for that place fails, and so does a name the
glossary lists as a forbidden synonym (issue #24: one name per concept).
"""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path

import pytest

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "api" / "glossary.md"
PLACES = ("Python", "CLI", "TOML", "JSON", "NetCDF")


def parse_glossary(text: str) -> tuple[dict[str, set[str]], dict[str, str]]:
    """``({place: names}, {forbidden synonym: name to use})`` from the glossary's two tables.

    A row of the names table is ``| `name` | meaning | where |``; ``where`` lists the places
    (``Python, CLI, TOML, JSON, NetCDF``); a CLI flag is ``--name`` with ``-`` for ``_`` unless
    the row spells its flags in backticks (``CLI `--out` ``). A row of the synonyms table is
    ``| `old` | `new` |``.
    """
    names: dict[str, set[str]] = {p: set() for p in PLACES}
    forbidden: dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip().lower()
            continue
        cells = (
            [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        )
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`")
        if section.startswith("forbidden"):
            forbidden[name] = cells[1].strip("`")
            continue
        where = cells[-1]
        for place in PLACES:
            if re.search(rf"\b{place}\b", where):
                names[place].add(name)
        if re.search(r"\bCLI\b", where):
            flags = re.findall(r"`(--[a-z0-9-]+)`", where)
            names["CLI"].discard(name)
            names["CLI"].update(flags or ["--" + name.replace("_", "-")])
    return names, forbidden


def cli_flags() -> set[str]:
    from bellmodels.cli import build_parser

    flags: set[str] = set()

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)
            else:
                flags.update(o for o in action.option_strings if o.startswith("--"))

    walk(build_parser())
    return flags


def toml_keys() -> set[str]:
    from bellmodels.study.schema import MODEL_OPTIONS, SCHEMA

    return set(SCHEMA) | {k for fields in SCHEMA.values() for k in fields} | set(MODEL_OPTIONS)


def json_keys() -> set[str]:
    import bellmodels as bm
    from bellmodels.comparison import ROW_KEYS
    from bellmodels.inference.summary import SUMMARY_KEYS

    model_audit = bm.audit(bm.models.get("bell1964"), compute_min_mi=False).to_dict()
    data_audit = bm.audit(bm.datasets.load("weihs1998"), compute_min_mi=False).to_dict()
    return set(model_audit) | set(data_audit) | set(ROW_KEYS) | set(SUMMARY_KEYS)


def netcdf_variables() -> set[str]:
    from bellmodels.study.store import RESULT_VARIABLES

    return set(RESULT_VARIABLES)


def python_keywords() -> set[str]:
    import bellmodels as bm

    words: set[str] = set()
    for name in bm.__all__:
        func = getattr(bm, name)
        if inspect.isfunction(func):
            for p in inspect.signature(func).parameters.values():
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                    words.add(p.name)
    return words


COLLECTORS = {
    "Python": python_keywords,
    "CLI": cli_flags,
    "TOML": toml_keys,
    "JSON": json_keys,
    "NetCDF": netcdf_variables,
}


@pytest.fixture(scope="module")
def glossary() -> tuple[dict[str, set[str]], dict[str, str]]:
    return parse_glossary(GLOSSARY.read_text(encoding="utf-8"))


@pytest.mark.parametrize("place", PLACES)
def test_every_public_name_is_in_the_glossary(glossary, place):
    names, _ = glossary
    missing = sorted(COLLECTORS[place]() - names[place])
    assert not missing, f"{place} names missing from docs/api/glossary.md: {missing}"


@pytest.mark.parametrize("place", PLACES)
def test_no_forbidden_synonym_is_used(glossary, place):
    names, forbidden = glossary
    # a flag the glossary spells for a concept is decided there (``--out`` is ``out_dir``)
    spelled = names["CLI"] if place == "CLI" else set()
    used = {n.lstrip("-").replace("-", "_") for n in COLLECTORS[place]() - spelled}
    bad = {n: forbidden[n] for n in sorted(used & set(forbidden))}
    assert not bad, f"{place} uses forbidden synonyms (name -> use instead): {bad}"


def test_glossary_lists_no_name_twice_and_no_synonym_as_a_name(glossary):
    names, forbidden = glossary
    text = GLOSSARY.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \|", text.split("## Forbidden")[0], flags=re.M)
    assert len(rows) == len(set(rows)), sorted({r for r in rows if rows.count(r) > 1})
    listed = set().union(*names.values())
    assert not set(forbidden) & listed, set(forbidden) & listed
    assert set(forbidden.values()) <= set(rows), set(forbidden.values()) - set(rows)


def test_renamed_study_keys_and_keywords_are_forbidden_synonyms(glossary):
    """The study schema's table of renamed keys and the keywords that raise TypeError agree with
    the glossary: an old name is forbidden and points to the same new name."""
    from bellmodels.study.schema import RENAMED_KEYS
    from bellmodels.study.store import RENAMED_VARIABLES

    _, forbidden = glossary
    for old, new in {**RENAMED_KEYS, **RENAMED_VARIABLES}.items():
        assert forbidden.get(old) == new, (old, new, forbidden.get(old))


def test_parse_glossary_reads_places_flags_and_synonyms():
    text = (
        "## Names\n| Name | Meaning | Where |\n|---|---|---|\n"
        "| `out_dir` | output directory | Python, CLI `--out` |\n"
        "| `setting_probs` | p(s_a, s_b) | Python, CLI, TOML |\n"
        "## Forbidden synonyms\n| `settings_probs` | `setting_probs` |\n"
    )
    names, forbidden = parse_glossary(text)
    assert names["CLI"] == {"--out", "--setting-probs"}
    assert names["Python"] == {"out_dir", "setting_probs"} and names["TOML"] == {"setting_probs"}
    assert forbidden == {"settings_probs": "setting_probs"}


@pytest.mark.parametrize(
    ("section", "line", "new"),
    [
        ("data", "settings_probs = [[0.25, 0.25], [0.25, 0.25]]", "setting_probs"),
        ("inference", "smc_draws = 10", "evidence_draws"),
        ("inference", "hmc_steps = 2", "evidence_hmc_steps"),
    ],
)
def test_an_old_study_key_is_told_its_new_name(section, line, new):
    from bellmodels.study import parse_study

    text = '[data]\nsource = "simulate"\n[models]\ninclude = ["bell1964"]\n'
    text += f"[{section}]\n{line}\n" if section != "data" else ""
    if section == "data":
        text = text.replace('source = "simulate"\n', f'source = "simulate"\n{line}\n')
    old = line.split(" =")[0]
    with pytest.raises(
        ValueError, match=rf"key '{section}\.{old}' is unknown \(renamed to '{new}'\)"
    ):
        parse_study(text, source="old.toml")


def test_an_old_keyword_raises_a_type_error_naming_the_new_one():
    import bellmodels as bm
    from bellmodels.inference.evidence import estimate_log_evidence

    with pytest.raises(TypeError, match="keyword 'progress' was renamed to 'progressbar'"):
        bm.compare(["bell1964"], None, progress=False)
    with pytest.raises(TypeError, match="keyword 'out' was renamed to 'out_dir'"):
        bm.run_study("never-read.toml", out="never-written")
    with pytest.raises(TypeError, match="keyword 'smc_draws' was renamed to 'evidence_draws'"):
        estimate_log_evidence("bell1964", None, smc_draws=10)
