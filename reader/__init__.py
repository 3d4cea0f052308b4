"""paper-reader: a terminal reader for research-paper digests."""

__version__ = "0.1.0"
