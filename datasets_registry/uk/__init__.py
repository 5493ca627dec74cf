"""Datasets of uk."""
