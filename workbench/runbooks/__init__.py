"""Review after an incident: what it looked like as a fixed-length vector
(:mod:`~workbench.runbooks.signature`), the most similar labelled past incidents or "no
similar past incident" (:mod:`~workbench.runbooks.similar`, its threshold from
:mod:`~workbench.runbooks.calibrate`), the steps that resolved them by similarity-weighted
votes (:mod:`~workbench.runbooks.suggest`), and optional wording by a language model that
may cite only what was retrieved (:mod:`~workbench.runbooks.llm`).
"""
