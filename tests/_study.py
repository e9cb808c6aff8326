"""Test helpers for study files: the smallest study that runs, and writing a study to a file."""

from __future__ import annotations

import textwrap
from pathlib import Path

MINIMAL_STUDY = """
[study]
name = "minimal"
[data]
source = "simulate"
n_trials = 2000
[models]
include = ["bell1964", "quantum-singlet"]
[inference]
fit = false
"""
"""Two models on 2,000 simulated trials and no fit: a valid study that runs in seconds (tests
build their invalid ones from it with ``str.replace``)."""


def write_study(directory: Path, text: str, name: str = "study.toml") -> Path:
    """Write ``text`` (dedented, so a study may be indented in the test) to ``directory/name``."""
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path
