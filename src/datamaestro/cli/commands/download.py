"""datamaestro download: fetch and verify the files of a dataset, and nothing else.

The files its definition downloads (``filedownloader``, ``archivedownloader``:
fetched, verified, unpacked and recorded as by ``prepare``), but not what is
derived from them (``derived``: converted arrays, indexes) and no typed data:
``prepare ID`` builds those later from the files in place, without the
network. For a machine with network access but little time or memory, or to
fill a team store.

Files behind a sign-in: a resource with a ``sign_in`` attribute (the page
where a person signs in to get the file) is never fetched here; ``download``
names that page and how to hand the file over (``prepare ID --from DIR``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from datamaestro.config import load_settings
from datamaestro.download.context import Request
from datamaestro.download.prepare import prepare
from datamaestro.errors import UsageError
from datamaestro.registry import Registry

NAME = "download"
HELP = "fetch and verify a dataset's files only: nothing derived from them, no typed data (prepare builds those)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="dataset id or alias")
    parser.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="files downloaded at once (default: config 'jobs', else 4)"
    )


@dataclass(frozen=True)
class Downloads:
    """A dataset seen as its downloaded resources alone (what preparing needs: an id and resources)."""

    id: str
    resources: list[Any]


def sign_in_pages(definition: Any) -> list[tuple[str, str]]:
    """(resource name, page) of each download behind a sign-in (its ``sign_in`` attribute)."""
    return [(r.name, str(r.sign_in)) for r in definition.resources if getattr(r, "sign_in", None)]


def run(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    settings = load_settings(args.data, offline=args.offline or None)
    definition = Registry().definition(args.id)
    gated = sign_in_pages(definition)
    instructions = next((r.instructions for r in definition.resources if hasattr(r, "instructions")), None)
    if instructions is not None:  # a ``signin`` resource says what to download where, as ``prepare`` does
        raise UsageError(instructions(definition.id))
    if gated:
        name, page = gated[0]
        raise UsageError(
            f"{definition.id}: {name} needs a sign-in at {page}; download it there, then run "
            f"'datamaestro prepare {definition.id} --from DIR' with DIR the folder holding it"
        )
    downloads = Downloads(definition.id, [r for r in definition.resources if not r.requires()])
    ctx = definition.context(settings, Request(quiet=args.quiet, jobs=args.jobs))
    prepare(downloads, ctx)
    later = [r.name for r in definition.resources if r.requires()]
    names = ", ".join(r.name for r in downloads.resources)
    note = f"; 'datamaestro prepare {definition.id}' builds {', '.join(later)}" if later else ""
    print(f"{definition.id}: {names} in {ctx.dataset_dir}{note}")
    return 0
