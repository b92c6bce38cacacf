"""Labels: the incident log and events calendar files (:mod:`~workbench.labels.incidents`),
validated edits of the log (:mod:`~workbench.labels.log`), and the labelling session
(:mod:`~workbench.labels.labeller`). Never imports detection.
"""
