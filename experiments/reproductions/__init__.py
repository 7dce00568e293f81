"""One module per reproduced paper: ``PAPER``, ``WHAT`` and ``run(budget, outdir) -> str``
(the table it wrote); :mod:`experiments.reproduce` runs them by name."""
