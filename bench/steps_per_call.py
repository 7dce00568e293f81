"""Times the jaxgan training loop with different numbers of steps per dispatch.

  python bench/steps_per_call.py --arch=mlp --steps_per_call=1,10,100,500

Prints steps/s (median of repeats, after a warm-up that includes compilation) and the
compilation time, for choosing ``jaxgan.backend.platform.steps_per_call`` per platform. Synthetic uint8 data
of MNIST's shape is used so no dataset is needed.
"""

import argparse
import statistics
import time

import jax
import numpy as np

from jaxgan.backend import xla_options
from jaxgan.config import make_config
from jaxgan.core.build import build_gan
from jaxgan.nets import models
from jaxgan.run import train_steps


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--arch", default="mlp", choices=models.ARCHS.names())
  p.add_argument("--steps_per_call", default="1,10,100")
  p.add_argument("--total", type=int, default=500, help="steps per timed repeat")
  p.add_argument("--repeats", type=int, default=3)
  args = p.parse_args()
  shape, batch = (28, 28, 1), 64
  gan = build_gan(make_config(arch=args.arch, z_dim=100), shape)
  data = jax.device_put(np.random.default_rng(0).integers(0, 256, (10000, *shape), np.uint8))
  key = jax.random.key(0)
  print(f"backend={jax.default_backend()} arch={args.arch} batch={batch}")
  for n in [int(v) for v in args.steps_per_call.split(",")]:
    run = train_steps.make_multi_step(train_steps.make_train_step(gan, batch))
    state = xla_options.jit_init(gan.init)(jax.random.key(1))
    t0 = time.perf_counter()
    state, m = run(state, data, key, n)
    jax.block_until_ready(m)
    compile_s = time.perf_counter() - t0
    rates = []
    for _ in range(args.repeats):
      t0 = time.perf_counter()
      for _ in range(max(1, args.total // n)):
        state, m = run(state, data, key, n)
      jax.block_until_ready(m)
      rates.append(max(1, args.total // n) * n / (time.perf_counter() - t0))
    print(
      f"steps_per_call={n:5d}  steps/s={statistics.median(rates):9.1f}  "
      f"first call (compile+run)={compile_s:6.1f}s"
    )


if __name__ == "__main__":
  main()
