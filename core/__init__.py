"""Core inference library: data model, MIDI, DDSP synth, features, models, bundles and rendering."""
