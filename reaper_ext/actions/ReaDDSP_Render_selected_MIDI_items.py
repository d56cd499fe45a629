# @description ReaDDSP: Render selected MIDI items
# @version 0.1.0
# @author ReaDDSP
# @about Renders every selected MIDI item into a new active take with the instrument saved on the take, else
#   the one the General MIDI program maps to. Needs the ReaDDSP engine (`readdsp engine`).
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(globals().get("__file__") or sys.path[0] + "/x")))
from readdsp_action import run_command  # noqa: E402

run_command("/readdsp/render")
