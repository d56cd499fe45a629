"""The three trainable MIDI-DDSP modules: DDSP Inference, Synthesis Generator and Expression Generator."""
