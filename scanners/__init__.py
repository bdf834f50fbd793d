"""Watchpost's pure analysis layer: no network, no database, no clock except through arguments."""

__version__ = "0.1.0"
SCANNER_VERSION = __version__
