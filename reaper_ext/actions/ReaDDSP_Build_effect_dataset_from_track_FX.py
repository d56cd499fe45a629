# @description ReaDDSP: Build effect dataset from selected track's FX
# @version 0.1.0
# @author ReaDDSP
# @about Writes the selected track's FX chain as an .RfxChain and builds a paired effect dataset through
#   REAPER's batch converter. The engine reports where the dataset went in the ReaScript console.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(globals().get("__file__") or sys.path[0] + "/x")))
from readdsp_action import run_command  # noqa: E402

run_command("/readdsp/effect_dataset")
