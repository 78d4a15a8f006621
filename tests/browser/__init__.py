"""Browser tests. A package so that its fixtures can be package-scoped (see conftest.py)."""
