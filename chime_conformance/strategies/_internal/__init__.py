"""The implementation behind ``strategies``; import from ``strategies``."""
