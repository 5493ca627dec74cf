"""The ``datamaestro`` command line: one module per command under ``commands/``."""
