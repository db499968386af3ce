"""Overload protection for the analysis endpoints: admission control and per-client rates."""
