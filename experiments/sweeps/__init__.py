"""Sweep spec files: each ``get_spec()`` returns a :class:`jaxgan.sweep_spec.SweepSpec`."""
