"""Where the Hugging Face Hub's files are: its endpoint, resolve URLs, ``hf://`` URLs, and its token.

``hf://datasets/ORG/NAME@REVISION/PATH`` (a mirror in a definition, or what
an ``hf:`` id resolves to) is fetched from the Hub's resolve URL,
``{endpoint}/datasets/ORG/NAME/resolve/REVISION/PATH``, where the endpoint is
``HF_ENDPOINT`` as huggingface_hub reads it (default https://huggingface.co).
A request to the endpoint carries the token huggingface_hub would send
(``HF_TOKEN``, or its saved login), built by huggingface_hub's own header
builder; no other host ever gets it (redirects to another host drop it).
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote, unquote

from datamaestro.errors import DownloadError
from datamaestro.paths import printable

#: the scheme of Hub file URLs
SCHEME = "hf://"
#: the Hub's address when ``HF_ENDPOINT`` is not set (as huggingface_hub)
DEFAULT_ENDPOINT = "https://huggingface.co"

HUB_URL = re.compile(r"hf://datasets/([^/@]+/[^/@]+)(?:@([^/]+))?/(.+)")


def endpoint() -> str:
    """The Hub's address: ``HF_ENDPOINT`` as huggingface_hub reads it, else huggingface.co."""
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def resolve_url(repo: str, revision: str, path: str) -> str:
    """The HTTP URL of file ``path`` of the dataset repository ``repo`` at ``revision``."""
    return f"{endpoint()}/datasets/{repo}/resolve/{quote(revision, safe='')}/{quote(path)}"


def http_url(url: str) -> str:
    """The HTTP URL of an ``hf://datasets/ORG/NAME@REVISION/PATH`` URL (other URLs unchanged)."""
    if not url.startswith(SCHEME):
        return url
    match = HUB_URL.fullmatch(url)
    if match is None:
        raise DownloadError(f"{printable(url, 200)}: not a Hub file URL; write hf://datasets/ORG/NAME@REVISION/PATH")
    repo, revision, path = match.groups()
    return resolve_url(repo, unquote(revision or "main"), unquote(path))


def token_headers(url: str) -> dict[str, str]:
    """The Hub token as huggingface_hub sends it, for a request to the Hub's endpoint only
    (nothing without huggingface_hub or without a token)."""
    if not url.startswith(endpoint() + "/"):
        return {}
    try:
        from huggingface_hub.utils import build_hf_headers
    except ImportError:
        return {}
    built = {k.lower(): v for k, v in build_hf_headers().items()}
    return {"Authorization": built["authorization"]} if "authorization" in built else {}
