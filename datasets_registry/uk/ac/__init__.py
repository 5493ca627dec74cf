"""Datasets of uk/ac."""
