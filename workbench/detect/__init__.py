"""Detection: rules and models behind one interface. The Isolation Forest
(:mod:`~workbench.detect.forest`) and its calibration (:mod:`~workbench.detect.calibration`),
static rules (:mod:`~workbench.detect.rules`), the single-series detector
(:mod:`~workbench.detect.series`) and SHAP explanations (:mod:`~workbench.detect.explain`).
"""
