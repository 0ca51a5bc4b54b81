"""The conformance suite: the Chime SDK Identity contract stated as tests."""
