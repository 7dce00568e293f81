"""Times the jaxgan training loop with different numbers of steps per dispatch.

  python bench/steps_per_call.py --arch=mlp --steps_per_call=1,10,100,500
  python bench/steps_per_call.py --arch=dcgan --d_norm=batch --steps_per_call=1,2u --rounds=10

``Nu`` is N steps unrolled into straight-line code (``lax.scan(unroll=True)``, no loop). Each
form is compiled first, then all are timed in alternating rounds of ``--total`` steps in this
one process (the order reversed every other round), so that the machine's drift falls on all
of them alike. Prints steps/s (median of the rounds, and each round's ratio to the first form)
and the first call's time (compiling and running it), for choosing
``jaxgan.backend.platform.steps_per_call`` and ``scan_unroll`` per platform. Synthetic uint8
data of MNIST's shape is used so no dataset is needed.
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
  p.add_argument("--d_norm", default=None)
  p.add_argument("--steps_per_call", default="1,10,100", help="forms, e.g. 1,2u,100")
  p.add_argument("--total", type=int, default=500, help="steps per timed round")
  p.add_argument("--rounds", type=int, default=3)
  args = p.parse_args()
  shape, batch = (28, 28, 1), 64
  norm = {"d_norm": args.d_norm} if args.d_norm else {}
  gan = build_gan(make_config(arch=args.arch, z_dim=100, **norm), shape)
  data = jax.device_put(np.random.default_rng(0).integers(0, 256, (10000, *shape), np.uint8))
  key = jax.random.key(0)
  print(f"backend={jax.default_backend()} arch={args.arch} batch={batch}")
  forms = {}
  for form in args.steps_per_call.split(","):
    n, unrolled = int(form.rstrip("u")), form.endswith("u")
    run = train_steps.make_multi_step(train_steps.make_train_step(gan, batch), unroll=unrolled or 1)
    state = xla_options.jit_init(gan.init)(jax.random.key(1))
    t0 = time.perf_counter()
    state, m = run(state, data, key, n)
    jax.block_until_ready(m)
    forms[form] = {"run": run, "n": n, "state": state, "first": time.perf_counter() - t0}
  rates = {form: [] for form in forms}
  for r in range(args.rounds):
    for form in list(forms)[:: 1 if r % 2 == 0 else -1]:
      f = forms[form]
      calls = max(1, args.total // f["n"])
      t0 = time.perf_counter()
      for _ in range(calls):
        f["state"], m = f["run"](f["state"], data, key, f["n"])
      jax.block_until_ready(m)
      rates[form].append(calls * f["n"] / (time.perf_counter() - t0))
  first = next(iter(rates.values()))
  for form, f in forms.items():
    ratios = [b / a for a, b in zip(first, rates[form])]
    print(
      f"steps_per_call={form:>5}  steps/s={statistics.median(rates[form]):9.1f}  "
      f"per round vs the first form {min(ratios):.3f}-{max(ratios):.3f}  "
      f"first call (compile+run)={f['first']:6.1f}s"
    )


if __name__ == "__main__":
  main()
