"""Capacity forecasting: series preparation (:mod:`~workbench.forecast.history`), registered
methods (:mod:`~workbench.forecast.methods`), rolling-origin backtests
(:mod:`~workbench.forecast.backtest`), one series' forecast with intervals and trend
(:mod:`~workbench.forecast.outlook`), and capacity plans (:mod:`~workbench.forecast.capacity`).
"""
