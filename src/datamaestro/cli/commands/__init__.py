"""One module per ``datamaestro`` command (see ``datamaestro.cli.main``)."""
