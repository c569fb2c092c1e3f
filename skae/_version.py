"""skae's version, importable without importing the package (the CLI's ``--version``)."""

__version__ = "0.1.0"
