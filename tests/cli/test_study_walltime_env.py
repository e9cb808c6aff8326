"""``benchmarks/study_walltime.py`` measures the main job as a new user meets it (issue #28).

Its cold run must find none of the caches a user who ran bellmodels before would have: every one
of them in the child's environment points into the fresh home (no run of the study here).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "study_walltime.py"


def load_script():
    spec = importlib.util.spec_from_file_location("bm_study_walltime", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cold_child_has_every_cache_in_its_empty_home(tmp_path: Path) -> None:
    child_env = load_script().child_env
    user = {
        "PATH": "/usr/bin",
        "HOME": "/home/someone",
        "XDG_CACHE_HOME": "/home/someone/.cache",
        "NUMBA_CACHE_DIR": "/home/someone/numba",
        "BELLMODELS_COMPILEDIR": "/home/someone/compiled",
        "PYTENSOR_FLAGS": "floatX=float64,compiledir=/home/someone/pt,mode=NUMBA",
    }
    home = tmp_path / "home"
    env = child_env(user, home)
    assert env["HOME"] == str(home) and env["PATH"] == "/usr/bin"
    for key in ("XDG_CACHE_HOME", "NUMBA_CACHE_DIR", "BELLMODELS_COMPILEDIR", "MPLCONFIGDIR"):
        assert Path(env[key]).is_relative_to(home), key
    flags = dict(f.split("=", 1) for f in env["PYTENSOR_FLAGS"].split(","))
    # the user's other PyTensor flags survive; both compile directories move into the home
    assert flags["floatX"] == "float64" and flags["mode"] == "NUMBA"
    assert Path(flags["base_compiledir"]).is_relative_to(home)
    assert Path(flags["compiledir"]).is_relative_to(home)
    assert "/home/someone" not in "".join(v for k, v in env.items() if k != "PATH")
    # thread counts are the user's (none set here): the study sets its own, as a user meets it
    assert not {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"} & env.keys()
    # the same home again is the warm run: the same caches, so what the cold run filled
    assert child_env(user, home) == env
    assert user["HOME"] == "/home/someone"  # the caller's environment is not changed


def test_warm_only_keeps_the_users_own_caches() -> None:
    user = {"HOME": "/home/someone", "NUMBA_CACHE_DIR": "/n", "OMP_NUM_THREADS": "2"}
    assert load_script().child_env(user, None) == user
