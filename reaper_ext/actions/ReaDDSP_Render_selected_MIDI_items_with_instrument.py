# @description ReaDDSP: Render selected MIDI items with instrument...
# @version 0.1.0
# @author ReaDDSP
# @about Asks for an instrument and a seed, then renders every selected MIDI item into a new active take.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(globals().get("__file__") or sys.path[0] + "/x")))
from readdsp_action import ask, run_command  # noqa: E402

answer = ask("ReaDDSP render", ["Instrument", "Seed"], [os.environ.get("READDSP_INSTRUMENT", "violin"), "0"])
if answer is not None:
    seed = answer[1].strip() if len(answer) > 1 else "0"
    run_command("/readdsp/render", answer[0].strip(), int(seed) if seed.lstrip("-").isdigit() else 0)
