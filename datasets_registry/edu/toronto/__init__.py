"""Datasets of edu/toronto."""
