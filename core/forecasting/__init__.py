"""Forecasting: features and windows, scaling, the LSTM, baselines, metrics, intervals, artifacts.

Keras and TensorFlow are imported only inside the functions that build, train or load a model,
so that no page pays their start-up time.
"""
