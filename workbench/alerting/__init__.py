"""Alerting: the hybrid policy (:mod:`~workbench.alerting.policy`) and the alarm
post-processing after it (:mod:`~workbench.alerting.postprocess`: persistence, grouping,
suppression).
"""
