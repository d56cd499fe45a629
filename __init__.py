"""ReaDDSP: expressive neural instruments and effect modelling for REAPER."""

__version__ = "0.1.0"
