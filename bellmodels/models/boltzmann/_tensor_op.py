"""The machines' log behaviour as one PyTensor Op with a hand-written Numba kernel and gradient.

``log p(x | s)`` of a Boltzmann machine (:class:`~bellmodels.models.boltzmann._kernels.
MachineArrays`) is a free energy per visible row, ``f(v) = c . v + sum_j softplus(d_j + (v W)_j)
+ s . A . x``, normalised over the four outcome cells of each setting pair. Written as PyTensor
algebra (tensordot, softplus, logsumexp and their gradients) it is some forty small Ops, and the
machines' NUTS fits and SMC evidence evaluate it millions of times: each Op's dispatch and
allocation, not the arithmetic (16 rows x 4 hidden units), set the cost, and each Op is one
more Numba compilation on a cold cache. :class:`MachineLogBehaviour` computes it in one loop,
and :class:`MachineLogBehaviourGrad` its vector-Jacobian product in another:

- ``d f_r / d c = v_r``, ``d f_r / d W_ij = v_ri sigmoid(a_rj)``, ``d f_r / d d_j =
  sigmoid(a_rj)`` with ``a_rj = d_j + (v_r W)_j``, ``d f_r / d A_ik = s_ri x_rk``;
- through the normalisation: ``g_f = g - q sum_cells(g)`` with ``q = p(x | s)``.

Hand-written because no library fuses a small PyTensor graph into one kernel; the kernels are
``numba.njit(cache=True)`` functions at module level (:mod:`~bellmodels.models.boltzmann.
_numba_loops`), so Numba compiles them once and keeps them in its own cache (beside that module,
or ``$NUMBA_CACHE_DIR``) for every later process. Off Numba (PyTensor's C or Python linkers)
the Ops run the same kernels from ``perform``. Vectorised over one leading axis of parameter points (``vectorize_graph``: the
tempered SMC's particles) they become their ``batched`` form, one loop over the points, instead
of Blockwise's call per point. The gradient takes the forward output as an input, so nothing is
computed twice.
Smolensky (1986) and Hinton (2002) for the machine; the free energy is the standard one.

>>> import numpy as np
>>> from bellmodels.models.boltzmann import RBM
>>> from bellmodels.models.boltzmann._kernels import log_behaviour
>>> m = RBM.weinstein2017()
>>> arr = m.machine_arrays()
>>> op = MachineLogBehaviour(m.layout.visible, m.layout.n_settings)
>>> out = op(arr.W, arr.c, arr.d, arr.A).eval()
>>> bool(np.allclose(out, log_behaviour(arr, m.layout), atol=1e-12))
True
"""

from __future__ import annotations

import functools
import inspect
import zlib
from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op


def _loops() -> Any:
    """The module of Numba loops (:mod:`~bellmodels.models.boltzmann._numba_loops`), imported
    where first needed; each loop is compiled, or read from Numba's cache, at its first call."""
    from bellmodels.models.boltzmann import _numba_loops

    return _numba_loops


@functools.cache
def kernel_version() -> int:
    """A checksum of the loops' source: part of the key PyTensor caches a compiled graph under,
    so a cached graph never runs an old kernel."""
    return zlib.crc32(inspect.getsource(_loops()).encode())


class _MachineOp(Op):
    """The fixed visible rows of a machine's layout, shared by the forward Op and its gradient."""

    __props__: tuple[str, ...] = ("cells", "n_settings", "rows", "batched")
    core_ndims: tuple[int, ...] = (2, 1, 1, 2)
    input_names: tuple[str, ...] = ("W", "c", "d", "A", "log p", "g")

    def __init__(self, visible: np.ndarray, n_settings: int, batched: bool = False) -> None:
        visible = np.asarray(visible, dtype=float)
        if visible.ndim != 5 or visible.shape[2:4] != (2, 2):
            raise ValueError(f"visible must be (K_a, K_b, 2, 2, n_visible), got {visible.shape}")
        self.cells = tuple(int(k) for k in visible.shape[:4])
        self.n_settings = int(n_settings)
        # one leading axis of parameter points (tempered SMC's particles) or none
        self.batched = bool(batched)
        # a tuple, so the Op hashes and compares by value (PyTensor merges equal Ops)
        self.rows = tuple(map(tuple, visible.reshape(-1, visible.shape[-1]).tolist()))
        v = np.ascontiguousarray(visible.reshape(-1, visible.shape[-1]))
        self._v = v
        self._s = np.ascontiguousarray(v[:, : self.n_settings])
        self._x = np.ascontiguousarray(v[:, self.n_settings :])
        if self._x.shape[1] != 2:
            raise ValueError(f"a machine has 2 outcome units after {n_settings} setting units")

    def _inputs(self, *xs: Any) -> list[Any]:
        if len(xs) != len(self.core_ndims):
            raise TypeError(
                f"{type(self).__name__} takes {len(self.core_ndims)} inputs, got {len(xs)}"
            )
        ins = [pt.as_tensor_variable(x).astype("float64") for x in xs]
        extra = int(self.batched)
        names = self.input_names[: len(ins)]
        for x, nd, what in zip(ins, self.core_ndims, names, strict=True):
            if x.ndim != nd + extra:
                raise ValueError(f"{what} must have {nd + extra} dimensions, got {x.ndim}")
        return ins

    def _visible(self) -> np.ndarray:
        return self._v.reshape(*self.cells, -1)

    def with_batch(self) -> Any:
        """This Op over one leading axis of parameter points."""
        return type(self)(self._visible(), self.n_settings, batched=True)


class MachineLogBehaviour(_MachineOp):
    """``log p(x_a, x_b | s_a, s_b)`` of the machine ``(W, c, d, A)``: shape ``(K_a, K_b, 2, 2)``.

    ``visible`` is the layout's ``(K_a, K_b, 2, 2, n_visible)`` array of visible vectors
    (:class:`~bellmodels.models.boltzmann._kernels.Layout`), the first ``n_settings`` units the
    settings' code and the last two the outcomes.
    """

    gufunc_signature = "(v,h),(v),(h),(s,k)->(a,b,x,y)"

    def make_node(self, *inputs: Any) -> Apply:
        ins = self._inputs(*inputs)  # W, c, d, A
        batch = (ins[0].type.shape[0],) if self.batched else ()
        return Apply(self, ins, [pt.tensor(dtype="float64", shape=(*batch, *self.cells))])

    def perform(self, node: Any, inputs: Any, output_storage: Any) -> None:
        loops = _loops()
        w, c, d, a = (np.ascontiguousarray(x, dtype=float) for x in inputs)
        kernel = loops.forward_batch if self.batched else loops.forward
        out = kernel(self._v, self._s, self._x, w, c, d, a)
        output_storage[0][0] = out.reshape(*out.shape[:-1], *self.cells)

    def infer_shape(self, *args: Any) -> list[tuple[Any, ...]]:
        shapes = args[-1]  # PyTensor 2 passes (fgraph, node, shapes), PyTensor 3 (node, shapes)
        return [(*shapes[0][: int(self.batched)], *self.cells)]

    def pullback(self, inputs: Any, outputs: Any, cotangents: Any) -> list[Any]:
        # the forward output goes in, so the gradient does not recompute it
        vjp = MachineLogBehaviourGrad(self._visible(), self.n_settings, self.batched)
        return list(vjp.make_node(*inputs, outputs[0], *cotangents).outputs)

    def L_op(self, inputs: Any, outputs: Any, output_grads: Any) -> list[Any]:
        # PyTensor 2.x's name for the pullback (PyTensor 3 calls pullback)
        return self.pullback(inputs, outputs, output_grads)


class MachineLogBehaviourGrad(_MachineOp):
    """The vector-Jacobian product of :class:`MachineLogBehaviour`: ``(g_W, g_c, g_d, g_A)``."""

    gufunc_signature = "(v,h),(v),(h),(s,k),(a,b,x,y),(a,b,x,y)->(v,h),(v),(h),(s,k)"
    core_ndims = (2, 1, 1, 2, 4, 4)

    def make_node(self, *inputs: Any) -> Apply:
        ins = self._inputs(*inputs)  # W, c, d, A, log p, g
        return Apply(self, ins, [x.type() for x in ins[:4]])

    def perform(self, node: Any, inputs: Any, output_storage: Any) -> None:
        loops = _loops()
        w, c, d, a, logp, g = (np.ascontiguousarray(x, dtype=float) for x in inputs)
        if self.batched:
            n = g.shape[0]
            outs = loops.vjp_batch(
                self._v, self._s, self._x, w, c, d, a, logp.reshape(n, -1), g.reshape(n, -1)
            )
        else:
            v, s_, x_ = self._v, self._s, self._x
            outs = loops.vjp(v, s_, x_, w, c, d, a, logp.reshape(-1), g.reshape(-1))
        for store, value in zip(output_storage, outs, strict=True):
            store[0] = value

    def infer_shape(self, *args: Any) -> list[Any]:
        shapes = args[-1]  # as MachineLogBehaviour.infer_shape
        return list(shapes[:4])

    def pullback(self, inputs: Any, outputs: Any, cotangents: Any) -> list[Any]:
        return [grad_not_implemented(self, i, x) for i, x in enumerate(inputs)]

    def L_op(self, inputs: Any, outputs: Any, output_grads: Any) -> list[Any]:
        return self.pullback(inputs, outputs, output_grads)


def _vectorize(op: _MachineOp, node: Any, *inputs: Any) -> Any:
    """Points along one leading axis (tempered SMC's particles) get the batched Op: one Numba
    loop over the points, not Blockwise's call per point; anything else gets Blockwise."""
    from pytensor.tensor.blockwise import vectorize_node_fallback

    extra = [x.ndim - nd for x, nd in zip(inputs, op.core_ndims, strict=True)]
    if op.batched or max(extra) != 1 or min(extra) < 0:
        return vectorize_node_fallback(op, node, *inputs)
    n = next(x for x, e in zip(inputs, extra, strict=True) if e == 1).shape[0]
    ins = [
        x if e == 1 else pt.broadcast_to(x, (n, *x.shape))
        for x, e in zip(inputs, extra, strict=True)
    ]
    return op.with_batch().make_node(*ins)


def jax_log_behaviour(op: _MachineOp, vmap: bool = True) -> Any:
    """The machine's log behaviour in ``jax.numpy`` (vmapped over points if ``op`` is batched
    and ``vmap``)."""
    import jax
    import jax.numpy as jnp

    v, s, x, cells = op._v, op._s, op._x, op.cells

    def log_behaviour(w: Any, c: Any, d: Any, a: Any) -> Any:
        f = v @ c + jnp.logaddexp(0.0, d + v @ w).sum(-1) + ((s @ a) * x).sum(-1)
        f = f.reshape(-1, 4)
        return (f - jax.scipy.special.logsumexp(f, axis=1, keepdims=True)).reshape(cells)

    return jax.vmap(log_behaviour) if op.batched and vmap else log_behaviour


def _register_jax() -> None:
    """JAX implementations for PyTensor's JAX linker (the numpyro sampler): the same free energy
    in ``jax.numpy``, its gradient by ``jax.vjp``, batched by ``jax.vmap``."""
    try:
        from pytensor.link.jax.dispatch import jax_funcify
    except ImportError:  # no JAX linker in this PyTensor
        return

    @jax_funcify.register(MachineLogBehaviour)
    def _forward(op: MachineLogBehaviour, node: Any = None, **kwargs: Any) -> Any:
        return jax_log_behaviour(op)

    @jax_funcify.register(MachineLogBehaviourGrad)
    def _vjp(op: MachineLogBehaviourGrad, node: Any = None, **kwargs: Any) -> Any:
        import jax

        fn = jax_log_behaviour(op)

        def log_behaviour_vjp(w: Any, c: Any, d: Any, a: Any, logp: Any, g: Any) -> Any:
            return jax.vjp(fn, w, c, d, a)[1](g)

        return log_behaviour_vjp


def register_ops(ops: tuple[type, ...], register_jax: Any) -> Any | None:
    """Register ``ops`` (a machine Op family) with PyTensor: their batched vectorisation and their
    JAX forms (``register_jax()``). Returns PyTensor's Numba registrar
    (``register_funcify_default_op_cache_key``), or ``None`` where there is no Numba linker (the
    Ops then run from ``perform``)."""
    from pytensor.graph.replace import _vectorize_node

    for op in ops:
        _vectorize_node.register(op, _vectorize)
    register_jax()
    try:
        from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key
    except ImportError:
        return None
    return register_funcify_default_op_cache_key


def _register() -> None:
    """Batched vectorisation, and Numba implementations for PyTensor's Numba linker (nutpie,
    ``mode="NUMBA"``)."""
    registrar = register_ops((MachineLogBehaviour, MachineLogBehaviourGrad), _register_jax)
    if registrar is None:
        return
    import numba

    # The key PyTensor caches a compiled graph under is the Op's type and props, which fix the
    # layout the kernels close over (an Op without a key would make every graph holding it
    # uncacheable, recompiled in each process), and the loops' version (kernel_version).
    version = kernel_version()
    loops = _loops()

    @registrar(MachineLogBehaviour)
    def _forward(op: MachineLogBehaviour, node: Any = None, **kwargs: Any) -> Any:
        forward, forward_batch = loops.forward, loops.forward_batch
        v, s, x, cells = op._v, op._s, op._x, op.cells

        if op.batched:

            @numba.njit
            def log_behaviour_batch(w, c, d, a):  # type: ignore[no-untyped-def]
                out = forward_batch(
                    v,
                    s,
                    x,
                    np.ascontiguousarray(w),
                    np.ascontiguousarray(c),
                    np.ascontiguousarray(d),
                    np.ascontiguousarray(a),
                )
                return out.reshape((out.shape[0],) + cells)  # noqa: RUF005 (Numba)

            return log_behaviour_batch, version

        @numba.njit
        def log_behaviour(w, c, d, a):  # type: ignore[no-untyped-def]
            return forward(v, s, x, w, c, d, a).reshape(cells)

        return log_behaviour, version

    @registrar(MachineLogBehaviourGrad)
    def _vjp(op: MachineLogBehaviourGrad, node: Any = None, **kwargs: Any) -> Any:
        vjp, vjp_batch = loops.vjp, loops.vjp_batch
        v, s, x = op._v, op._s, op._x

        if op.batched:

            @numba.njit
            def log_behaviour_vjp_batch(w, c, d, a, logp, g):  # type: ignore[no-untyped-def]
                n = g.shape[0]
                return vjp_batch(
                    v,
                    s,
                    x,
                    np.ascontiguousarray(w),
                    np.ascontiguousarray(c),
                    np.ascontiguousarray(d),
                    np.ascontiguousarray(a),
                    np.ascontiguousarray(logp).reshape((n, -1)),
                    np.ascontiguousarray(g).reshape((n, -1)),
                )

            return log_behaviour_vjp_batch, version

        @numba.njit
        def log_behaviour_vjp(w, c, d, a, logp, g):  # type: ignore[no-untyped-def]
            lp = np.ascontiguousarray(logp).reshape(-1)
            return vjp(v, s, x, w, c, d, a, lp, np.ascontiguousarray(g).reshape(-1))

        return log_behaviour_vjp, version


_register()

__all__ = ["MachineLogBehaviour", "MachineLogBehaviourGrad"]
