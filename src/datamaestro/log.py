"""``log``: the ``datamaestro`` logger that every module writes to."""

import logging

log = logging.getLogger("datamaestro")
