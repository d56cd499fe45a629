"""PyQt5 user interface: the per-note expression panel."""
