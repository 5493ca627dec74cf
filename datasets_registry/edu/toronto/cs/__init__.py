"""Datasets of edu/toronto/cs."""
