"""Reports: ``workbench report`` runs the numbered notebooks with papermill into HTML
(:mod:`~workbench.report.runner`, one notebook at a time by :mod:`~workbench.report.execute`),
after checking their parameters (:mod:`~workbench.report.params`), and writes the run index
(:mod:`~workbench.report.index`).
"""
