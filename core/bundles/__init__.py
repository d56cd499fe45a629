"""Bundled instrument models (safetensors) and their model cards."""
