"""The deterministic Kuramoto lattice of the original andres-net program.

``params`` (preset and overrides), ``init.create_state``, ``driver.step``,
``modulators.Modulators``; the numeric kernels live in ``pattools.kernels.lattice``.
"""
