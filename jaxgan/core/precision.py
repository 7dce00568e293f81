"""Mixed precision: float32 parameters and state, a lower-precision compute dtype.

``mixed_precision(module, jnp.bfloat16)`` wraps a Flax module so that every ``apply`` casts its
floating-point parameters and inputs to bfloat16 and casts every floating-point output (the
result, and the updated collections such as batch statistics) back to float32. The
parameters, their gradients, the optimizer states and the model states stay float32: a cast's
gradient is the cotangent cast back, so ``jax.grad`` through ``apply`` returns float32
gradients of the float32 master weights. This is the policy of Micikevicius et al. 2018,
"Mixed Precision Training" (ICLR), as DeepMind's ``jmp`` implements it for Haiku, without
loss scaling: bfloat16 has float32's exponent range, so gradients do not underflow.

What runs in bfloat16 is every matrix product and convolution whose operands are cast
(Flax layers compute in the dtype their inputs and parameters promote to). Flax's
``BatchNorm`` keeps its statistics in float32 (``force_float32_reductions``), and a layer
that mixes a cast operand with float32 state (spectral norm's power-iteration vector)
promotes back to float32 there. ``init`` is unchanged, so a bfloat16 run's parameters have
the same tree, shapes, dtypes and initial values as a float32 run's.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def cast_floating(tree: Any, dtype) -> Any:
  """``tree`` with every floating-point array cast to ``dtype`` (integers, keys unchanged)."""
  floating = lambda x: hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating)
  return jax.tree.map(lambda x: x.astype(dtype) if floating(x) else x, tree)


class MixedPrecision:
  """A Flax module's ``init``/``apply`` with compute in ``compute_dtype`` (see module doc).
  The wrapped module is ``.module``; no other attribute of it reads through."""

  def __init__(self, module: nn.Module, compute_dtype):
    self.module = module
    self.compute_dtype = jnp.dtype(compute_dtype)

  def init(self, rngs, *args, **kwargs):
    return self.module.init(rngs, *args, **kwargs)

  def apply(self, variables, *args, **kwargs):
    variables = dict(variables)
    variables["params"] = cast_floating(variables["params"], self.compute_dtype)
    out = self.module.apply(variables, *cast_floating(args, self.compute_dtype), **kwargs)
    return cast_floating(out, jnp.float32)

  def __repr__(self):
    return f"MixedPrecision({self.module!r}, {self.compute_dtype.name})"


def with_compute_dtype(module: nn.Module, dtype: str):
  """``module`` itself for ``"float32"``, else it wrapped in :class:`MixedPrecision`."""
  if dtype not in DTYPES:
    raise ValueError(f"unknown compute dtype {dtype!r}; choose one of {sorted(DTYPES)}")
  return module if dtype == "float32" else MixedPrecision(module, DTYPES[dtype])
