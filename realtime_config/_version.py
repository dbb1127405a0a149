"""The package version, the single place it is written (pyproject reads it)."""

__version__ = "0.1.0"
