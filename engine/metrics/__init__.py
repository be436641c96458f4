"""Metrics: log-linear latency histograms, per-window recording, ring buffer, aggregation."""
