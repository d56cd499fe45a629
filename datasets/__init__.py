"""Dataset builders: soundfont corpora, audio+MIDI pairs, REAPER projects and effect pairs."""
