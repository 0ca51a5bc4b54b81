"""Helpers the project's tests share: emulator processes, misbehaving targets,
the fault catalogue, the fork server, pytest probes. Not tests themselves."""
