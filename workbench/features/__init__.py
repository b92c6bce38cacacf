"""Features: raw samples to windows with honest gaps (:mod:`~workbench.features.windows`),
window context and training filters (:mod:`~workbench.features.context`), and the model
features of a service (:mod:`~workbench.features.service`).
"""
