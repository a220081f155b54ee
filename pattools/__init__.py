"""pattools: composable Unix commands for token-space editing of oscillator-lattice dynamics."""

__version__ = "0.1.0"
