"""Reports: ``workbench report`` runs the numbered notebooks with papermill into HTML
(:mod:`~workbench.report.runner`), after checking their parameters
(:mod:`~workbench.report.params`), and writes the run index (:mod:`~workbench.report.index`).
"""
