"""The release version, alone, so that any layer can name it without importing the package API."""

__version__ = "1.0.0"
