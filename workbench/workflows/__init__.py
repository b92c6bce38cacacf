"""Workflows: one module per notebook or CLI verb, and the only core layer that loads data
(from sources and label files) before calling the stages: ``evaluate`` (04, ``workbench
evaluate``), ``label`` (02), ``capacity`` (05, ``workbench forecast``), ``pull``
(``workbench pull``).
"""
