"""Draft note transcription of guitar audio, offline: basic-pitch's ONNX model through onnxruntime, no TensorFlow.

The model file (`nmp.onnx`, ~230 KB, Apache-2.0, Spotify) ships inside the `basic-pitch` wheel. That wheel's
metadata requires TensorFlow on Linux with Python >= 3.11, so it is installed without its dependencies
(`pip install --no-deps basic-pitch`); nothing of it is imported, only the model file is read. `--model PATH` (or
`model_path=`) takes the file from anywhere else.

Windowing and note creation follow basic-pitch 0.4.0 (`inference.py`, `note_creation.py`): 22.05 kHz audio in
2-s windows overlapping by 30 frames, onsets at local peaks of the onset posterior (plus onsets inferred from rises
of the note posterior) above 0.5, each followed forward while the note posterior stays above 0.3 (11 frames of
tolerance), notes under 127 ms dropped. Its "melodia trick" (notes without an onset) is left out: a draft for a
person to correct is better short of a note than full of ghost ones.

python -m readdsp.datasets.guitar_transcribe [--guitar-notes DIR] [--dataset DIR]: note F1 on the real guitar notes
and on held-out phrases of a from-project dataset (onset within 50 ms, same pitch).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np

from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import Note
from readdsp.core.resample import resample

RATE = 22050
HOP = 256
WINDOW = RATE * 2 - HOP  # samples per model window
FRAMES_PER_WINDOW = 172
OVERLAP_FRAMES = 30
MIDI_LOW = 21  # the model's lowest of 88 pitches
ONSET_THRESHOLD, FRAME_THRESHOLD = 0.5, 0.3
MIN_NOTE_FRAMES = int(round(0.127 * RATE / HOP))
ENERGY_TOLERANCE = 11
MIN_RISE = 0.1  # smallest rise of the note posterior that may count as an onset
LEAD_S = 0.25  # silence put before the audio, so an onset at its first sample is a peak the model sees whole


def bundled_model_path() -> Path | None:
    """`nmp.onnx` inside the installed basic-pitch wheel (found without importing the package), or None."""
    spec = importlib.util.find_spec("basic_pitch")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "saved_models" / "icassp_2022" / "nmp.onnx"
        if path.is_file():
            return path
    return None


class Transcriber:
    """basic-pitch's note and onset posteriors, then notes."""

    def __init__(self, model_path: Path | None = None):
        path = model_path or bundled_model_path()
        if path is None or not Path(path).is_file():
            raise ReaDDSPError(
                "no transcription model: install the basic-pitch wheel without its dependencies "
                "(pip install --no-deps basic-pitch) or pass the path of its nmp.onnx",
                path,
            )
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def posteriors(self, audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        """(note, onset) posteriors [frames, 88] (times: `frame_times` minus LEAD_S)."""
        mono = np.asarray(audio, np.float32)
        mono = mono.mean(axis=1) if mono.ndim == 2 else mono
        if not np.all(np.isfinite(mono)):
            raise ReaDDSPError("audio holds non-finite samples")
        mono = resample(mono, sample_rate, RATE).astype(np.float32) if sample_rate != RATE else mono
        mono = np.concatenate([np.zeros(int(LEAD_S * RATE), np.float32), mono])
        overlap = OVERLAP_FRAMES * HOP
        padded = np.concatenate([np.zeros(overlap // 2, np.float32), mono])
        hop = WINDOW - overlap
        windows = [padded[i : i + WINDOW] for i in range(0, len(padded), hop)]
        batch = np.stack([np.pad(w, (0, WINDOW - len(w))) for w in windows])[:, :, None]
        outputs = {}
        for name in ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2"):  # note, onset
            rows = [self.session.run([name], {self.input: batch[i : i + 8]})[0] for i in range(0, len(batch), 8)]
            out = np.concatenate(rows)[:, OVERLAP_FRAMES // 2 : -(OVERLAP_FRAMES // 2)].reshape(-1, 88)
            outputs[name] = out[: int(len(mono) * (RATE // HOP) / RATE)]
        return outputs["StatefulPartitionedCall:1"], outputs["StatefulPartitionedCall:2"]

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> list[Note]:
        """Notes (velocity from the mean note posterior), sorted by onset."""
        notes = notes_from_posteriors(*self.posteriors(audio, sample_rate))
        return [Note(n.pitch, max(n.onset - LEAD_S, 0.0), max(n.offset - LEAD_S, 0.0), n.velocity) for n in notes]


def frame_times(n_frames: int) -> np.ndarray:
    """Each output frame's time (s): a window's trimmed frames start at its hop (WINDOW minus the overlap)."""
    kept = FRAMES_PER_WINDOW - OVERLAP_FRAMES
    index = np.arange(n_frames)
    return (index // kept) * (WINDOW - OVERLAP_FRAMES * HOP) / RATE + (index % kept) * HOP / RATE


def _inferred_onsets(onsets: np.ndarray, frames: np.ndarray, n_diff: int = 2) -> np.ndarray:
    """The onset posterior, raised where the note posterior rises by MIN_RISE or more over each of 1..n_diff
    frames (scaled to the onset posterior's peak)."""
    diffs = []
    for n in range(1, n_diff + 1):
        padded = np.concatenate([np.zeros((n, frames.shape[1])), frames])
        diffs.append(padded[n:] - padded[:-n])
    rise = np.min(diffs, axis=0)
    rise[rise < MIN_RISE] = 0  # not the small steps where two model windows meet (basic-pitch keeps those)
    rise[:n_diff] = 0
    if rise.max() > 0:
        rise = onsets.max() * rise / rise.max()
    return np.maximum(onsets, rise)


def notes_from_posteriors(frames: np.ndarray, onsets: np.ndarray) -> list[Note]:
    """basic-pitch's polyphonic note creation (without the melodia trick)."""
    n_frames = len(frames)
    if n_frames < 3:
        return []
    onsets = _inferred_onsets(onsets, frames)
    peaks = np.zeros_like(onsets)
    is_peak = (onsets[1:-1] > onsets[:-2]) & (onsets[1:-1] > onsets[2:])
    peaks[1:-1][is_peak] = onsets[1:-1][is_peak]
    starts, pitches = np.where(peaks >= ONSET_THRESHOLD)
    remaining = frames.copy()
    times = frame_times(n_frames + 1)
    notes = []
    for start, pitch in zip(starts[::-1], pitches[::-1], strict=True):
        if start >= n_frames - 1:
            continue
        i, k = start + 1, 0
        while i < n_frames - 1 and k < ENERGY_TOLERANCE:
            k = k + 1 if remaining[i, pitch] < FRAME_THRESHOLD else 0
            i += 1
        i -= k
        if i - start <= MIN_NOTE_FRAMES:
            continue
        remaining[start:i, max(pitch - 1, 0) : pitch + 2] = 0
        amplitude = float(np.mean(frames[start:i, pitch]))
        velocity = int(np.clip(round(127 * amplitude), 1, 127))
        notes.append(Note(int(pitch) + MIDI_LOW, float(times[start]), float(times[i]), velocity))
    return sorted(notes, key=lambda n: (n.onset, n.pitch))


def note_f1(reference: list[Note], estimate: list[Note], onset_tolerance: float = 0.05) -> dict:
    """Onset-and-pitch note F1 (mir_eval's criterion without offsets): one-to-one greedy matching by onset error."""
    pairs = sorted(
        (abs(e.onset - r.onset), ri, ei)
        for ri, r in enumerate(reference)
        for ei, e in enumerate(estimate)
        if e.pitch == r.pitch and abs(e.onset - r.onset) <= onset_tolerance
    )
    used_r, used_e = set(), set()
    for _, ri, ei in pairs:
        if ri not in used_r and ei not in used_e:
            used_r.add(ri)
            used_e.add(ei)
    hits = len(used_r)
    precision = hits / len(estimate) if estimate else 0.0
    recall = hits / len(reference) if reference else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"reference": len(reference), "estimated": len(estimate), "matched": hits, "f1": round(f1, 4)}


def _pooled(rows: list[dict]) -> dict:
    ref, est, hit = (sum(r[k] for r in rows) for k in ("reference", "estimated", "matched"))
    p, r = (hit / est if est else 0.0), (hit / ref if ref else 0.0)
    return {
        "items": len(rows),
        "reference": ref,
        "estimated": est,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if hit else 0.0,
    }


def measure_real_notes(transcriber: Transcriber, notes_dir: Path) -> dict:
    """Note F1 per folder of single real guitar notes (the file name is the note; acoustic names sound an octave
    up, as in training/style_evaluate.py). The reference onset is the first frame within 30 dB of the loudest."""
    import soundfile as sf

    from readdsp.training.style_evaluate import NOTE_NAMES

    out = {}
    for folder, octave_fix in (("guitar-acoustic", 12), ("guitar-electric", 0)):
        rows = []
        for path in sorted((notes_dir / folder).glob("*.wav")):
            name = path.stem.rstrip("0123456789")
            octave = path.stem[len(name) :]
            if name not in NOTE_NAMES or not octave:
                continue
            audio, rate = sf.read(path, dtype="float32", always_2d=True)
            mono = audio.mean(axis=1)
            level = np.convolve(mono**2, np.ones(256) / 256, mode="same")
            onset = float(np.argmax(level >= level.max() * 1e-3) / rate)
            pitch = 12 * (int(octave) + 1) + NOTE_NAMES[name] + octave_fix
            reference = [Note(pitch, onset, len(mono) / rate, 100)]
            rows.append(note_f1(reference, transcriber.transcribe(mono, rate)))
        out[folder] = _pooled(rows)
    return out


def measure_dataset(transcriber: Transcriber, dataset_dir: Path, max_examples: int = 12) -> dict:
    """Pooled note F1 on held-out (test, validation) examples of a cached dataset against their own MIDI."""
    from readdsp.datasets.cache import open_dataset

    data = open_dataset(dataset_dir)
    examples = [e for split in ("test", "validation") for e in data.iter_examples(split)][:max_examples]
    rows = [note_f1(e.note_list(), transcriber.transcribe(e.audio, e.sample_rate)) for e in examples]
    return _pooled(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guitar-notes", type=Path, default=Path("../shared/data/guitar-notes"))
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        transcriber = Transcriber(args.model)
    except ReaDDSPError as err:
        print(f"error: {err}")
        return 2
    result = {}
    if args.guitar_notes.is_dir():
        result["real_guitar_notes"] = measure_real_notes(transcriber, args.guitar_notes)
    if args.dataset is not None:
        result["held_out_phrases"] = measure_dataset(transcriber, args.dataset)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
