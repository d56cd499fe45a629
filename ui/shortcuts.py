"""The keyboard shortcuts, in one list: the window binds them and the help overlay shows them."""

from __future__ import annotations

#: (action id, key sequence, what it does)
SHORTCUTS: list[tuple[str, str, str]] = [
    ("render", "Ctrl+R", "Render (re-render after edits)"),
    ("play", "Space", "Play / stop"),
    ("undo", "Ctrl+Z", "Undo"),
    ("redo", "Ctrl+Shift+Z", "Redo"),
    ("select_all", "Ctrl+A", "Select all notes of the part"),
    ("reset", "Ctrl+Backspace", "Reset selection to generated"),
    ("save", "Ctrl+S", "Save (humanized: new MIDI file / take)"),
    ("zoom_in", "Ctrl+=", "Zoom in"),
    ("zoom_out", "Ctrl+-", "Zoom out"),
    ("fit", "Ctrl+0", "Fit the part in the window"),
    ("draw_f0", "F", "Draw f0 over the notes (toggle)"),
    ("clear_curves", "Ctrl+Shift+Backspace", "Clear drawn curves of the part"),
    ("humanize", "Ctrl+H", "Humanize the selection (else the part)"),
    ("next_part", "Ctrl+Down", "Next part"),
    ("previous_part", "Ctrl+Up", "Previous part"),
    ("help", "F1", "Show / hide this help"),
]

MOUSE_HELP: list[tuple[str, str]] = [
    ("Click / Shift+click", "Select a note / add or remove it"),
    ("Drag on empty space", "Rubber-band selection"),
    ("Hover a note", "Its pitch, velocity and times"),
    ("Drag in a lane", "Set that control for every note crossed"),
    ("Drag in loudness", "Draw a loudness curve (dB)"),
    ("Wheel / Ctrl+wheel", "Scroll / zoom in time"),
]
