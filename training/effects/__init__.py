"""Effect-model fitting, training (ours and NAM's), model choice by measurement, and reports."""

#: Our model families (`readdsp effects train --model NAME`), each fitted in training/effects/train.py.
FAMILIES = ("fir", "shaper", "wiener-hammerstein", "modulation", "phaser", "tremolo", "compressor", "gate",
            "chorus")  # fmt: skip
NAM_MODELS = ("nam", "nam-lstm")
MODELS = ("auto", *FAMILIES, *NAM_MODELS)
