"""Fetching the original of a resource: its URLs tried in order, the team store, local copies.

``try_urls`` is the mirror loop: it calls an attempt on each URL until one
succeeds, and else says why each failed. ``Fetch`` brings one original to
the resource's partial download (``datamaestro.download.partial``): linked
from a twin already in the data folder, copied from ``prepare --from DIR``,
taken from the team store, or downloaded by the transport (and pushed to
the store with ``push: auto``). What proves the bytes is decided by
``datamaestro.download.verify``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Optional, TypeVar
from urllib.parse import unquote, urlparse

from datamaestro.config import Settings
from datamaestro.download.context import PrepareContext
from datamaestro.download.partial import Partial
from datamaestro.download.transport import Policy, TransferError, fetch, for_data_folder, hedged
from datamaestro.download.transport.base import TooLarge
from datamaestro.errors import (
    ChecksumError,
    DatamaestroError,
    DownloadError,
    FormatError,
    OfflineError,
    StoreError,
    UnsafeArchiveError,
)
from datamaestro.hashing import Checksum
from datamaestro.log import log
from datamaestro.store.offline import offline_note, usable_offline
from datamaestro.store.originals import TeamStore, Wanted
from datamaestro.store.transfer import Original

T = TypeVar("T")


class NoLocalCopy(DownloadError):
    """``prepare --from DIR``: DIR has no file for this URL."""


def policy_of(settings: Settings) -> Policy:
    """How hard the transport tries one URL, as configured (the settings named as the policy's fields)."""
    shared = {f.name for f in fields(Policy)} & {f.name for f in fields(Settings)}
    return Policy(**{name: getattr(settings, name) for name in shared})


def partial_of(ctx: PrepareContext, name: str) -> Partial:
    """The partial download of resource ``name``."""
    return Partial(ctx.folder.download_dir(ctx.dataset_id) / f"{name}.part", ctx.folder.root)


def file_name(url: str) -> str:
    """The file name in ``url`` (what ``prepare --from DIR`` looks for)."""
    return Path(unquote(urlparse(url).path)).name  # unquoted first: an escaped "/" cannot make a path


def local_copy_path(ctx: PrepareContext, url: str) -> Path:
    """Where ``prepare --from DIR`` looks for the file of ``url``."""
    assert ctx.request.source_dir is not None
    return ctx.request.source_dir / file_name(url)


@dataclass(slots=True)
class Fetched:
    """A fetched original, at the resource's partial download, and what its bytes hash to."""

    path: Path
    #: where the bytes came from: the URL, a local copy's or a twin's path
    url: str
    size: int
    #: hex digests by algorithm: sha256, and the published checksum's algorithm
    digests: dict[str, str]
    #: where in the team store the bytes came from (None: not from a store)
    store: Optional[str] = None
    #: what verified a copy from the store ("md5:<hex>", "store record sha256:<hex>")
    store_verified: Optional[str] = None

    @property
    def sha256(self) -> str:
        return self.digests["sha256"]

    def digest(self, checksum: Checksum) -> str:
        """The digest of the bytes in the checksum's algorithm, as ``<algorithm>:<hex>``."""
        return f"{checksum.algorithm}:{self.digests[checksum.algorithm]}"

    def matches(self, checksum: Checksum) -> bool:
        """Whether the bytes are those the checksum speaks of."""
        return self.digests.get(checksum.algorithm) == checksum.hexdigest


class Fetch:
    """One original of a resource, brought to its partial download and hashed; its size checked.

    ``store``: the team store to take it from (and push it to), None for the origin only;
    ``policy``: how hard to try the URL (None: as configured; ``try_urls`` says).
    """

    def __init__(
        self,
        ctx: PrepareContext,
        store: Optional[TeamStore],
        name: str,
        url: str,
        checksum: Optional[Checksum],
        size: Optional[int],
        policy: Optional[Policy] = None,
    ):
        self.ctx = ctx
        self.policy = policy or policy_of(ctx.settings)
        self.store = store
        self.name = name
        self.url = url
        self.checksum = checksum
        self.size = size
        self.partial = partial_of(ctx, name)
        self.algorithms = sorted({"sha256", *([checksum.algorithm] if checksum else [])})

    def run(self, twin: Optional[Path] = None) -> Fetched:
        """Link ``twin`` (the same published file, already in the data folder), copy the local copy
        (``prepare --from DIR``), or take the file from the store or the URL."""
        store = store_verified = None
        if twin is not None:
            digests, origin = self.partial.copy_from(twin, self.algorithms, link=True), str(twin)
        elif self.ctx.local:
            source = local_copy_path(self.ctx, self.url)
            if not source.is_file():
                raise NoLocalCopy("not found")
            digests, origin = self.partial.copy_from(source, self.algorithms), str(source)
        else:
            original = self.original()
            if original.store is not None:
                self.partial.forget_origin()  # these bytes come from no URL: never resumed
                store = f"from the store {original.store}, verified by {original.verified}"
                store_verified = original.verified
            digests, origin = original.digests, self.url
        got = self.partial.path.stat().st_size
        # a local copy taken with --no-verify is accepted whatever its size, as whatever its checksum
        unchecked = twin is None and self.ctx.local and self.ctx.request.no_verify
        if self.size is not None and got != self.size and not unchecked:
            self.partial.discard()
            raise DownloadError(f"got {got} bytes, expected {self.size}")
        return Fetched(self.partial.path, origin, got, digests, store, store_verified)

    def original(self) -> Original:
        """The original from the team store when it holds a good copy, else from the URL."""
        store = self.store
        if store is None:
            return self.download()
        wanted = Wanted(self.ctx.dataset_id, self.name, self.partial.path, self.checksum, self.size)
        found = store.copy(wanted, store.only)
        if found is not None:
            return found
        if store.only:
            raise store.missing(wanted)
        if not store.pushes:
            return self.download()
        return self.download_for(store, wanted)

    def download_for(self, store: TeamStore, wanted: Wanted) -> Original:
        """Download while holding the store's lease of the file, then push it (unless another machine
        pushed it meanwhile: then that copy is taken)."""
        original: Optional[Original] = None
        try:
            with store.turn(wanted):
                found = store.copy(wanted, only=False)
                if found is not None:
                    return found
                original = self.download()
                store.push(wanted, original)
        except StoreError as e:  # the store failed, not the origin: carry on without it
            log.warning("%s: %s; the store was not updated", wanted.what, e)
        return original if original is not None else self.download()

    def download(self) -> Original:
        """Download the URL to the partial file, resuming what an earlier run kept."""
        ctx = self.ctx
        if ctx.settings.offline:
            raise OfflineError(f"offline mode: not downloading {self.url}")
        partial = self.partial
        validator = partial.claim(self.url, provable=self.checksum is not None)
        transfer = fetch(
            self.url,
            partial.path,
            self.algorithms,
            f"{ctx.dataset_id}: {self.name}",
            ctx.request.quiet,
            self.policy,
            self.size,
            validator,
            lambda new: partial.write_note(self.url, new),
            resumable_without_validator=self.checksum is not None,
            health=for_data_folder(ctx.folder.root),
            root=ctx.folder.root,
        )
        return Original(transfer.digests["sha256"], partial.path.stat().st_size, self.url, transfer.digests)


def ordered_urls(ctx: PrepareContext, name: str, urls: list[str]) -> list[str]:
    """The URLs to try, in order: one per distinct local file with ``--from DIR``; else mirrors that
    just failed last, and first the one a partial download can be resumed from."""
    if ctx.local:
        names = [file_name(u) for u in urls]
        return [u for i, u in enumerate(urls) if names[i] not in names[:i]]
    settings = ctx.settings
    if settings.offline and not usable_offline(settings):  # a local store may still serve it
        raise OfflineError(
            f"offline mode: {name} of {ctx.dataset_id} is not prepared and would be downloaded from {urls[0]}; "
            "run without --offline (and DATAMAESTRO_OFFLINE) or use "
            f"'datamaestro prepare {ctx.dataset_id} --from DIR'{offline_note(settings)}"
        )
    urls = for_data_folder(ctx.folder.root).order(urls)
    resumable = partial_of(ctx, name).url()
    if resumable in urls:
        urls = [resumable, *(u for u in urls if u != resumable)]
    return urls


class Refused(DownloadError):
    """What a URL served was refused as data (an unsafe archive, an unreadable file): another URL
    may serve better bytes, but the network is not to blame."""

    def __init__(self, error: FormatError):
        super().__init__(str(error))
        self.unsafe = isinstance(error, UnsafeArchiveError)


def refusal(failures: Failures, url: str, error: DownloadError) -> str:
    """How the refusal of what ``url`` served reads in the summary (the rule it broke, unrepeated)."""
    text = str(error).removeprefix(f"{url}: ").removeprefix(f"{failures.what}: ")
    if isinstance(error, Refused) and error.unsafe:
        return f"unsafe archive: {text.removeprefix('refused: ')}"
    return text


class DownloadFailed(DownloadError):
    """No URL of a resource gave its file: why each failed (``why``), and what to do (``advice``)."""

    def __init__(self, name: str, dataset_id: str, why: str, advice: str):
        super().__init__(f"could not download {name} of {dataset_id}{why}; {advice}")
        self.name = name
        self.why = why
        self.advice = advice


@dataclass(slots=True)
class Failures:
    """Why each URL of a resource failed, in order."""

    name: str
    dataset_id: str
    attempts: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    #: what was refused as data (not a network failure): an unsafe archive, an unreadable or too large file
    refused: list[str] = field(default_factory=list)
    #: whether an unsafe archive was among them
    unsafe: bool = False
    #: whether the file is fetched to repair a prepared copy (the advice then keeps --repair)
    repair: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def what(self) -> str:
        return f"{self.name} of {self.dataset_id}"

    def all_mismatches(self) -> bool:
        return bool(self.mismatches) and len(self.mismatches) == len(self.attempts)

    def local_error(self) -> DatamaestroError:
        """The error when no local copy (``--from DIR``) was usable."""
        if self.all_mismatches():
            return ChecksumError(f"the copy of {self.what} does not match: {'; '.join(self.mismatches)}")
        return DownloadError(f"no usable copy of {self.what}: {'; '.join(self.attempts)}")

    def error(self, partial: Partial) -> DatamaestroError:
        """The error when no URL gave a good file, saying what was kept for the next run."""
        if self.all_mismatches():
            return ChecksumError(
                f"checksum mismatch for {self.what}: {'; '.join(self.mismatches)}; "
                "the download was discarded, nothing was kept"
            )
        if len(self.mismatches) + len(self.refused) == len(self.attempts):  # the bytes, not the network
            error = UnsafeArchiveError if self.unsafe else DownloadError
            return error(f"{self.what} was refused: {'; '.join(self.attempts)}")
        kept = partial.kept()
        resume = f"; {kept} bytes were kept in {partial.path}: run again to resume" if kept else ""
        elapsed = time.monotonic() - self.started
        took = f" (gave up after {elapsed:.0f} s)" if elapsed >= 1 else ""
        return DownloadFailed(
            self.name, self.dataset_id, f"{took}: {'; '.join(self.attempts)}{resume}",
            "check the network or the 'mirrors' setting, "
            f"or use 'datamaestro prepare {self.dataset_id}{' --repair' if self.repair else ''} --from DIR' "
            "with a copy of its files, "
            "or --offline to use only prepared datasets",
        )


def failed_files(dataset_id: str, errors: list[DownloadError]) -> DownloadError:
    """The error of a dataset whose files failed (``errors``, in order): the one error, or one line
    per file and the advice once."""
    advice = next((e.advice for e in errors if isinstance(e, DownloadFailed)), None)
    if len(errors) == 1 or advice is None:
        return errors[0]
    lines = [f"  {e.name}{e.why}" if isinstance(e, DownloadFailed) else f"  {e}" for e in errors]
    return DownloadError(f"could not download {len(errors)} files of {dataset_id}:\n" + "\n".join(lines) + f"\n{advice}")


def try_urls(ctx: PrepareContext, name: str, urls: list[str], attempt: Callable[[str, Policy], T]) -> T:
    """Call ``attempt(url, policy)`` on each URL until one succeeds (returning its value); else raise a summary.

    ``attempt`` raises ``DownloadError`` (or ``ChecksumError``) to move on to
    the next URL. A URL whose partial download can be resumed is tried first.
    The partial download is kept only when its transfer was interrupted.
    ``policy`` is how hard to try the URL: every URL but the last gets the
    hedged policy (headers within a few seconds, no second try after a
    timeout), so that a mirror that hangs is left for the next one at once.
    """
    partial = partial_of(ctx, name)
    failures = Failures(name, ctx.dataset_id, repair=ctx.request.repair)
    ordered = ordered_urls(ctx, name, urls)
    plain = policy_of(ctx.settings)
    for i, url in enumerate(ordered):
        shown = str(local_copy_path(ctx, url)) if ctx.local else url
        try:
            result = attempt(url, plain if i == len(ordered) - 1 else hedged(plain))
            partial.discard()
            return result
        except ChecksumError as e:
            partial.discard()
            failures.mismatches.append(f"{shown}: {e}")
            failures.attempts.append(f"{shown}: checksum mismatch ({e})")
        except TransferError as e:
            failures.attempts.append(f"{shown}: {e}")
        except (Refused, TooLarge) as e:
            partial.discard()  # (already done: refused bytes are not worth resuming)
            failures.unsafe |= isinstance(e, Refused) and e.unsafe
            failures.refused.append(f"{shown}: {refusal(failures, url, e)}")
            failures.attempts.append(failures.refused[-1])
        except DownloadError as e:
            if not isinstance(e, NoLocalCopy):  # then the partial download was not touched
                partial.discard()
            failures.attempts.append(f"{shown}: {e}")
    raise failures.local_error() if ctx.local else failures.error(partial)
