"""The REAPER batch converter: list format (golden file); the driver end to end with a stand-in."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.builder import build_dataset
from readdsp.datasets.effects.manifest import load_split, verify_dataset
from readdsp.reaper_ext.batch_convert import (
    BatchConfig,
    ReaperBatchBackend,
    batch_list_text,
    run_batch_convert,
    write_batch_list,
)

GOLDEN = Path(__file__).parent / "golden" / "batch_list.txt"
STANDIN_SOURCE = '''"""A stand-in for `reaper -batchconvert LIST` (REAPER can't run in CI): parses the
documented list format, applies the gain and latency written in the FX chain file,
pads PAD_END seconds, writes 24-bit WAVs. Written to a temp dir and run as an executable."""

import shlex
import sys
import time

import numpy as np
import soundfile as sf


def main(argv):
    list_path = argv[argv.index("-batchconvert") + 1]
    pairs, config, in_config = [], {}, False
    for line in open(list_path, encoding="utf-8").read().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("<CONFIG"):
            in_config = True
        elif in_config and stripped not in (">", "<OUTFMT") and not stripped.startswith("ZX"):
            key, _, value = stripped.partition(" ")
            config[key] = shlex.split(value)[0] if value else ""
        elif not in_config:
            src, dst = line.split("\\t")
            pairs.append((src, dst))
    chain = dict(line.split() for line in open(config["FXCHAIN"]).read().splitlines() if line.strip())
    if chain.get("SLEEP"):
        time.sleep(float(chain["SLEEP"]))
    if chain.get("FAIL"):
        print("plugin crashed", file=sys.stderr)
        return 3
    gain, latency = float(chain["GAIN"]), int(chain["LATENCY"])
    for src, dst in pairs:
        audio, sr = sf.read(src, dtype="float64")
        out = np.concatenate([np.zeros(latency), gain * audio, np.zeros(int(float(config["PAD_END"]) * sr))])
        sf.write(dst, out, int(config.get("SRATE", sr)), subtype="PCM_24")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
'''


def _standin(tmp_path: Path) -> Path:
    """Write the stand-in REAPER as an executable script run by this interpreter."""
    exe = tmp_path / "fake-reaper"
    exe.write_text(f"#!{sys.executable}\n" + STANDIN_SOURCE)
    exe.chmod(0o755)
    return exe


def _chain(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chains" / "drive.RfxChain"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_list_matches_golden_file(tmp_path):
    chain = _chain(tmp_path, "GAIN 1\nLATENCY 0\n")
    pairs = [
        (tmp_path / "in" / "train_clean.wav", tmp_path / "out" / "train_reaper.wav"),
        (tmp_path / "in" / "val clean.wav", tmp_path / "out" / "val_reaper.wav"),
    ]
    text = batch_list_text(pairs, BatchConfig(48000, 1, 1.5, chain))
    assert text == GOLDEN.read_text().replace("@TMP@", str(tmp_path.resolve()))
    # the documented shape: input TAB output lines, then a <CONFIG block closed by '>'
    lines = text.splitlines()
    assert all(line.count("\t") == 1 for line in lines[1:3])
    assert lines[3] == "<CONFIG" and lines[-1] == ">"


def test_list_refuses_bad_paths_and_missing_chain(tmp_path):
    with pytest.raises(ReaDDSPError, match="tab or newline"):
        batch_list_text([(tmp_path / "a\tb.wav", tmp_path / "o.wav")], BatchConfig())
    with pytest.raises(ReaDDSPError, match="FX chain file not found"):
        batch_list_text([(tmp_path / "a.wav", tmp_path / "o.wav")], BatchConfig(fx_chain=tmp_path / "none.RfxChain"))


def test_driver_runs_standin_end_to_end(tmp_path):
    chain = _chain(tmp_path, "GAIN 0.5\nLATENCY 0\n")
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, np.linspace(-0.5, 0.5, 4800), 48000, subtype="FLOAT")
    list_path = write_batch_list(tmp_path / "list.txt", [(src, dst)], BatchConfig(48000, 1, 0.1, chain))
    run_batch_convert(list_path, [dst], reaper=_standin(tmp_path), timeout=60)
    out, sr = sf.read(dst)
    assert sr == 48000 and len(out) == 4800 + 4800  # PAD_END 0.1 s kept the tail
    np.testing.assert_allclose(out[:4800], 0.5 * np.linspace(-0.5, 0.5, 4800), atol=1e-6)


def test_driver_reports_timeout_failure_and_missing_reaper(tmp_path, monkeypatch):
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, np.zeros(480), 48000)
    exe = _standin(tmp_path)
    slow = write_batch_list(tmp_path / "slow.txt", [(src, dst)], BatchConfig(fx_chain=_chain(tmp_path, "SLEEP 5\n")))
    with pytest.raises(ReaDDSPError, match="timed out"):
        run_batch_convert(slow, [dst], reaper=exe, timeout=0.5)
    failing = write_batch_list(tmp_path / "fail.txt", [(src, dst)], BatchConfig(fx_chain=_chain(tmp_path, "FAIL 1\n")))
    with pytest.raises(ReaDDSPError, match="exit code 3: plugin crashed"):
        run_batch_convert(failing, [dst], reaper=exe, timeout=60)
    monkeypatch.delenv("READDSP_REAPER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ReaDDSPError, match="REAPER not found"):
        run_batch_convert(failing, [dst])


def test_reaper_backend_builds_aligned_dataset(tmp_path, monkeypatch):
    chain = _chain(tmp_path, "GAIN 0.5\nLATENCY 37\n")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "standin", "tail_seconds": 0.2, "reaper": {"fxchain": str(chain)}}))
    monkeypatch.setenv("READDSP_REAPER", str(_standin(tmp_path)))
    out = build_dataset(spec, tmp_path / "ds", minutes=0.05, backend=ReaperBatchBackend(), progress=False)
    verify_dataset(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backend"] == "reaper" and manifest["latency_samples"] == 37
    assert manifest["fxchain_text"].startswith("GAIN 0.5")
    x, y, _ = load_split(out, "test")
    # 24-bit output quantisation is the only difference once the 37-sample latency is removed
    np.testing.assert_allclose(y, 0.5 * x, atol=2e-6)


def test_failed_reaper_run_leaves_no_dataset(tmp_path, monkeypatch):
    chain = _chain(tmp_path, "FAIL 1\n")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "broken", "reaper": {"fxchain": str(chain)}}))
    monkeypatch.setenv("READDSP_REAPER", str(_standin(tmp_path)))
    with pytest.raises(ReaDDSPError, match="exit code 3"):
        build_dataset(spec, tmp_path / "ds", minutes=0.05, backend=ReaperBatchBackend(), progress=False)
    assert sorted(os.listdir(tmp_path)) == ["chains", "fake-reaper", "spec.json"]


@pytest.mark.parametrize(
    "chain_text, problem",
    [
        ("GAIN 1.0\nLATENCY 0\n", "reaper output equals its input.*FX chain did nothing"),
        ("GAIN 4.0\nLATENCY 0\n", "reaches full scale.*lower --level or the plugin's output level"),
    ],
)
def test_reaper_capture_that_did_nothing_or_clipped_stops_in_reaper_terms(tmp_path, monkeypatch, chain_text, problem):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "standin", "reaper": {"fxchain": str(_chain(tmp_path, chain_text))}}))
    monkeypatch.setenv("READDSP_REAPER", str(_standin(tmp_path)))
    with pytest.raises(ReaDDSPError, match=problem) as err:
        build_dataset(spec, tmp_path / "ds", minutes=0.05, backend=ReaperBatchBackend(), progress=False)
    assert "chain's" not in str(err.value) and not (tmp_path / "ds").exists()
