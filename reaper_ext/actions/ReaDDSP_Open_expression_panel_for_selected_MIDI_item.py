# @description ReaDDSP: Open expression panel for selected MIDI item
# @version 0.1.0
# @author ReaDDSP
# @about Opens the ReaDDSP expression panel (its own window) on the selected MIDI item: see and edit every note's
#   expression, hear it, save the edits in the take and render the item into a new take. The panel talks to the
#   ReaDDSP engine (started if needed), never to REAPER directly. Runs `readdsp panel --reaper`.
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(globals().get("__file__") or sys.path[0] + "/x")))
from readdsp_action import NOT_RUNNING, PORT, ensure_engine, say  # noqa: E402


def selected_items():
    """How many items are selected (None outside REAPER, where the panel itself says what is missing)."""
    api = sys.modules.get("reaper_python")
    return None if api is None else api.RPR_CountSelectedMediaItems(0)


def open_panel():
    if selected_items() == 0:
        say("Select a MIDI item first, then open the expression panel.")
        return 1
    if not ensure_engine():
        say(NOT_RUNNING)
        return 1
    command = os.environ.get("READDSP_PANEL_CMD") or shutil.which("readdsp")
    if not command:
        say("The readdsp command is not on PATH: open a terminal and run  readdsp panel --reaper")
        return 1
    flags = {"start_new_session": True} if os.name != "nt" else {"creationflags": 0x00000008}
    subprocess.Popen(
        [command, "panel", "--reaper", "--engine-port", str(PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **flags,
    )
    return 0


open_panel()
