"""livecode: run untrusted code for other programs, through plugins."""

__version__ = "0.1.0"
