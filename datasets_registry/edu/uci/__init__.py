"""Datasets of edu/uci."""
