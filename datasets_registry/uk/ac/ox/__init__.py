"""Datasets of uk/ac/ox."""
