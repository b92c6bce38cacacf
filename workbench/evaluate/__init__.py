"""Evaluation: event-level metrics and the before/after table (:mod:`~workbench.evaluate.events`),
the replay of the three systems over history (:mod:`~workbench.evaluate.replay`), and the
NAB scorer (:mod:`~workbench.evaluate.nab`).
"""
