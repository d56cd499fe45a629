# @description ReaDDSP: Humanize selected MIDI items
# @version 0.1.0
# @author ReaDDSP
# @about Gives every selected MIDI item a new, active MIDI take with learned velocities and durations (the
#   performance model); the original stays as the other take ("ReaDDSP: Restore MIDI take" goes back to it).
#   One undo point. Needs the ReaDDSP engine (`readdsp engine`).
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(globals().get("__file__") or sys.path[0] + "/x")))
from readdsp_action import run_command  # noqa: E402

run_command("/readdsp/humanize")
