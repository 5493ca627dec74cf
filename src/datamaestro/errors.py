"""Exceptions that datamaestro raises for bad input and failed operations.

Every error carries a one-line message meant for the user: it names the thing
(dataset, file, URL) and says what to do. The CLI prints it without a traceback
and exits with the class's ``exit_code``.
"""


class DatamaestroError(Exception):
    """Base class of all the errors the user should see as one line."""

    exit_code = 1


class UsageError(DatamaestroError):
    """The user asked for something that does not exist or makes no sense."""

    exit_code = 2


class UnknownDatasetError(UsageError):
    """No definition has the requested id."""

    def __init__(self, dataset_id: str, suggestions: list[str]):
        self.dataset_id = dataset_id
        self.suggestions = suggestions
        message = f"unknown dataset '{dataset_id}'"
        if suggestions:
            message += "; closest ids: " + ", ".join(suggestions)
        else:
            message += "; try 'datamaestro search' to list the known datasets"
        super().__init__(message)


class MissingDependencyError(UsageError):
    """An optional package (e.g. Pillow) that the requested operation needs is not installed."""

    def __init__(self, what: str, package: str, extra: str):
        super().__init__(
            f"{package} is needed for {what}: pip install {package} "
            f"(or, in datamaestro's checkout, pip install -e '.[{extra}]')"
        )


class ConfigError(UsageError):
    """The configuration file or an environment variable is invalid."""


class DefinitionError(DatamaestroError):
    """A dataset definition is malformed or could not be loaded."""


class DownloadError(DatamaestroError):
    """A file could not be fetched from any of its URLs."""


class OfflineError(DownloadError):
    """Offline mode forbids the download that a resource needs."""


class ChecksumError(DownloadError):
    """Downloaded bytes do not match the published checksum."""


class FormatError(DatamaestroError):
    """A data file is corrupt, truncated or not in the expected format."""


class UnsafePathError(DatamaestroError):
    """A path would lead outside the folder it must stay in (data folder, output folder)."""


class UnsafeArchiveError(FormatError):
    """An archive holds a member that could write outside its folder (or is not a plain file, folder or link)."""


class UnpackLimitError(FormatError):
    """Unpacking would write more bytes or files than the limit allows."""
class StoreError(DatamaestroError):
    """The team store cannot be used: unreachable, refused bytes, invalid record, missing extra."""


class NotInStoreError(StoreError):
    """``pull`` (store only) needs a file that the store does not hold."""

    exit_code = 3


class RefusedObjectError(StoreError):
    """An object in the store is refused unread: not a regular file, or larger than allowed."""
