"""The model lifecycle: training and rolling retraining (:mod:`~workbench.lifecycle.training`)
and stored model versions (:mod:`~workbench.lifecycle.versions`).

Named "lifecycle" so it clashes neither with the ``models/`` data folder nor with the
extension-point registry (:mod:`workbench._registry`).
"""
