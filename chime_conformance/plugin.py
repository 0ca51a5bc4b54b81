"""pytest plugin (pytest11 entry point): options, fixtures, default target.

Heavy modules are imported lazily so that loading the plugin costs nothing in
test runs that do not use it.
"""
