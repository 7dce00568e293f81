"""Where the CPU convolution time goes: each convolution of the DCGAN step, alone, in JAX
(XLA:CPU, compiled with its defaults and with jaxgan's options, ``jaxgan.backend.xla_options``;
the transposed ones also in ``jaxgan.backend.conv_cpu``'s sub-pixel and matrix-product forms)
and in PyTorch, forward and both gradients, at batch 64.

  python -m bench.conv_ops [--torch] [--scan=N] [--step_rounds=N]

``--scan=N`` also times the same JAX op N times inside one ``lax.scan`` (per-op cost inside a
while loop). Prints a table of milliseconds per call (median of 20). ``--step_rounds=N`` also
times the whole DCGAN step compiled both ways, alternating N rounds in one process.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.backend import conv_cpu, xla_options

B = 64
# (name, input NHWC, kernel HWIO, stride, transposed)
OPS = [
  ("D conv1 1→64, 28→14", (B, 28, 28, 1), (4, 4, 1, 64), 2, False),
  ("D conv2 64→128, 14→7", (B, 14, 14, 64), (4, 4, 64, 128), 2, False),
  ("G deconv1 128→64, 7→14", (B, 7, 7, 128), (4, 4, 128, 64), 2, True),
  ("G deconv2 64→1, 14→28", (B, 14, 14, 64), (4, 4, 64, 1), 2, True),
]


def jax_conv(x, w, stride, transposed):
  if transposed:
    return jax.lax.conv_transpose(
      x, w, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
  return jax.lax.conv_general_dilated(
    x, w, (stride, stride), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")
  )


def timeit(fn, *args, n=20):
  out = fn(*args)
  jax.block_until_ready(out)
  times = []
  for _ in range(n):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - t0)
  return statistics.median(times) * 1e3


# XLA:CPU's defaults (convolutions in YNNPACK) and the options jaxgan compiles its steps with.
VARIANTS = {"XLA default": None, "jaxgan": xla_options.for_training()}


def jaxgan_conv_transpose(impl: str):
  """The transposed convolution computed as ``conv_cpu.ConvTranspose`` does with ``impl``."""

  def conv(x, w, stride, transposed):
    m = conv_cpu.ConvTranspose(w.shape[-1], w.shape[:2], (stride, stride), False, impl)
    return m.apply({"params": {"kernel": w}}, x)

  return conv


def jax_rows(scan: int):
  """Each op in each variant, the variants timed one after the other per op; the transposed
  ones also in jaxgan's two CPU forms (``jaxgan.backend.conv_cpu``), with jaxgan's options."""
  rows = []
  cases = [(op, v, jax_conv) for op, v in itertools.product(OPS, VARIANTS)]
  cases += [
    (op, impl, jaxgan_conv_transpose(impl)) for op in OPS if op[4] for impl in ("subpixel", "gemm")
  ]
  for (name, xs, ws, s, tr), variant, conv in cases:
    jit = functools.partial(jax.jit, compiler_options=VARIANTS.get(variant, VARIANTS["jaxgan"]))
    x = jnp.asarray(np.random.default_rng(0).standard_normal(xs), jnp.float32)
    w = jnp.asarray(np.random.default_rng(1).standard_normal(ws) * 0.05, jnp.float32)
    fwd = jit(lambda x, w: conv(x, w, s, tr))
    y = fwd(x, w)
    dx = jit(lambda x, w, g: jax.vjp(lambda x: conv(x, w, s, tr), x)[1](g)[0])
    dw = jit(lambda x, w, g: jax.vjp(lambda w: conv(x, w, s, tr), w)[1](g)[0])
    row = {
      "op": name,
      "variant": variant,
      "fwd": timeit(fwd, x, w),
      "dx": timeit(dx, x, w, y),
      "dw": timeit(dw, x, w, y),
    }
    if scan:

      def looped(x, w, g):
        def body(c, _):
          gx = jax.vjp(lambda x: conv(x, w, s, tr), x)[1](g)[0]
          return c + gx[0, 0, 0, 0], None

        return jax.lax.scan(body, 0.0, None, length=scan)[0]

      row["dx_in_scan"] = timeit(jit(looped), x, w, y, n=3) / scan
    rows.append(row)
  return rows


def torch_rows():
  import torch
  import torch.nn.functional as F

  rows = []
  for name, xs, ws, s, tr in OPS:
    x = torch.randn(xs[0], xs[3], xs[1], xs[2])
    if tr:  # ConvTranspose2d weight: (in, out, kh, kw)
      w = torch.randn(ws[2], ws[3], ws[0], ws[1]) * 0.05
      f = lambda x, w: F.conv_transpose2d(x, w, stride=s, padding=1)
    else:
      w = torch.randn(ws[3], ws[2], ws[0], ws[1]) * 0.05
      f = lambda x, w: F.conv2d(x, w, stride=s, padding=1)
    y = f(x, w)
    g = torch.randn_like(y)

    def run(kind):
      xx, ww = x.clone().requires_grad_(kind == "dx"), w.clone().requires_grad_(kind == "dw")

      def once():
        out = f(xx, ww)
        if kind != "fwd":
          out.backward(g)

      once()
      times = []
      for _ in range(20):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
      return statistics.median(times) * 1e3

    # Backward timings include the forward; the forward alone is subtracted.
    fwd = run("fwd")
    rows.append({"op": name, "fwd": fwd, "dx": run("dx") - fwd, "dw": run("dw") - fwd})
  return rows


def step_rounds(rounds: int, steps: int = 5):
  """The whole DCGAN step (bench.jax_gan's: NS loss, Adam, batch 64, D with batch norm)
  compiled in each variant, timed in alternating rounds of ``steps`` steps in this one process,
  so that both see the same machine. Returns steps/s per round for each variant."""
  from jaxgan.backend import xla_options
  from jaxgan.config import make_config
  from jaxgan.core.build import build_gan
  from jaxgan.run import train_steps

  shape = (28, 28, 1)
  gan = build_gan(make_config(arch="dcgan", d_norm="batch"), shape)
  state = xla_options.jit_init(gan.init)(jax.random.key(1))
  step = train_steps.make_train_step(gan, B)
  data = jax.device_put(np.random.default_rng(0).integers(0, 256, (6000, *shape), np.uint8))
  key = jax.random.key(2)
  compiled = {
    v: jax.jit(step, compiler_options=o).lower(state, data, key).compile()
    for v, o in VARIANTS.items()
  }
  states = {v: compiled[v](state, data, key)[0] for v in VARIANTS}  # warm-up
  rates = {v: [] for v in VARIANTS}
  for _ in range(rounds):
    for v in VARIANTS:
      t0 = time.perf_counter()
      for _ in range(steps):
        states[v], _ = compiled[v](states[v], data, key)
      jax.block_until_ready(states[v])
      rates[v].append(steps / (time.perf_counter() - t0))
  return rates


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--torch", action="store_true")
  p.add_argument("--scan", type=int, default=0)
  p.add_argument(
    "--step_rounds",
    type=int,
    default=0,
    help="also time the whole DCGAN step in both variants, alternating, N rounds",
  )
  args = p.parse_args()
  if args.step_rounds:
    rates = step_rounds(args.step_rounds)
    for v, r in rates.items():
      print(
        f"DCGAN step, {v:11s}: steps/s per round {[round(x, 2) for x in r]}, "
        f"median {statistics.median(r):.2f}"
      )
    a, b = rates["jaxgan"], rates["XLA default"]
    print(f"ratio jaxgan / XLA default per round: {[round(x / y, 2) for x, y in zip(a, b)]}")
  rows = jax_rows(args.scan)
  t = {r["op"]: r for r in torch_rows()} if args.torch else {}
  print(
    f"ms per call, batch {B}, {jax.devices()[0].device_kind}; jaxgan's compiler options: "
    f"{VARIANTS['jaxgan']}"
  )
  for r in rows:
    line = (
      f"{r['op']:24s} {r['variant']:11s} fwd {r['fwd']:7.2f}  dx {r['dx']:7.2f}  dw {r['dw']:7.2f}"
    )
    if "dx_in_scan" in r:
      line += f"  dx in scan {r['dx_in_scan']:7.2f}"
    if r["op"] in t:
      q = t[r["op"]]
      line += f"  | torch fwd {q['fwd']:6.2f}  dx {q['dx']:6.2f}  dw {q['dw']:6.2f}"
    print(line)


if __name__ == "__main__":
  main()
