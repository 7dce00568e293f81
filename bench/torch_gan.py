"""The PyTorch reference: the classic MNIST MLP GAN and the small DCGAN, as jaxgan defines them.

  python -m bench.torch_gan --model=mlp --mode=eager|compile|reduce-overhead

Written for this benchmark to match jaxgan's ``mlp`` and ``dcgan`` (``--d_norm=batch``) one
for one: same layers, PyTorch's default initializations (jaxgan's ``mlp`` copies them), NS
loss through ``BCEWithLogitsLoss``, Adam 2e-4 with β = (0.5, 0.999), batch 64, a D step on a
fresh z and then a G step on another. The dataset lies on the device as uint8 (60,000 random
28×28 images) and each step samples its batch there, as jaxgan does, so no host transfer is
timed. Prints one JSON line (see bench/common.py).
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from bench.common import emit, measure, peak_rss_mb

BATCH, Z_DIM = 64, 100


def mlp():
  g = nn.Sequential(
    nn.Linear(Z_DIM, 256),
    nn.LeakyReLU(0.2),
    nn.Linear(256, 512),
    nn.LeakyReLU(0.2),
    nn.Linear(512, 1024),
    nn.LeakyReLU(0.2),
    nn.Linear(1024, 784),
    nn.Tanh(),
  )
  d = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 1024),
    nn.LeakyReLU(0.2),
    nn.Dropout(0.3),
    nn.Linear(1024, 512),
    nn.LeakyReLU(0.2),
    nn.Dropout(0.3),
    nn.Linear(512, 256),
    nn.LeakyReLU(0.2),
    nn.Dropout(0.3),
    nn.Linear(256, 1),
  )
  return g, d


class Reshape(nn.Module):
  def __init__(self, *shape):
    super().__init__()
    self.shape = shape

  def forward(self, x):
    return x.reshape(x.shape[0], *self.shape)


def dcgan():
  """jaxgan's dcgan (G width 32, D width 64, D batch norm) for 28×28×1, in NCHW."""
  g = nn.Sequential(
    nn.Linear(Z_DIM, 7 * 7 * 128, bias=False),
    nn.BatchNorm1d(7 * 7 * 128),
    nn.ReLU(),
    Reshape(128, 7, 7),
    nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
    nn.BatchNorm2d(64),
    nn.ReLU(),
    nn.ConvTranspose2d(64, 1, 4, 2, 1),
    nn.Tanh(),
  )
  d = nn.Sequential(
    nn.Conv2d(1, 64, 4, 2, 1),
    nn.LeakyReLU(0.2),
    nn.Conv2d(64, 128, 4, 2, 1, bias=False),
    nn.BatchNorm2d(128),
    nn.LeakyReLU(0.2),
    nn.Flatten(),
    nn.Linear(7 * 7 * 128, 1),
  )
  return g, d


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--model", choices=["mlp", "dcgan"], default="mlp")
  p.add_argument("--mode", choices=["eager", "compile", "reduce-overhead"], default="eager")
  p.add_argument("--steps", type=int, default=50, help="steps per timed chunk")
  p.add_argument("--repeats", type=int, default=5)
  args = p.parse_args()
  torch.manual_seed(0)
  device = "cuda" if torch.cuda.is_available() else "cpu"
  g, d = (mlp if args.model == "mlp" else dcgan)()
  g, d = g.to(device), d.to(device)
  g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
  d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
  if args.mode != "eager":
    compile_mode = "reduce-overhead" if args.mode == "reduce-overhead" else "default"
    g, d = torch.compile(g, mode=compile_mode), torch.compile(d, mode=compile_mode)
  data = torch.randint(0, 256, (60000, 1, 28, 28), dtype=torch.uint8, device=device)
  bce = nn.BCEWithLogitsLoss()
  ones = torch.ones(BATCH, 1, device=device)
  zeros = torch.zeros(BATCH, 1, device=device)

  def step():
    idx = torch.randint(0, data.shape[0], (BATCH,), device=device)
    real = data[idx].float() / 127.5 - 1.0
    if args.model == "mlp":
      real = real.reshape(BATCH, 784)
    fake = g(torch.randn(BATCH, Z_DIM, device=device)).detach()
    if args.model == "mlp":
      fake = fake.reshape(BATCH, 784)
    d_loss = bce(d(real), ones) + bce(d(fake), zeros)
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    g_loss = bce(d(g(torch.randn(BATCH, Z_DIM, device=device))), ones)
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()

  def chunk():
    for _ in range(args.steps):
      step()

  sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
  if device == "cuda":
    torch.cuda.reset_peak_memory_stats()
  result = measure(chunk, sync, args.steps, args.repeats)
  emit(
    {
      "framework": "pytorch",
      "torch": torch.__version__,
      "model": args.model,
      "mode": args.mode,
      "device": device,
      "threads": torch.get_num_threads(),
      "batch": BATCH,
      "population": 1,
      **result,
      "peak_mb": (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else peak_rss_mb()),
      "peak_kind": "device" if device == "cuda" else "process RSS",
    }
  )


if __name__ == "__main__":
  main()
