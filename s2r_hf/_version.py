"""The package version, in a module of its own so that nothing imports up into `s2r_hf/__init__.py` to read it."""

__version__ = "0.1.0"
