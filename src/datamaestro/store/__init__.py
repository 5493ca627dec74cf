"""The team store: prepare once, and every machine takes the verified originals from a shared store.

``TeamStore`` (in ``datamaestro.store.originals``) is what the fetching of
originals calls; ``push`` and ``pull`` (CLI) move whole datasets. See docs/teams.md.
"""
