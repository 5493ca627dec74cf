"""Trying a resource's URLs in order, and fetching one URL (or local copy) with its checks.

Partial downloads: ``downloads/<id>/<name>.part`` holds the bytes received so
far and ``<name>.part.json`` the URL they come from. They are kept when a
transfer is interrupted (so the next run resumes), and deleted when the file
is installed, when its checksum or size is wrong, or when it came from
another URL.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from datamaestro.download import PrepareContext, Resource
from datamaestro.download.packing import Limits
from datamaestro.errors import ChecksumError, DownloadError, FormatError, OfflineError
from datamaestro.hashing import Checksum, FileHash, file_digest, hash_file
from datamaestro.log import log
from datamaestro.manifest import Entry
from datamaestro.record import Record
from datamaestro.storage import StorageError, disk_error
from datamaestro.store.offline import offline_note, usable_offline

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Optional, TypeVar

    from datamaestro.config import Settings

    T = TypeVar("T")


class _NoLocalCopy(DownloadError):
    """``prepare --from DIR``: DIR has no file for this URL."""


class Fetched(Record, kw_only=False):
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
    #: what verified a copy from the store that has no published checksum ("store record sha256:<hex>")
    store_verified: Optional[str] = None


def fetch_checked(
    ctx: PrepareContext,
    name: str,
    url: str,
    checksum: Optional[Checksum],
    size: Optional[int],
    twin: Optional[Path] = None,
) -> Fetched:
    """Download ``url`` to the resource's partial file (resuming it), hashing it; checks ``size``.

    The bytes are hashed with sha256 and with the checksum's algorithm. With
    ``prepare --from DIR`` the file is copied from ``DIR/<file name of url>``
    instead; ``twin``, the same published file already in the data folder, is
    linked (or copied). The partial file is deleted when its size is wrong.
    """
    from datamaestro.download.transport import fetch

    partial = partial_path(ctx, name)
    algorithms = sorted({"sha256", *([checksum.algorithm] if checksum else [])})
    settings = ctx.settings
    store_note = store_verified = None
    if twin is not None:
        digests = _copy(twin, partial, algorithms, link=True)
        origin = str(twin)
    elif settings.source_dir is not None:
        source = local_copy(ctx, url)
        digests = _copy(source, partial, algorithms)
        origin = str(source)
    else:
        from datamaestro.download.transport import for_data_folder
        from datamaestro.store.originals import obtain
        from datamaestro.store.transfer import Original

        def download() -> Original:
            if settings.offline:
                raise OfflineError(f"offline mode: not downloading {url}")
            validator = _claim_partial(partial, url, provable=checksum is not None)
            transfer = fetch(
                url,
                partial,
                algorithms,
                f"{ctx.dataset_id}: {name}",
                settings.quiet,
                transfer_policy(settings),
                size,
                validator,
                lambda new: _write_note(partial, url, new),
                resumable_without_validator=checksum is not None,
                health=for_data_folder(ctx.folder.root),
            )
            return Original(transfer.digests["sha256"], partial.stat().st_size, url, transfer.digests)

        # The team store: obtain() puts the store's verified copy at `partial`, or calls
        # download() (and pushes its result with push: auto); without a store it is download().
        original = obtain(settings, ctx.dataset_id, name, partial, declared=checksum, download=download, size=size)
        if original.store is not None:
            _note_path(partial).unlink(missing_ok=True)  # these bytes come from no URL: never resumed
            store_note = f"from the store {original.store}, verified by {original.verified}"
            store_verified = original.verified
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
    return Fetched(partial, origin, got, digests.get("sha256"), digest, matches, unverified, store_note, store_verified)


def transfer_policy(settings: Settings) -> Any:
    """The transport's policy from the settings (retries, deadlines, segments)."""
    from datamaestro.download.transport import Policy

    return Policy(
        settings.retries, settings.backoff, settings.connect_timeout, settings.read_timeout,
        settings.stall_bytes, settings.stall_seconds, settings.segments, settings.segment_threshold,
    )


def partial_path(ctx: PrepareContext, name: str) -> Path:
    """Where the download of resource ``name`` goes while it is incomplete."""
    return ctx.folder.download_dir(ctx.dataset_id) / f"{name}.part"


def discard_partial(ctx: PrepareContext, name: str) -> None:
    """Delete the partial download of ``name`` and its note."""
    from datamaestro.download.transport import discard

    partial = partial_path(ctx, name)
    discard(partial)
    _note_path(partial).unlink(missing_ok=True)


def local_copy(ctx: PrepareContext, url: str) -> Path:
    """The file in ``--from DIR`` standing for ``url`` (same file name); raises if absent."""
    folder = ctx.settings.source_dir
    assert folder is not None
    path = folder / _file_name(url)
    if not path.is_file():
        raise _NoLocalCopy("not found")
    return path


def try_urls(ctx: PrepareContext, name: str, urls: list[str], attempt: Callable[[str], T]) -> T:
    """Call ``attempt(url)`` on each URL until one succeeds (returning its value); else raise a summary.

    ``attempt`` raises ``DownloadError`` (or ``ChecksumError``) to move on to
    the next URL. A URL whose partial download can be resumed is tried first.
    The partial download is kept only when its transfer was interrupted.
    """
    from datamaestro.download.transport import TransferError, kept_bytes

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
        from datamaestro.download.transport import for_data_folder

        urls = for_data_folder(ctx.folder.root).order(urls)  # mirrors that just failed go last
        resumable = _partial_url(partial_path(ctx, name))
        if resumable in urls:
            urls = [resumable, *(u for u in urls if u != resumable)]
    attempts: list[str] = []
    mismatches: list[str] = []
    started = time.monotonic()
    for url in urls:
        shown = str(local_copy_path(ctx, url)) if local else url
        try:
            result = attempt(url)
            discard_partial(ctx, name)
            return result
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
        f"; {kept_bytes(kept)} bytes were kept in {kept}: run again to resume"
        if kept.is_file() and kept_bytes(kept)
        else ""
    )
    elapsed = time.monotonic() - started
    took = f" (gave up after {elapsed:.0f} s)" if elapsed >= 1 else ""
    raise DownloadError(
        f"could not download {what}{took}: "
        f"{'; '.join(attempts)}{resume}; check the network or the 'mirrors' setting, "
        f"or use 'datamaestro prepare {ctx.dataset_id} --from DIR' with a copy of its files, "
        "or --offline to use only prepared datasets"
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


def _claim_partial(partial: Path, url: str, provable: bool) -> Optional[str]:
    """Keep the partial download only if it can be proven to be a prefix of ``url``'s file; returns its validator.

    It must come from ``url``, and either carry the server's validator (ETag or
    Last-Modified, sent back as If-Range) or be checked by a published checksum
    (``provable``) once complete: otherwise a file changed on the server would
    be spliced onto the old bytes unnoticed.
    """
    note = _note(partial) if partial.exists() else {}
    validator = note.get("validator")
    if partial.exists() and note.get("url") != url:
        log.info("%s: discarding a partial download from another URL", partial.name)
        partial.unlink()
        note = {}
    elif partial.exists() and not isinstance(validator, str) and not provable:
        log.info("%s: discarding a partial download that nothing could prove (no ETag, no checksum)", partial.name)
        partial.unlink()
        note = {}
    validator = note.get("validator")
    validator = validator if isinstance(validator, str) else None
    _write_note(partial, url, validator)
    return validator


def _write_note(partial: Path, url: str, validator: Optional[str]) -> None:
    """Record where the bytes of ``partial`` come from (URL, ETag or Last-Modified)."""
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        _note_path(partial).write_text(json.dumps({"url": url, "validator": validator}), encoding="utf-8")
    except OSError as e:
        if disk_error(e):
            raise StorageError(f"cannot write {partial.parent}: {e.strerror}; free some space") from None
        raise


def _copy(source: Path, dest: Path, algorithms: list[str], link: bool = False) -> dict[str, str]:
    """Copy ``source`` to ``dest`` (a hard link with ``link``, where the file system allows),
    returning the digests of its bytes."""
    import hashlib
    import shutil

    hashers = {a: hashlib.new(a) for a in set(algorithms)}
    dest.parent.mkdir(parents=True, exist_ok=True)
    _note_path(dest).unlink(missing_ok=True)  # these bytes come from no URL: never resumed
    dest.unlink(missing_ok=True)
    try:
        if link:
            try:
                os.link(source, dest)
            except OSError:
                link = False
        with open(source, "rb") as src, open(os.devnull if link else dest, "wb") as out:
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
    downloaded bytes, ``size`` their published length. ``unpacked_size`` and
    ``unpacked_files``, when given, bound what the download may expand to
    (else the ``max_unpacked_size`` and ``max_unpacked_files`` settings do).
    Subclasses say only how a download becomes the resource: ``unpack``.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        checksum: Optional[str] = None,
        size: Optional[int] = None,
        mirrors: Iterable[str] = (),
        unpacked_size: Optional[int] = None,
        unpacked_files: Optional[int] = None,
        varname: Optional[str] = None,
    ):
        super().__init__(name, varname)
        self.url = url
        self.mirrors = list(mirrors)
        self.checksum = Checksum.parse(checksum) if checksum else None
        self.size = size
        self.unpacked_size = unpacked_size
        self.unpacked_files = unpacked_files

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

    def produce(self, ctx: PrepareContext, dest: Path) -> Entry:
        twin = None
        if self.checksum and ctx.settings.source_dir is None and not ctx.settings.force:
            twin = ctx.folder.find_verified(str(self.checksum), exclude=ctx.dataset_id)
        if twin is not None:  # the same published file, already in the data folder: no download
            try:
                log.info("%s: %s is already in %s: using it", ctx.dataset_id, self.name, twin)
                return self._from(ctx, self.url, dest, twin)
            except (DownloadError, FormatError) as e:
                log.info("%s: %s could not be used (%s); downloading", ctx.dataset_id, twin, e)
        return try_urls(ctx, self.name, self.urls(ctx), lambda url: self._from(ctx, url, dest))

    def _from(self, ctx: PrepareContext, url: str, dest: Path, twin: Optional[Path] = None) -> Entry:
        """Fetch ``url`` (or its local copy, or ``twin``), check it, and unpack it to ``dest``."""
        from datamaestro.download import verify

        fetched = fetch_checked(ctx, self.name, url, self.checksum, self.size, twin)
        verify.check_download(self.checksum, fetched, rescuable=self.rescuable())
        label = f"{self.name} of {ctx.dataset_id}"
        try:
            if self.transforms():
                unpacked = self.unpack(fetched.path, dest, self.limits(ctx.settings), label)
            else:  # the download itself is the resource: already hashed while fetched
                assert fetched.sha256 is not None
                os.replace(fetched.path, dest)
                unpacked = FileHash(fetched.size, fetched.sha256)
        except FormatError as e:
            discard_partial(ctx, self.name)  # a refused or corrupt download is not worth resuming
            if self.checksum and fetched.matches:
                raise  # the published file itself: another mirror would serve the same bytes
            raise DownloadError(str(e)) from None  # unverified bytes: another mirror may do better
        single = unpacked if isinstance(unpacked, FileHash) else None
        verified_by, note = verify.verdict(ctx, self.name, self, fetched, single)
        origin: dict[str, Any] = {
            "url": url,
            "source": fetched.store or (fetched.url if fetched.url != url else None),
            "original": FileHash(fetched.size, fetched.sha256) if fetched.sha256 else None,
            "verified_by": verified_by,
            "no_verify": note,
        }
        if isinstance(unpacked, FileHash):
            return Entry.of_file(self.name, unpacked, **origin)
        return Entry.of_folder(self.name, unpacked, **origin)

    def rescuable(self) -> bool:
        """Whether content that does not match the published checksum may still be proven (data checksum)."""
        return False

    def unpack(self, source: Path, dest: Path, limits: Limits, label: str) -> FileHash | dict[str, FileHash]:
        """Make the resource at ``dest`` from the downloaded file ``source`` (a file's hash, or a folder's)."""
        raise NotImplementedError

    def reverify(self, ctx: PrepareContext, path: Path) -> Optional[Entry]:
        """A file in place that is the download itself is proven by the published checksum."""
        if not self.checksum or not path.is_file() or path.is_symlink() or self.transforms():
            return None
        if file_digest(path, self.checksum.algorithm) != self.checksum.hexdigest:
            return None
        found = hash_file(path)
        return Entry(
            name=self.name, kind="file", size=found.size, sha256=found.sha256, url=self.url,
            original=found, verified_by=str(self.checksum),
        )

    def transforms(self) -> bool:
        """Whether the resource differs from the downloaded file (decompressed, extracted)."""
        return True

    def limits(self, settings: Settings) -> Limits:
        """How much the download may expand to: what the definition declares, else the configured caps."""
        return Limits(
            max_bytes=self.unpacked_size or settings.max_unpacked_size,
            max_files=self.unpacked_files or settings.max_unpacked_files,
        )
