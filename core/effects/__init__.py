"""Effect models: learned FIR (LTI effects: delay, reverb, cab), NAM (.nam) models."""
