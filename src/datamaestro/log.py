"""``log``: the ``datamaestro`` logger, imported on first use.

Importing ``logging`` costs about 4 ms, which loading a prepared dataset does
not spend: modules on that path write ``log.info(...)`` with this ``log``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs the load path milliseconds
if TYPE_CHECKING:
    import logging


class _Logger:
    """Stands for ``logging.getLogger("datamaestro")``, imported when first used."""

    def __getattr__(self, name: str) -> object:
        import logging

        return getattr(logging.getLogger("datamaestro"), name)


log: logging.Logger = _Logger()  # type: ignore[assignment]
