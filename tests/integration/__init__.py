"""Module tests against the emulated cluster."""
