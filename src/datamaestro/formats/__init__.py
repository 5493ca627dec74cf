"""Readers and writers of on-disk data formats."""
