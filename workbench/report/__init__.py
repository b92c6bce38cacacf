"""Reports: ``workbench report`` runs the numbered notebooks with papermill into HTML
(:mod:`~workbench.report.runner`, one notebook at a time by :mod:`~workbench.report.execute`),
after checking their parameters (:mod:`~workbench.report.params`), writes the run index
(:mod:`~workbench.report.index`) and keeps the runs folder in order: ``latest``, run ids,
pruning (:mod:`~workbench.report.runs`).
"""
