"""Shared fixtures."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture
def chsh():
    from bellmodels import Scenario

    return Scenario.chsh()
