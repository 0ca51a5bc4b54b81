"""chime-conformance: contract conformance for the Amazon Chime SDK Identity API."""

__version__ = "0.1.0"
