"""The version of aioreq."""

__version__ = "0.1.0.dev0"
