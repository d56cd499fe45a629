# @description ReaDDSP: Restore MIDI take on selected items
# @version 0.1.1
# @author ReaDDSP
# @about Makes the MIDI take a ReaDDSP render came from active again on every selected item; on a humanized
#   MIDI take, the original MIDI take it was made from (not the newest MIDI take).
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(globals().get("__file__") or sys.path[0] + "/x")))
from readdsp_action import run_command  # noqa: E402

run_command("/readdsp/restore")
