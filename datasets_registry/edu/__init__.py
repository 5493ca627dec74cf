"""Datasets of edu."""
