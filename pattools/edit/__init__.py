"""ΔPAT editing: the DPat model and bounds, deterministic application, packing, editors."""
