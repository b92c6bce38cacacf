"""Presentation for notebooks and workflows (never imported by a stage): figure builders
(:mod:`~workbench.present.plots`), the answer-first headline (:mod:`~workbench.present.headline`)
and summary tables (:mod:`~workbench.present.summaries`).
"""
