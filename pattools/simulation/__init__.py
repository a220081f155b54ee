"""Running the lattice and tokenizing its frames together: the work that needs both
``lattice`` (stepping) and ``tokens`` (building tokens from arrays), shared by export,
replay and the warm-up."""
