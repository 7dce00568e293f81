"""Sweep spec files: each ``get_spec()`` returns a :class:`jaxgan.sweeps.spec.SweepSpec`."""
