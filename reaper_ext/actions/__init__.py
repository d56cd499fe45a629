"""The ReaScripts REAPER runs: each sends one OSC command to the ReaDDSP engine (stdlib only)."""
