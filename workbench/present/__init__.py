"""Presentation for notebooks and workflows (never imported by a stage): figure builders
(:mod:`~workbench.present.plots`), the answer-first headline (:mod:`~workbench.present.headline`),
plain tables for leaders (:mod:`~workbench.present.tables`), figures in words
(:mod:`~workbench.present.words`), summary tables (:mod:`~workbench.present.summaries`),
04's tables (:mod:`~workbench.present.evaluation`) and 09's (:mod:`~workbench.present.business`,
its trend chart in :mod:`~workbench.present.business_plots`).
"""
