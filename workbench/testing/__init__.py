"""Throwaway servers for tests, benchmarks and trying things without touching production:
:mod:`~workbench.testing.prometheus` and :mod:`~workbench.testing.postgres`, each from
Debian's packages, in a temporary folder, on a free port of 127.0.0.1.
"""
