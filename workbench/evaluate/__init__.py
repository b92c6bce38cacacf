"""Evaluation: event-level metrics and the before/after table (:mod:`~workbench.evaluate.events`),
the replay of the three systems over history (:mod:`~workbench.evaluate.replay`), the
business figures for leaders (:mod:`~workbench.evaluate.business`, with their intervals and
verdicts in :mod:`~workbench.evaluate.estimates`), and the NAB scorer (:mod:`~workbench.evaluate.nab`).
"""
