"""Importing readdsp sets the thread and cache policies torch reads at load, and keeps what the user set."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SHOW = "import json, os, readdsp; print(json.dumps({k: os.environ.get(k) for k in {names}}))"
NAMES = ["OMP_WAIT_POLICY", "KMP_BLOCKTIME", "ONEDNN_PRIMITIVE_CACHE_CAPACITY"]


def policy_after_import(**preset: str) -> dict[str, str | None]:
    env = {k: v for k, v in os.environ.items() if k not in NAMES} | preset
    code = SHOW.replace("{names}", repr(NAMES))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def test_import_sets_passive_waiting_and_a_bounded_onednn_cache() -> None:
    expected = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0", "ONEDNN_PRIMITIVE_CACHE_CAPACITY": "4"}
    assert policy_after_import() == expected


def test_values_the_user_set_are_kept() -> None:
    kept = policy_after_import(OMP_WAIT_POLICY="ACTIVE", ONEDNN_PRIMITIVE_CACHE_CAPACITY="256")
    assert kept["OMP_WAIT_POLICY"] == "ACTIVE" and kept["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "256"
    assert kept["KMP_BLOCKTIME"] == "0"
