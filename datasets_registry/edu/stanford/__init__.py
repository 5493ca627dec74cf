"""Datasets of edu/stanford."""
