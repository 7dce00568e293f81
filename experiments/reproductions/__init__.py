"""One module per reproduced paper: ``PAPER``, ``WHAT`` and ``run(budget, outdir) -> str``
(the table it wrote); :mod:`experiments.reproduce` runs them by name."""

import os


def write_results(outdir: str, table: str, setup: str) -> str:
  """Writes a reproduction's ``table.md`` and ``setup.md`` into ``outdir``; returns the table."""
  for name, text in (("table.md", table), ("setup.md", setup)):
    with open(os.path.join(outdir, name), "w") as f:
      f.write(text)
  return table
