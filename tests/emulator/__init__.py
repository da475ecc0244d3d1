"""A local Kubernetes API emulator: the test cluster of hubfleet.jupyterhub (see docs/emulator.md)."""
