"""Command-line entry points; the real logic lives in the packages."""
