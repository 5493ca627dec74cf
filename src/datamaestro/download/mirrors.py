"""Trying a resource's URLs in order, and fetching one URL (or local copy) with its checks.

Partial downloads: ``downloads/<id>/<name>.part`` holds the bytes received so
far and ``<name>.part.json`` the URL they come from. They are kept when a
transfer is interrupted (so the next run resumes), and deleted when the file
is installed, when its checksum or size is wrong, or when it came from
another URL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote, urlparse

from datamaestro.download import PrepareContext, Resource
from datamaestro.download.checksum import Checksum
from datamaestro.download.http import Policy, TransferError, fetch
from datamaestro.errors import ChecksumError, DownloadError
from datamaestro.storage import StorageError, disk_error
from datamaestro.store.offline import offline_note, usable_offline

log = logging.getLogger("datamaestro")


class OfflineError(DownloadError):
    """Offline mode forbids the download that a resource needs."""


class _NoLocalCopy(DownloadError):
    """``prepare --from DIR``: DIR has no file for this URL."""


@dataclass
class Fetched:
    """A downloaded file and what its bytes hash to."""

    path: Path
    url: str
    size: int
    #: sha256 of the bytes (None when not asked for)
    sha256: Optional[str]
    #: "<algorithm>:<hex>" of the published checksum's algorithm (None without checksum)
    digest: Optional[str]
    #: whether ``digest`` equals the published checksum (or --no-verify accepted a local copy)
    matches: bool
    #: why a local copy accepted by --no-verify does not match (None otherwise)
    unverified: Optional[str] = None
    #: where in the team store the bytes came from and what verified them (None: not from a store)
    store: Optional[str] = None


def fetch_checked(
    ctx: PrepareContext,
    name: str,
    url: str,
    checksum: Optional[Checksum],
    size: Optional[int],
    sha256: bool = True,
) -> Fetched:
    """Download ``url`` to the resource's partial file (resuming it), hashing it; checks ``size``.

    The bytes are hashed with the checksum's algorithm, and with sha256 unless
    ``sha256`` is false (then ``Fetched.sha256`` is None). With ``prepare
    --from DIR`` the file is copied from ``DIR/<file name of url>`` instead.
    The partial file is deleted when its size is wrong.
    """
    partial = partial_path(ctx, name)
    settings = ctx.settings
    sha256 = sha256 or bool(settings.store_url)  # the store names originals by their sha256
    algorithms = sorted({*(["sha256"] if sha256 else []), *([checksum.algorithm] if checksum else [])})
    store_note = None
    if settings.source_dir is not None:
        source = local_copy(ctx, url)
        digests = _copy(source, partial, algorithms)
        origin = str(source)
    else:
        from datamaestro.store.originals import obtain
        from datamaestro.store.transfer import Original

        def download() -> Original:
            if settings.offline:
                raise OfflineError(f"offline mode: not downloading {url}")
            validator = _claim_partial(partial, url)
            transfer = fetch(
                url,
                partial,
                algorithms,
                f"{ctx.dataset_id}: {name}",
                settings.quiet,
                Policy.from_settings(settings),
                size,
                validator,
                lambda new: _write_note(partial, url, new),
            )
            return Original(transfer.digests.get("sha256", ""), partial.stat().st_size, url, transfer.digests)

        # Issue 12, the team store: the one call into datamaestro.store (the new pipeline takes it
        # over). obtain() puts the store's verified copy at `partial`, or calls download() (and
        # pushes its result with push: auto); without a store it is download().
        original = obtain(settings, ctx.dataset_id, name, partial, declared=checksum, download=download, size=size)
        if original.store is not None:
            _note_path(partial).unlink(missing_ok=True)  # these bytes come from no URL: never resumed
            store_note = f"from the store {original.store}, verified by {original.verified}"
        digests = original.digests
        origin = url
    got = partial.stat().st_size
    if size is not None and got != size:
        discard_partial(ctx, name)
        raise DownloadError(f"got {got} bytes, expected {size}")
    digest = f"{checksum.algorithm}:{digests[checksum.algorithm]}" if checksum else None
    matches = digest == str(checksum)
    unverified = None
    if checksum and not matches and settings.source_dir is not None and settings.no_verify:
        unverified = f"expected {checksum}, got {digest}"
        matches = True  # accepted: the resource records it (no_verify_note)
    return Fetched(partial, origin, got, digests.get("sha256"), digest, matches, unverified, store_note)


def no_verify_note(ctx: PrepareContext, name: str, fetched: Fetched) -> dict[str, Any]:
    """Manifest fields of a copy that no published checksum verified: accepted by ``--no-verify``
    (saying so), or taken from the team store (saying where and what verified it); else {}."""
    if fetched.store is not None:
        return {"store": fetched.store}
    if fetched.unverified is None:
        return {}
    log.warning(
        "%s: %s (%s) does not match its published checksum (%s); accepted because of --no-verify",
        ctx.dataset_id, name, fetched.url, fetched.unverified,
    )
    return {"verified": None, "no_verify": f"accepted with --no-verify: {fetched.unverified}"}


def partial_path(ctx: PrepareContext, name: str) -> Path:
    """Where the download of resource ``name`` goes while it is incomplete."""
    return ctx.folder.download_dir(ctx.dataset_id) / f"{name}.part"


def discard_partial(ctx: PrepareContext, name: str) -> None:
    """Delete the partial download of ``name`` and its note."""
    partial = partial_path(ctx, name)
    partial.unlink(missing_ok=True)
    _note_path(partial).unlink(missing_ok=True)
    try:  # the dataset's download folder, once empty
        partial.parent.rmdir()
    except OSError:
        pass


def local_copy(ctx: PrepareContext, url: str) -> Path:
    """The file in ``--from DIR`` standing for ``url`` (same file name); raises if absent."""
    folder = ctx.settings.source_dir
    assert folder is not None
    path = folder / _file_name(url)
    if not path.is_file():
        raise _NoLocalCopy("not found")
    return path


def try_urls(ctx: PrepareContext, name: str, urls: list[str], attempt: Callable[[str], None]) -> None:
    """Call ``attempt(url)`` on each URL until one succeeds; else raise a summary.

    ``attempt`` raises ``DownloadError`` (or ``ChecksumError``) to move on to
    the next URL. A URL whose partial download can be resumed is tried first.
    The partial download is kept only when its transfer was interrupted.
    """
    what = f"{name} of {ctx.dataset_id}"
    settings = ctx.settings
    local = settings.source_dir is not None
    if local:  # one try per distinct local file
        names = [_file_name(u) for u in urls]
        urls = [u for i, u in enumerate(urls) if names[i] not in names[:i]]
    elif settings.offline and not usable_offline(settings):  # a local store may still serve it
        raise OfflineError(
            f"offline mode: {what} is not prepared and would be downloaded from {urls[0]}; "
            "run without --offline (and DATAMAESTRO_OFFLINE) or use "
            f"'datamaestro prepare {ctx.dataset_id} --from DIR'{offline_note(settings)}"
        )
    else:
        resumable = _partial_url(partial_path(ctx, name))
        if resumable in urls:
            urls = [resumable, *(u for u in urls if u != resumable)]
    attempts: list[str] = []
    mismatches: list[str] = []
    for url in urls:
        shown = str(local_copy_path(ctx, url)) if local else url
        try:
            attempt(url)
            discard_partial(ctx, name)
            return
        except ChecksumError as e:
            discard_partial(ctx, name)
            mismatches.append(f"{shown}: {e}")
            attempts.append(f"{shown}: checksum mismatch ({e})")
        except TransferError as e:
            attempts.append(f"{shown}: {e}")
        except DownloadError as e:
            if not isinstance(e, _NoLocalCopy):  # then the partial download was not touched
                discard_partial(ctx, name)
            attempts.append(f"{shown}: {e}")
    if local:
        if mismatches and len(mismatches) == len(attempts):
            raise ChecksumError(f"the copy of {what} does not match: {'; '.join(mismatches)}")
        raise DownloadError(f"no usable copy of {what}: {'; '.join(attempts)}")
    if mismatches and len(mismatches) == len(attempts):
        raise ChecksumError(
            f"checksum mismatch for {what}: {'; '.join(mismatches)}; "
            "the download was discarded, nothing was kept"
        )
    kept = partial_path(ctx, name)
    resume = (
        f"; {kept.stat().st_size} bytes were kept in {kept}: run again to resume"
        if kept.is_file() and kept.stat().st_size
        else ""
    )
    raise DownloadError(
        f"could not download {what}: {'; '.join(attempts)}{resume}; "
        "check the network or the 'mirrors' setting"
    )


def local_copy_path(ctx: PrepareContext, url: str) -> Path:
    """Where ``prepare --from DIR`` looks for the file of ``url``."""
    assert ctx.settings.source_dir is not None
    return ctx.settings.source_dir / _file_name(url)


def _file_name(url: str) -> str:
    return unquote(Path(urlparse(url).path).name)


def _note_path(partial: Path) -> Path:
    return partial.with_name(partial.name + ".json")


def _note(partial: Path) -> dict[str, Any]:
    """The note of a partial download: its URL and validator ({} if unreadable)."""
    try:
        note = json.loads(_note_path(partial).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return note if isinstance(note, dict) else {}


def _partial_url(partial: Path) -> Optional[str]:
    """The URL the partial download comes from (None if there is none)."""
    return _note(partial).get("url") if partial.is_file() else None


def _claim_partial(partial: Path, url: str) -> Optional[str]:
    """Keep the partial download only if it comes from ``url``; returns its validator."""
    note = _note(partial) if partial.exists() else {}
    if partial.exists() and note.get("url") != url:
        log.info("%s: discarding a partial download from another URL", partial.name)
        partial.unlink()
        note = {}
    _write_note(partial, url, note.get("validator"))
    return note.get("validator")


def _write_note(partial: Path, url: str, validator: Optional[str]) -> None:
    """Record where the bytes of ``partial`` come from (URL, ETag or Last-Modified)."""
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        _note_path(partial).write_text(json.dumps({"url": url, "validator": validator}), encoding="utf-8")
    except OSError as e:
        if disk_error(e):
            raise StorageError(f"cannot write {partial.parent}: {e.strerror}; free some space") from None
        raise


def _copy(source: Path, dest: Path, algorithms: list[str]) -> dict[str, str]:
    """Copy ``source`` to ``dest``, returning the digests of its bytes."""
    hashers = {a: hashlib.new(a) for a in set(algorithms)}
    dest.parent.mkdir(parents=True, exist_ok=True)
    _note_path(dest).unlink(missing_ok=True)  # these bytes come from no URL: never resumed
    try:
        with open(source, "rb") as src, open(dest, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
                for h in hashers.values():
                    h.update(chunk)
    except OSError as e:
        dest.unlink(missing_ok=True)
        if disk_error(e):
            raise StorageError(f"cannot write {dest}: {e.strerror}; free some space") from None
        raise DownloadError(f"cannot read {source}: {e.strerror}") from None
    shutil.copystat(source, dest)
    return {a: h.hexdigest() for a, h in hashers.items()}


class RemoteResource(Resource):
    """A resource fetched from ``url`` or one of ``mirrors`` (tried in order).

    ``checksum`` ("md5:<hex>", "sha256:<hex>") is the published digest of the
    downloaded bytes, ``size`` their published length. Subclasses say what
    becomes of a download in ``_install(ctx, url)``.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        checksum: Optional[str] = None,
        size: Optional[int] = None,
        mirrors: Iterable[str] = (),
        varname: Optional[str] = None,
    ):
        super().__init__(name, varname)
        self.url = url
        self.mirrors = list(mirrors)
        self.checksum = Checksum.parse(checksum) if checksum else None
        self.size = size

    def urls(self, ctx: PrepareContext) -> list[str]:
        """The URLs to try, in order, after the configured mirror rewriting."""
        return [ctx.settings.rewrite(u) for u in (self.url, *self.mirrors)]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "mirrors": self.mirrors,
            "size": self.size,
            "checksum": str(self.checksum) if self.checksum else None,
        }

    def prepare(self, ctx: PrepareContext) -> None:
        try_urls(ctx, self.name, self.urls(ctx), lambda url: self._install(ctx, url))

    def _install(self, ctx: PrepareContext, url: str) -> None:
        """Fetch ``url`` (``fetch_checked``), check it and put the result in place."""
        raise NotImplementedError


def warn_unverified(ctx: PrepareContext, name: str, sha256: str) -> None:
    """Say that ``name`` was accepted without any published checksum."""
    log.warning(
        "%s: %s has no published checksum, so it was not verified (recorded sha256:%s)",
        ctx.dataset_id, name, sha256,
    )
