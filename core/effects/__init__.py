"""Effect models: learned FIR (LTI effects: delay, reverb, cab), LFO-modulated delay (chorus), NAM (.nam) models."""
