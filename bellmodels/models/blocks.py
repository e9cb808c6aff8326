"""Building blocks of ontic tables: responses, noise, and the planar-sphere coarse-graining.

A model's :meth:`~bellmodels.models.HiddenVariableModel.ontic` returns p(lambda | s) and
p(x_a, x_b | s, lambda); these helpers build the common pieces. Array convention: a response
has shape ``(K_a, K_b, L, 2, 2)``, outcome index 0 <-> -1, 1 <-> +1; a deterministic strategy
is an ``(L, K)`` array of +1/-1 outcomes, one row per lambda, one column per setting.

**Responses.** :func:`one_hot` turns +1/-1 outcomes into indicator vectors;
:func:`product_response` multiplies two parties' local responses p(x_a | s_a, lambda) and
p(x_b | s_b, lambda) into a joint one, which is how Bell's locality (parameter and outcome
independence, Jarrett, Noûs 18, 569 (1984)) is written; :func:`deterministic_response` is the
special case of deterministic strategies (Fine, PRL 48, 291 (1982)). Both work with numpy and
PyTensor arrays, so a parameter (a detection efficiency, say) may enter a local response.

**Noise.** :func:`with_noise` mixes a table with a settings-independent white-noise lambda of
weight 1 - V (the Werner-state visibility; Werner, PRA 40, 4277 (1989)).

**Planar settings, lambda on the sphere.** For settings that are directions in one plane and
lambda a unit vector on S^2, ``sgn(a . lambda)`` depends only on lambda's azimuth psi (its polar
factor is positive almost surely), so any response built from those signs is constant on the
arcs of the circle cut at every ``angle +- pi/2`` (:func:`arc_partition`, :func:`arc_signs`):
the arcs are the exact finite coarse-graining of lambda into response strategies, with
probability arc length / 2 pi for a uniform lambda (Bell, Physics 1, 195 (1964)). No library
coarse-grains sphere models into ontic tables, so this is written here.

Example: Bell's 1964 model as a table, in four lines.

>>> import numpy as np
>>> from bellmodels import Scenario
>>> scn = Scenario.chsh()
>>> lo, hi = arc_partition(scn.angles_a, scn.angles_b)
>>> xa, xb = arc_signs(lo, hi, scn.angles_a), -arc_signs(lo, hi, scn.angles_b)
>>> resp = deterministic_response(xa, xb)
>>> p = np.einsum("l,ablxy->abxy", (hi - lo) / (2 * np.pi), resp)
>>> float(p[0, 0, 0, 0] + p[0, 0, 1, 1] - p[0, 0, 0, 1] - p[0, 0, 1, 0])   # E = -(1 - 2/4)
-0.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bellmodels.ontic import OnticTable, OnticTables
from bellmodels.scenario import Scenario

TWO_PI = 2.0 * np.pi


def one_hot(x: Any) -> np.ndarray:
    """Indicator vectors of +1/-1 outcomes: ``x`` of any shape -> ``(..., 2)``, index 0 <-> -1.

    >>> one_hot(np.array([1, -1])).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    x = np.asarray(x)
    return np.stack([(x < 0).astype(float), (x > 0).astype(float)], axis=-1)


def product_response(resp_a: Any, resp_b: Any) -> Any:
    """The joint response of two local parties: ``p(x_a | s_a, lambda) p(x_b | s_b, lambda)``.

    ``resp_a`` has shape ``(K_a, L, 2)`` (A's outcome probabilities per setting and lambda),
    ``resp_b`` ``(K_b, L, 2)``; the result ``(K_a, K_b, L, 2, 2)``. numpy or PyTensor (only
    broadcasting), so a response may depend on a parameter. Such a table keeps parameter and
    outcome independence for every lambda (Jarrett 1984): the audit classifies it local.

    >>> ra = one_hot(np.array([[1], [-1]]))          # A: +1 at setting 0, -1 at setting 1
    >>> rb = np.full((2, 1, 2), 0.5)                  # B: a fair coin
    >>> product_response(ra, rb)[1, 0, 0].tolist()    # setting pair (1, 0), lambda 0
    [[0.5, 0.5], [0.0, 0.0]]
    """
    return resp_a[:, None, :, :, None] * resp_b[None, :, :, None, :]


def deterministic_response(xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """Response ``(K_a, K_b, L, 2, 2)`` of strategies ``xa (L, K_a)``, ``xb (L, K_b)`` (+1/-1).

    Lambda number ``l`` answers ``xa[l, s_a]`` and ``xb[l, s_b]`` with certainty (a local
    deterministic strategy; Fine 1982). Leading axes (one set of strategies per draw) are kept:
    ``(N, L, K_a)`` and ``(N, L, K_b)`` give ``(N, K_a, K_b, L, 2, 2)``.

    >>> r = deterministic_response(np.array([[1, -1]]), np.array([[-1, -1]]))
    >>> r.shape, float(r[1, 0, 0, 0, 0])   # setting a' -> A answers -1, B answers -1
    ((2, 2, 1, 2, 2), 1.0)
    """
    ra = one_hot(np.swapaxes(np.asarray(xa), -1, -2))  # (..., K_a, L, 2)
    rb = one_hot(np.swapaxes(np.asarray(xb), -1, -2))
    return ra[..., :, None, :, :, None] * rb[..., None, :, :, None, :]


def with_noise(
    p_lambda: np.ndarray,
    response: np.ndarray,
    labels: list[str],
    visibility: float,
    scenario: Scenario,
) -> OnticTable:
    """Ontic table with the ideal lambdas weighted by V plus one ``"noise"`` lambda (1 - V).

    The noise lambda is settings-independent and answers with independent fair local outcomes
    (it keeps every one of Bell's assumptions): the white-noise part of a Werner state
    (Werner, PRA 40, 4277 (1989)).

    >>> resp = deterministic_response(np.array([[1, 1]]), np.array([[-1, -1]]))
    >>> t = with_noise(np.ones(1), resp, ["+-"], 0.9, Scenario.chsh())
    >>> t.lam_labels, float(t.behaviour()[0, 0, 1, 0])
    (['+-', 'noise'], 0.925)
    """
    ka, kb = scenario.n_a, scenario.n_b
    v = float(visibility)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"visibility must lie in [0, 1], got {v}")
    p = np.asarray(p_lambda, float)
    if p.ndim == 1:
        p = np.broadcast_to(p, (ka, kb, p.size))
    p_all = np.concatenate([v * p, np.full((ka, kb, 1), 1.0 - v)], axis=2)
    noise = np.full((ka, kb, 1, 2, 2), 0.25)
    resp = np.concatenate([response, noise], axis=2)
    return OnticTable(p_all, resp, scenario, lam_labels=[*labels, "noise"])


def with_noise_stack(
    p_lambda: np.ndarray,
    response: np.ndarray,
    labels: list[str] | None,
    visibility: np.ndarray,
    scenario: Scenario,
) -> OnticTables:
    """:func:`with_noise` of many draws at once: one visibility per draw (leading axis ``N``).

    ``p_lambda`` is ``(N, K_a, K_b, L)``, ``(N, L)`` or ``(L,)`` (the same for every draw),
    ``response`` ``(N, K_a, K_b, L, 2, 2)`` or ``(K_a, K_b, L, 2, 2)``; every number is the one
    :func:`with_noise` computes for that draw (the noise lambda last).

    >>> resp = deterministic_response(np.array([[1, 1]]), np.array([[-1, -1]]))
    >>> t = with_noise_stack(np.ones(1), resp, ["+-"], np.array([0.9, 0.5]), Scenario.chsh())
    >>> t.lam_labels, t.behaviour()[:, 0, 0, 1, 0].tolist()
    (['+-', 'noise'], [0.925, 0.625])
    """
    ka, kb = scenario.n_a, scenario.n_b
    v = np.asarray(visibility, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"visibility must have one value per draw, got shape {v.shape}")
    if not np.all((v >= 0.0) & (v <= 1.0)):
        bad = int(np.flatnonzero(~((v >= 0.0) & (v <= 1.0)))[0])
        raise ValueError(f"visibility must lie in [0, 1], got {v[bad]} (draw {bad})")
    n = v.size
    p = np.asarray(p_lambda, float)
    if p.ndim < 4:  # (L,) or (N, L): the same at every setting pair
        p = np.broadcast_to(p[..., None, None, :], (*p.shape[:-1], ka, kb, p.shape[-1]))
    p = np.broadcast_to(p, (n, *p.shape[-3:]))
    r = np.broadcast_to(response, (n, *np.shape(response)[-5:]))
    p_all = np.concatenate(
        [
            v[:, None, None, None] * p,
            np.broadcast_to((1.0 - v)[:, None, None, None], (n, ka, kb, 1)),
        ],
        axis=3,
    )
    noise = np.full((n, ka, kb, 1, 2, 2), 0.25)
    resp = np.concatenate([r, noise], axis=3)
    return OnticTables(p_all, resp, scenario, None if labels is None else [*labels, "noise"])


def strategy_labels(xa: np.ndarray, xb: np.ndarray) -> list[str]:
    """Labels ``"+-;-+"`` (A's outcome per setting; B's), as ``local_deterministic_strategies``.

    >>> strategy_labels(np.array([[1, -1]]), np.array([[-1, 1]]))
    ['+-;-+']
    """
    sym = {1: "+", -1: "-"}
    return [
        "".join(sym[int(v)] for v in ra) + ";" + "".join(sym[int(v)] for v in rb)
        for ra, rb in zip(xa, xb, strict=True)
    ]


# ---------------------------------------------------------------------------------------------
# Planar settings, lambda on the sphere
# ---------------------------------------------------------------------------------------------
def wrap_angle(x: Any, lib: Any = np) -> Any:
    """Angle wrapped to [-pi, pi) (differentiable almost everywhere, numpy or PyTensor).

    >>> float(round(wrap_angle(3 * np.pi / 2), 6))
    -1.570796
    """
    return x - TWO_PI * lib.floor((x + np.pi) / TWO_PI)


def sawtooth(delta: Any, lib: Any = np) -> Any:
    """Bell's linear correlator ``-(1 - 2 theta / pi)``, theta the angle between the directions
    (Bell 1964, the correlation of his local model).

    >>> float(sawtooth(np.pi / 4))
    -0.5
    """
    theta = lib.abs(wrap_angle(delta, lib))
    return -(1.0 - 2.0 * theta / np.pi)


def planar_vectors(angles: Any) -> np.ndarray:
    """Unit vectors ``(cos, sin, 0)`` in the xy-plane, shape ``(..., 3)``.

    >>> planar_vectors([0.0]).tolist()
    [[1.0, 0.0, 0.0]]
    """
    angles = np.asarray(angles, dtype=float)
    return np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=-1)


def uniform_sphere(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere S^2 (normalised Gaussians; Muller,
    Commun. ACM 2, 19 (1959)), shape ``(n, 3)``.

    >>> v = uniform_sphere(np.random.default_rng(0), 5)
    >>> v.shape, bool(np.allclose(np.linalg.norm(v, axis=1), 1.0))
    ((5, 3), True)
    """
    v = rng.standard_normal((n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def sign(x: np.ndarray) -> np.ndarray:
    """``sgn`` with values +1 / -1 (ties, of probability zero, go to +1).

    >>> sign(np.array([-0.5, 0.0, 2.0])).tolist()
    [-1, 1, 1]
    """
    return np.where(x >= 0, 1, -1).astype(np.int8)


def arc_partition(
    angles_a: np.ndarray, angles_b: np.ndarray, tol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the circle of azimuths at every ``angle +- pi/2`` of both parties.

    On each resulting arc ``sgn(cos(psi - angle))`` is constant for every setting, so the arcs are
    the exact coarse-graining of any response built from these signs.

    Returns
    -------
    lo, hi : arrays of arc end points (``0 <= lo < hi <= 2 pi``, arcs cover the circle).

    >>> lo, hi = arc_partition(np.array([0.0, np.pi / 2]), np.array([np.pi / 4, -np.pi / 4]))
    >>> len(lo), float(np.round(hi - lo, 6).min())
    (8, 0.785398)
    """
    ang = np.concatenate([np.asarray(angles_a, float), np.asarray(angles_b, float)])
    cuts = np.mod(np.concatenate([ang + np.pi / 2, ang - np.pi / 2]), TWO_PI)
    cuts = np.sort(cuts)
    keep = np.concatenate([[True], np.diff(cuts) > tol])
    cuts = cuts[keep]
    if cuts.size > 1 and (cuts[0] + TWO_PI - cuts[-1]) <= tol:
        cuts = cuts[:-1]
    lo = cuts
    hi = np.concatenate([cuts[1:], [cuts[0] + TWO_PI]])
    return lo, hi


def arc_partition_stack(
    angles_a: np.ndarray, angles_b: np.ndarray, tol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`arc_partition` of many sets of angles at once (one row per draw).

    ``angles_a`` is ``(N, K_a)``, ``angles_b`` ``(N, K_b)``. Cuts closer than ``tol`` are merged
    as :func:`arc_partition` merges them, so rows may have fewer arcs than ``2 (K_a + K_b)``:
    each row lists its arcs first, the same numbers :func:`arc_partition` gives for it, then
    empty arcs (``lo = hi``, probability 0) up to the common width.

    Returns
    -------
    lo, hi : ``(N, 2 (K_a + K_b))`` arc end points; real : the same shape, ``True`` on real arcs.

    >>> a = np.array([[0.0, np.pi / 2], [0.0, 0.0]])
    >>> lo, hi, real = arc_partition_stack(a, np.array([[np.pi / 4, -np.pi / 4]] * 2))
    >>> real.sum(axis=1).tolist()      # the second row's two A settings cut at the same points
    [8, 6]
    >>> bool(np.array_equal(lo[0], arc_partition(a[0], [np.pi / 4, -np.pi / 4])[0]))
    True
    """
    ang = np.concatenate([np.asarray(angles_a, float), np.asarray(angles_b, float)], axis=1)
    cuts = np.mod(np.concatenate([ang + np.pi / 2, ang - np.pi / 2], axis=1), TWO_PI)
    cuts = np.sort(cuts, axis=1)
    n, m = cuts.shape
    keep = np.concatenate([np.ones((n, 1), bool), np.diff(cuts, axis=1) > tol], axis=1)
    last = m - 1 - np.argmax(keep[:, ::-1], axis=1)  # the last kept cut of each row
    rows = np.arange(n)
    wrap = (keep.sum(axis=1) > 1) & (cuts[:, 0] + TWO_PI - cuts[rows, last] <= tol)
    keep[rows[wrap], last[wrap]] = False
    order = np.argsort(~keep, axis=1, kind="stable")  # kept cuts first, in their order
    kept = np.take_along_axis(cuts, order, axis=1)
    real = np.take_along_axis(keep, order, axis=1)
    n_arcs = real.sum(axis=1)
    lo = np.where(real, kept, 0.0)
    nxt = np.concatenate([kept[:, 1:], np.zeros((n, 1))], axis=1)
    hi = np.where(np.arange(m)[None, :] == (n_arcs - 1)[:, None], kept[:, :1] + TWO_PI, nxt)
    return lo, np.where(real, hi, 0.0), real


def arc_signs(lo: np.ndarray, hi: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """``sgn(cos(psi - angle))`` on each arc (evaluated at its midpoint), shape ``(L, K)``:
    the outcome ``sgn(a . lambda)`` of every lambda on the arc, for each setting. Leading axes
    (one partition and one set of angles per draw) are kept: ``(N, L)`` arcs, ``(N, K)`` angles.

    >>> lo, hi = arc_partition([0.0], [np.pi / 2])
    >>> arc_signs(lo, hi, [0.0]).ravel().tolist()   # the quarter arcs from psi = 0
    [1, -1, -1, 1]
    """
    mid = 0.5 * (np.asarray(lo) + np.asarray(hi))
    return sign(np.cos(mid[..., :, None] - np.asarray(angles, float)[..., None, :]))


__all__ = [
    "arc_partition",
    "arc_partition_stack",
    "arc_signs",
    "deterministic_response",
    "one_hot",
    "planar_vectors",
    "product_response",
    "sawtooth",
    "sign",
    "strategy_labels",
    "uniform_sphere",
    "with_noise",
    "with_noise_stack",
    "wrap_angle",
]
