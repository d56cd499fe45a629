"""Bundled example material (MIDI files and effect chain specs)."""
