"""jaxgan's side of the benchmark: one configuration per call, one JSON line.

  python -m bench.jax_gan --arch=mlp --loop=scan --steps=500 --population=64

``--loop=jit``: a Python loop over one jitted step per dispatch (the plain JAX baseline).
``--loop=scan``: ``--steps`` steps fused in one ``lax.scan`` per dispatch (jaxgan's loop).
``--population=P``: P independent GANs (own initializations and keys) vmapped inside the
step; steps/s counts GAN-steps (P per update). The GAN is ``build_gan`` of the default
config (the NS loss, Adam 2e-4, β = (0.5, 0.999)) with the chosen architecture, batch 64, on
60,000 random uint8 28×28 images held on the device.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import tempfile

import jax
import numpy as np

from bench.common import emit, measure, peak_rss_mb
from jaxgan.backend import xla_options
from jaxgan.config import make_config
from jaxgan.core import precision
from jaxgan.core.build import build_gan
from jaxgan.nets import models
from jaxgan.run import train_steps

SHAPE, BATCH = (28, 28, 1), 64


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--arch", default="mlp", choices=models.ARCHS.names())
  p.add_argument("--d_norm", default=None)
  p.add_argument("--loop", choices=["jit", "scan"], default="scan")
  p.add_argument("--steps", type=int, default=100, help="steps per timed chunk (scan length)")
  p.add_argument("--population", type=int, default=1)
  p.add_argument("--repeats", type=int, default=5)
  p.add_argument("--compute_dtype", default="float32", choices=sorted(precision.DTYPES))
  p.add_argument("--unroll", type=int, default=1, help="steps per scan loop body")
  p.add_argument("--xla_flags", default="", help="added to XLA_FLAGS (before the backend starts)")
  p.add_argument(
    "--count_kernels",
    action="store_true",
    help="dump the compiled programs and count the kernels per step (slows the first call)",
  )
  args = p.parse_args()
  dump = tempfile.mkdtemp(prefix="jaxgan-hlo-") if args.count_kernels else None
  flags = args.xla_flags + (f" --xla_dump_to={dump} --xla_dump_hlo_as_text" if dump else "")
  os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()

  norm = {} if args.d_norm is None else {"d_norm": args.d_norm}
  gan = build_gan(make_config(arch=args.arch, compute_dtype=args.compute_dtype, **norm), SHAPE)
  step = train_steps.make_train_step(gan, BATCH)
  data = jax.device_put(np.random.default_rng(0).integers(0, 256, (60000, *SHAPE), np.uint8))
  init = gan.init
  pop = args.population
  if pop > 1:
    keys = jax.random.split(jax.random.key(1), pop)
    state = xla_options.jit_init(jax.vmap(init))(keys)
    step = jax.vmap(step, in_axes=(0, None, 0))
    run_key = jax.random.split(jax.random.key(2), pop)
  else:
    state = xla_options.jit_init(init)(jax.random.key(1))
    run_key = jax.random.key(2)

  # jaxgan's own loop: one jit with the state donated and jaxgan's XLA options; a scan of
  # --steps steps per dispatch, or one step per dispatch.
  run = train_steps.make_multi_step(step, unroll=args.unroll)
  per_call = args.steps if args.loop == "scan" else 1
  holder = {"state": state, "out": None}

  def chunk():
    for _ in range(args.steps // per_call):
      holder["state"], holder["out"] = run(holder["state"], data, run_key, per_call)

  sync = lambda: jax.block_until_ready(holder["out"])
  result = measure(chunk, sync, args.steps * pop, args.repeats)
  dev = jax.devices()[0]
  stats = dev.memory_stats() if dev.platform != "cpu" else None
  final = jax.device_get(holder["out"])
  finite = bool(all(np.isfinite(v).all() for v in jax.tree.leaves(final)))
  emit(
    {
      "framework": "jaxgan",
      "jax": jax.__version__,
      "arch": args.arch,
      "d_norm": args.d_norm,
      "compute_dtype": args.compute_dtype,
      "loop": args.loop,
      "steps_per_call": args.steps if args.loop == "scan" else 1,
      "population": pop,
      "device": dev.platform,
      "device_kind": dev.device_kind,
      "batch": BATCH,
      **result,
      "peak_mb": (stats["peak_bytes_in_use"] / 2**20 if stats else peak_rss_mb()),
      "peak_kind": "device" if stats else "process RSS",
      "unroll": args.unroll,
      "xla_flags": args.xla_flags,
      "kernels_per_step": kernels_per_step(dump, per_call, args.unroll) if dump else None,
      "finite": finite,
      "d_loss": float(np.mean(final["d_loss"])),
    }
  )


KERNEL_OP = re.compile(
  r"^\s*(?:ROOT )?%\S+ = .*?\b(fusion|custom-call|convolution|dot|copy|sort|scatter)\("
)


def kernels_per_step(dump: str, per_call: int, unroll: int) -> float | None:
  """Kernel-launching instructions (fusions, library calls, unfused products and copies) per
  training step, read from XLA's dump of the compiled training program: those of the scan's
  loop body (its largest computation not itself fused, ``unroll`` steps long) or, with no
  loop (a plain step, or one unrolled whole), of the entry computation. A count of the
  program, not of a profile; None when nothing was dumped."""
  files = glob.glob(os.path.join(dump, "*jit_run*after_optimizations.txt"))
  if not files:
    return None
  text = open(max(files, key=os.path.getsize)).read()
  blocks = re.split(r"\n(?=\S)", text)  # one computation each
  fused = set(re.findall(r" fusion\(.*?calls=(%[\w.-]+)", text))
  looped = 1 < unroll < per_call or (unroll == 1 and per_call > 1)
  counts = [
    sum(bool(KERNEL_OP.match(line)) for line in b.splitlines())
    for b in blocks
    if b.split(" ")[0] not in fused and b.startswith("ENTRY") != looped
  ]
  return max(counts, default=0) / (unroll if looped else per_call)


if __name__ == "__main__":
  main()
