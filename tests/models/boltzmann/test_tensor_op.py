"""The fused machine Op: its value is the exact ``log_behaviour``, its gradient the true one,
on every linker (Python ``perform``, Numba), alone and vectorised over a batch of points."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.replace import vectorize_graph

from bellmodels.models.boltzmann import CRBM, RBM
from bellmodels.models.boltzmann._free_op import FreeMachineLogBehaviour
from bellmodels.models.boltzmann._kernels import MachineArrays, log_behaviour
from bellmodels.models.boltzmann._tensor_op import MachineLogBehaviour


def _machine(kind: str, seed: int) -> tuple[object, MachineArrays]:
    rng = np.random.default_rng(seed)
    m = RBM(n_hidden=3) if kind == "rbm" else CRBM(n_hidden=3)
    arr = m.machine_arrays()
    # weights of the size a posterior reaches (|w| up to ~4), so softplus is far from linear
    # the RBM has no direct settings-outcome couplings: its A stays zero
    a = np.zeros(arr.A.shape) if kind == "rbm" else rng.normal(0, 1.5, arr.A.shape)
    arr = MachineArrays(
        W=rng.normal(0, 1.5, arr.W.shape),
        c=rng.normal(0, 1.5, arr.c.shape),
        d=rng.normal(0, 1.5, arr.d.shape),
        A=a,
    )
    return m, arr


def _inputs(arr: MachineArrays, n_settings: int) -> list[np.ndarray]:
    assert arr.A.shape == (n_settings, 2)
    return [arr.W, arr.c, arr.d, arr.A]


@pytest.mark.parametrize("kind", ["rbm", "crbm"])
@pytest.mark.parametrize("mode", ["FAST_COMPILE", "NUMBA"])
def test_value_is_the_exact_log_behaviour(kind: str, mode: str) -> None:
    m, arr = _machine(kind, 0)
    op = MachineLogBehaviour(m.layout.visible, m.layout.n_settings)
    ins = [pt.tensor(shape=x.shape) for x in _inputs(arr, m.layout.n_settings)]
    f = pytensor.function(ins, op(*ins), mode=mode)
    got = f(*_inputs(arr, m.layout.n_settings))
    np.testing.assert_allclose(got, log_behaviour(arr, m.layout), atol=1e-12)
    # a behaviour: each setting pair's four cells sum to one
    np.testing.assert_allclose(np.exp(got).sum(axis=(2, 3)), 1.0, atol=1e-12)


@pytest.mark.parametrize("kind", ["rbm", "crbm"])
def test_gradient_matches_finite_differences(kind: str) -> None:
    m, arr = _machine(kind, 1)
    op = MachineLogBehaviour(m.layout.visible, m.layout.n_settings)
    rng = np.random.default_rng(2)
    # a random linear functional of the output exercises the normalisation's Jacobian
    weights = rng.normal(size=op.cells)
    vals = _inputs(arr, m.layout.n_settings)
    ins = [pt.tensor(shape=x.shape) for x in vals]
    out = (op(*ins) * weights).sum()
    value = pytensor.function(ins, out, mode="FAST_COMPILE")
    grads = pytensor.function(ins, pytensor.grad(out, ins), mode="FAST_COMPILE")(*vals)
    h = 1e-6
    for _ in range(5):  # central differences along random directions of every input
        u = [rng.normal(size=v.shape) for v in vals]
        plus = value(*[v + h * d for v, d in zip(vals, u, strict=True)])
        minus = value(*[v - h * d for v, d in zip(vals, u, strict=True)])
        directional = sum(float((g * d).sum()) for g, d in zip(grads, u, strict=True))
        np.testing.assert_allclose(directional, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["rbm", "crbm"])
def test_numba_gradient_equals_python_gradient(kind: str) -> None:
    m, arr = _machine(kind, 3)
    op = MachineLogBehaviour(m.layout.visible, m.layout.n_settings)
    vals = _inputs(arr, m.layout.n_settings)
    ins = [pt.tensor(shape=x.shape) for x in vals]
    weights = np.random.default_rng(4).normal(size=op.cells)
    grads = pytensor.grad((op(*ins) * weights).sum(), ins)
    py = pytensor.function(ins, grads, mode="FAST_COMPILE")(*vals)
    nb = pytensor.function(ins, grads, mode="NUMBA")(*vals)
    for a, b in zip(py, nb, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "NUMBA"])
def test_vectorised_over_points_is_each_points_value_and_gradient(mode: str) -> None:
    # the tempered SMC evaluates a batch of parameter points at once (vectorize_graph)
    m, _ = _machine("crbm", 0)
    points = [_machine("crbm", s)[1] for s in range(3)]
    op = MachineLogBehaviour(m.layout.visible, m.layout.n_settings)
    core = [pt.tensor(shape=x.shape) for x in _inputs(points[0], m.layout.n_settings)]
    weights = np.random.default_rng(5).normal(size=op.cells)
    out = (op(*core) * weights).sum()  # a scalar per point
    batch = [pt.tensor(shape=(None, *x.type.shape)) for x in core]
    b_out = vectorize_graph(out, dict(zip(core, batch, strict=True)))
    b_grad = pytensor.grad(b_out.sum(), batch)
    f = pytensor.function(batch, [b_out, *b_grad], mode=mode)
    # one Numba loop over the points (the batched Op), not Blockwise's call per point
    ops = [node.op for node in f.maker.fgraph.apply_nodes]
    assert not any(type(op).__name__ == "Blockwise" for op in ops)
    assert sum(getattr(op, "batched", False) for op in ops) == 2  # the value and its gradient
    stacked = [np.stack(xs) for xs in zip(*(_inputs(p, 2) for p in points), strict=True)]
    got, *g = f(*stacked)
    single = pytensor.function(core, [out, *pytensor.grad(out.sum(), core)], mode="FAST_COMPILE")
    for i, p in enumerate(points):
        want, *gw = single(*_inputs(p, 2))
        np.testing.assert_allclose(got[i], want, atol=1e-12)
        for a, b in zip(g, gw, strict=True):
            np.testing.assert_allclose(a[i], b, atol=1e-12)


def test_equal_layouts_give_one_op() -> None:
    # PyTensor merges equal Ops (and Numba reuses their compilation) only if they compare equal
    m = RBM(n_hidden=4)
    a = MachineLogBehaviour(m.layout.visible, m.layout.n_settings)
    b = MachineLogBehaviour(m.layout.visible.copy(), m.layout.n_settings)
    assert a == b and hash(a) == hash(b)


def test_rejects_a_visible_array_that_is_not_a_layout() -> None:
    with pytest.raises(ValueError, match="visible must be"):
        MachineLogBehaviour(np.zeros((2, 2, 4)), 2)
    with pytest.raises(ValueError, match="2 outcome units"):
        MachineLogBehaviour(np.zeros((2, 2, 2, 2, 5)), 2)


@pytest.mark.parametrize("batched", [False, True])
def test_shape_is_inferred_without_running_the_kernel(batched: bool) -> None:
    m, arr = _machine("crbm", 6)
    op = MachineLogBehaviour(m.layout.visible, m.layout.n_settings, batched=batched)
    vals = _inputs(arr, m.layout.n_settings)
    if batched:
        vals = [np.stack([v] * 5) for v in vals]
    ins = [pt.tensor(shape=(None,) * x.ndim) for x in vals]
    f = pytensor.function(ins, op(*ins).shape, mode="FAST_RUN", on_unused_input="ignore")
    assert not any(isinstance(n.op, MachineLogBehaviour) for n in f.maker.fgraph.apply_nodes)
    assert tuple(f(*vals)) == (5, *op.cells)[int(not batched) :]


@pytest.mark.parametrize("kind", ["rbm", "crbm"])
def test_jax_value_and_gradient_equal_numba(kind: str) -> None:
    # the numpyro sampler compiles the model with PyTensor's JAX linker
    pytest.importorskip("jax")
    m, arr = _machine(kind, 7)
    op = MachineLogBehaviour(m.layout.visible, m.layout.n_settings)
    vals = _inputs(arr, m.layout.n_settings)
    ins = [pt.tensor(shape=x.shape) for x in vals]
    weights = np.random.default_rng(8).normal(size=op.cells)
    out = (op(*ins) * weights).sum()
    outs = [op(*ins), *pytensor.grad(out, ins)]
    import jax

    jax.config.update("jax_enable_x64", True)
    nb = pytensor.function(ins, outs, mode="NUMBA")(*vals)
    jx = pytensor.function(ins, outs, mode="JAX")(*vals)
    for a, b in zip(nb, jx, strict=True):
        np.testing.assert_allclose(np.asarray(b), a, rtol=1e-10, atol=1e-12)


def _free_point(kind: str, seed: int) -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    """A machine, its free-variable affine map (matrix, offset) and a random free point."""
    m = RBM(n_hidden=3) if kind == "rbm" else CRBM(n_hidden=3)
    _, matrix, offset = m.free_affine_map()
    x = np.random.default_rng(seed).normal(0, 1.0, matrix.shape[1])
    return m, matrix, offset, x


def _free_log_behaviour(m: object, matrix: np.ndarray, offset: np.ndarray, x: np.ndarray):
    theta = matrix @ x + offset
    n_v, n_s = m.layout.n_visible, m.layout.n_settings
    n_h = m.n_hidden
    i = n_v * n_h
    arr = MachineArrays(
        W=theta[:i].reshape(n_v, n_h),
        c=theta[i : i + n_v],
        d=theta[i + n_v : i + n_v + n_h],
        A=theta[i + n_v + n_h :].reshape(n_s, 2),
    )
    return log_behaviour(arr, m.layout)


@pytest.mark.parametrize("kind", ["rbm", "crbm"])
def test_free_affine_map_is_the_models_own_parameter_map(kind: str) -> None:
    # M x + b0 at the free values of a machine is that machine: the log behaviour agrees
    m = RBM.weinstein2017() if kind == "rbm" else CRBM(n_hidden=3, seed=4)
    names, matrix, offset = m.free_affine_map()
    free = m.free_values(m.params())
    x = np.concatenate([np.ravel(free[n]) for n, _ in names])
    np.testing.assert_allclose(
        _free_log_behaviour(m, matrix, offset, x), m.log_behaviour(), atol=1e-10
    )


@pytest.mark.parametrize("kind", ["rbm", "crbm"])
@pytest.mark.parametrize("mode", ["FAST_COMPILE", "NUMBA"])
def test_free_op_value_and_gradient(kind: str, mode: str) -> None:
    m, matrix, offset, x0 = _free_point(kind, 7)
    op = FreeMachineLogBehaviour(m.layout.visible, m.layout.n_settings, matrix, offset)
    weights = np.random.default_rng(8).normal(size=op.cells)
    x = pt.vector(shape=x0.shape)
    out = (op(x) * weights).sum()
    f = pytensor.function([x], [op(x), pytensor.grad(out, x)], mode=mode)
    value, grad = f(x0)
    np.testing.assert_allclose(value, _free_log_behaviour(m, matrix, offset, x0), atol=1e-12)
    h = 1e-6
    rng = np.random.default_rng(9)
    for _ in range(5):  # central differences along random directions
        u = rng.normal(size=x0.shape)
        plus = (_free_log_behaviour(m, matrix, offset, x0 + h * u) * weights).sum()
        minus = (_free_log_behaviour(m, matrix, offset, x0 - h * u) * weights).sum()
        np.testing.assert_allclose(grad @ u, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "NUMBA"])
def test_free_op_vectorised_over_points(mode: str) -> None:
    m, matrix, offset, _ = _free_point("crbm", 0)
    op = FreeMachineLogBehaviour(m.layout.visible, m.layout.n_settings, matrix, offset)
    weights = np.random.default_rng(5).normal(size=op.cells)
    x = pt.vector(shape=(matrix.shape[1],))
    out = (op(x) * weights).sum()
    xs = pt.matrix(shape=(None, matrix.shape[1]))
    b_out = vectorize_graph(out, {x: xs})
    f = pytensor.function([xs], [b_out, pytensor.grad(b_out.sum(), xs)], mode=mode)
    ops = [node.op for node in f.maker.fgraph.apply_nodes]
    assert not any(type(o).__name__ == "Blockwise" for o in ops)
    assert sum(getattr(o, "batched", False) for o in ops) == 2
    points = np.random.default_rng(6).normal(size=(3, matrix.shape[1]))
    got, grads = f(points)
    single = pytensor.function([x], [out, pytensor.grad(out, x)], mode="FAST_COMPILE")
    for i, p in enumerate(points):
        want, gw = single(p)
        np.testing.assert_allclose(got[i], want, atol=1e-12)
        np.testing.assert_allclose(grads[i], gw, atol=1e-12)


def test_free_op_rejects_a_map_of_the_wrong_size() -> None:
    m = CRBM(n_hidden=3)
    with pytest.raises(ValueError, match="do not map onto the canonical"):
        FreeMachineLogBehaviour(m.layout.visible, 2, np.zeros((5, 3)), np.zeros(5))
