"""The machines' log behaviour as a function of their free variables: one PyTensor Op.

Under the machines' priors the free PyMC variables are the weights and biases written with +-1
units (or, under ``prior="binary"``, the 0/1 ones), and the canonical arrays ``(W, c, d, A)``
the free energy uses are an affine map of them
(:meth:`~bellmodels.models.boltzmann.BoltzmannModel.free_affine_map`). As PyTensor algebra
that map is some thirty small Ops (joins, dots, splits) in every log density and gradient NUTS
evaluates, each one dispatch and allocation, together more than the machine itself
(``benchmarks/machine_op.py``). :class:`FreeMachineLogBehaviour` applies the map inside the
kernel of :mod:`~bellmodels.models.boltzmann._tensor_op` (a loop over the nonzero entries of
``M``), and its gradient is ``M^T`` of the canonical one. Hand-written for the reason that
module gives: no library fuses a small PyTensor graph into one kernel.

>>> import numpy as np
>>> from bellmodels.models.boltzmann import CRBM
>>> m = CRBM(n_hidden=2)
>>> names, matrix, offset = m.free_affine_map()
>>> free = m.free_values(m.params())
>>> x = np.concatenate([np.ravel(free[n]) for n, _ in names])
>>> op = FreeMachineLogBehaviour(m.layout.visible, m.layout.n_settings, matrix, offset)
>>> bool(np.allclose(op(x).eval(), m.log_behaviour(), atol=1e-12))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import grad_not_implemented
from pytensor.graph.basic import Apply

from bellmodels.models.boltzmann._tensor_op import (
    _loops,
    _MachineOp,
    jax_log_behaviour,
    kernel_version,
    register_ops,
)


class FreeMachineLogBehaviour(_MachineOp):
    """``log p(x_a, x_b | s_a, s_b)`` of the machine whose canonical arrays are an affine map of
    the free variables: ``(W, c, d, A) = M x + b0`` (flattened in that order), ``x`` the model's
    free variables raveled and joined. Shape ``(K_a, K_b, 2, 2)``.

    The machines' priors are Normal on the weights written with +-1 units, and the 0/1 weights
    the free energy uses are linear in them (:meth:`~bellmodels.models.boltzmann.BoltzmannModel.
    free_affine_map`). As PyTensor algebra that map is some thirty small Ops (joins, dots,
    splits) in every log density and gradient NUTS evaluates, more than the machine itself
    costs (``benchmarks/machine_op.py``); here it is a loop over the nonzero entries of ``M``
    inside the kernel.
    """

    __props__ = (*_MachineOp.__props__, "affine")
    core_ndims = (1,)
    input_names = ("x", "log p", "g")
    gufunc_signature = "(n)->(a,b,x,y)"

    def __init__(
        self,
        visible: np.ndarray,
        n_settings: int,
        matrix: np.ndarray,
        offset: np.ndarray,
        batched: bool = False,
    ) -> None:
        super().__init__(visible, n_settings, batched)
        matrix = np.asarray(matrix, dtype=float)
        offset = np.asarray(offset, dtype=float)
        n_v = self._v.shape[1]
        n_canonical = offset.shape[0]
        n_h, rest = divmod(n_canonical - n_v - 2 * self.n_settings, n_v + 1)
        if matrix.ndim != 2 or matrix.shape[0] != n_canonical or n_h < 1 or rest:
            raise ValueError(
                f"matrix {matrix.shape} and offset {offset.shape} do not map onto the canonical "
                f"(W, c, d, A) of a machine with {n_v} visible and {self.n_settings} setting units"
            )
        rows, cols = np.nonzero(matrix)
        # tuples, so equal maps give equal (merged, cached) Ops
        self.affine = (
            int(matrix.shape[1]),
            tuple(rows.tolist()),
            tuple(cols.tolist()),
            tuple(matrix[rows, cols].tolist()),
            tuple(offset.tolist()),
        )
        self._coo = (rows.astype(np.int64), cols.astype(np.int64), matrix[rows, cols], offset)

    def _matrix(self) -> np.ndarray:
        n_free, rows, cols, vals, offset = self.affine
        m = np.zeros((len(offset), n_free))
        m[list(rows), list(cols)] = vals
        return m

    def _again(self, cls: type, batched: bool) -> Any:
        return cls(self._visible(), self.n_settings, self._matrix(), self._coo[3], batched)

    def with_batch(self) -> Any:
        return self._again(type(self), batched=True)

    def make_node(self, *inputs: Any) -> Apply:
        (x,) = self._inputs(*inputs)
        batch = (x.type.shape[0],) if self.batched else ()
        return Apply(self, [x], [pt.tensor(dtype="float64", shape=(*batch, *self.cells))])

    def perform(self, node: Any, inputs: Any, output_storage: Any) -> None:
        x = np.ascontiguousarray(inputs[0], dtype=float)
        out = _loops().free_forward(self._v, self._s, self._x, *self._coo, np.atleast_2d(x))
        shape = (*x.shape[:-1], *self.cells)
        output_storage[0][0] = out.reshape(shape)

    def infer_shape(self, *args: Any) -> list[tuple[Any, ...]]:
        shapes = args[-1]
        return [(*shapes[0][: int(self.batched)], *self.cells)]

    def pullback(self, inputs: Any, outputs: Any, cotangents: Any) -> list[Any]:
        vjp = self._again(FreeMachineLogBehaviourGrad, self.batched)
        return list(vjp.make_node(*inputs, outputs[0], *cotangents).outputs)

    def L_op(self, inputs: Any, outputs: Any, output_grads: Any) -> list[Any]:
        return self.pullback(inputs, outputs, output_grads)


class FreeMachineLogBehaviourGrad(FreeMachineLogBehaviour):
    """The vector-Jacobian product of :class:`FreeMachineLogBehaviour`: the gradient in ``x``."""

    core_ndims = (1, 4, 4)
    gufunc_signature = "(n),(a,b,x,y),(a,b,x,y)->(n)"

    def make_node(self, *inputs: Any) -> Apply:
        ins = self._inputs(*inputs)  # x, log p, g
        return Apply(self, ins, [ins[0].type()])

    def perform(self, node: Any, inputs: Any, output_storage: Any) -> None:
        x, logp, g = (np.ascontiguousarray(v, dtype=float) for v in inputs)
        x2 = np.atleast_2d(x)
        n = x2.shape[0]
        out = _loops().free_vjp(
            self._v, self._s, self._x, *self._coo, x2, logp.reshape(n, -1), g.reshape(n, -1)
        )
        output_storage[0][0] = out.reshape(x.shape)

    def infer_shape(self, *args: Any) -> list[Any]:
        return [args[-1][0]]

    def pullback(self, inputs: Any, outputs: Any, cotangents: Any) -> list[Any]:
        return [grad_not_implemented(self, i, x) for i, x in enumerate(inputs)]


def _register() -> None:
    """Batched vectorisation, and Numba and JAX implementations for PyTensor's linkers."""
    registrar = register_ops((FreeMachineLogBehaviour, FreeMachineLogBehaviourGrad), _register_jax)
    if registrar is None:
        return
    import numba

    # the cache key's version: a checksum of the loops' source (see _tensor_op._register)
    free_version = kernel_version()
    loops = _loops()

    @registrar(FreeMachineLogBehaviour)
    def _free_forward(op: FreeMachineLogBehaviour, node: Any = None, **kwargs: Any) -> Any:
        forward = loops.free_forward
        v, s, x, cells = op._v, op._s, op._x, op.cells
        rows, cols, vals, b0 = op._coo

        if op.batched:

            @numba.njit
            def free_log_behaviour_batch(z):  # type: ignore[no-untyped-def]
                out = forward(v, s, x, rows, cols, vals, b0, np.ascontiguousarray(z))
                return out.reshape((z.shape[0],) + cells)  # noqa: RUF005 (Numba)

            return free_log_behaviour_batch, free_version

        @numba.njit
        def free_log_behaviour(z):  # type: ignore[no-untyped-def]
            z2 = np.ascontiguousarray(z).reshape((1, -1))
            return forward(v, s, x, rows, cols, vals, b0, z2).reshape(cells)

        return free_log_behaviour, free_version

    @registrar(FreeMachineLogBehaviourGrad)
    def _free_vjp(op: FreeMachineLogBehaviourGrad, node: Any = None, **kwargs: Any) -> Any:
        vjp = loops.free_vjp
        v, s, x = op._v, op._s, op._x
        rows, cols, vals, b0 = op._coo

        if op.batched:

            @numba.njit
            def free_log_behaviour_vjp_batch(z, logp, g):  # type: ignore[no-untyped-def]
                n = z.shape[0]
                return vjp(
                    v, s, x, rows, cols, vals, b0, np.ascontiguousarray(z),
                    np.ascontiguousarray(logp).reshape((n, -1)),
                    np.ascontiguousarray(g).reshape((n, -1)),
                )  # fmt: skip

            return free_log_behaviour_vjp_batch, free_version

        @numba.njit
        def free_log_behaviour_vjp(z, logp, g):  # type: ignore[no-untyped-def]
            out = vjp(
                v, s, x, rows, cols, vals, b0, np.ascontiguousarray(z).reshape((1, -1)),
                np.ascontiguousarray(logp).reshape((1, -1)),
                np.ascontiguousarray(g).reshape((1, -1)),
            )  # fmt: skip
            return out.reshape(z.shape)

        return free_log_behaviour_vjp, free_version


def _register_jax() -> None:
    """The JAX linker's form (the numpyro sampler): the map, then the machine's log behaviour."""
    try:
        from pytensor.link.jax.dispatch import jax_funcify
    except ImportError:  # no JAX linker in this PyTensor
        return

    def free_log_behaviour_fn(op: FreeMachineLogBehaviour) -> Any:
        import jax.numpy as jnp

        m, b0 = jnp.asarray(op._matrix()), jnp.asarray(op._coo[3])
        n_v, n_s = op._v.shape[1], op.n_settings
        n_h = (b0.shape[0] - n_v - 2 * n_s) // (n_v + 1)
        i = n_v * n_h
        core = jax_log_behaviour(op, vmap=False)

        def free_log_behaviour(z: Any) -> Any:
            t = m @ z + b0
            w, c = t[:i].reshape(n_v, n_h), t[i : i + n_v]
            d, a = t[i + n_v : i + n_v + n_h], t[i + n_v + n_h :].reshape(n_s, 2)
            return core(w, c, d, a)

        return free_log_behaviour

    @jax_funcify.register(FreeMachineLogBehaviour)
    def _free_forward(op: FreeMachineLogBehaviour, node: Any = None, **kwargs: Any) -> Any:
        import jax

        fn = free_log_behaviour_fn(op)
        return jax.vmap(fn) if op.batched else fn

    @jax_funcify.register(FreeMachineLogBehaviourGrad)
    def _free_vjp(op: FreeMachineLogBehaviourGrad, node: Any = None, **kwargs: Any) -> Any:
        import jax

        fn = free_log_behaviour_fn(op)

        def vjp(z: Any, logp: Any, g: Any) -> Any:
            return jax.vjp(fn, z)[1](g)[0]

        return jax.vmap(vjp) if op.batched else vjp


_register()

__all__ = ["FreeMachineLogBehaviour", "FreeMachineLogBehaviourGrad"]
