"""datamaestro info: what a dataset is, which files it needs, and where it is stored."""

from __future__ import annotations

import argparse
import json
from typing import Any

from datamaestro.config import load_settings
from datamaestro.errors import UsageError
from datamaestro.paths import printable
from datamaestro.registry import Registry
from datamaestro.splits import categories_of, split_stats, splits_of
from datamaestro.storage import DataFolder

NAME = "info"
HELP = "describe a dataset: description, license, citation, files and their checksums, where it is prepared"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="dataset id")
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.add_argument("--bibtex", action="store_true", help="print only the citation (BibTeX)")


def describe(dataset_id: str, data: str | None, quiet: bool) -> dict[str, Any]:
    """The facts ``info`` prints, as a dict."""
    settings = load_settings(data)
    definition = Registry().definition(dataset_id)
    ctx = definition.context(settings)
    info: dict[str, Any] = {
        "id": definition.id,
        "name": definition.name,
        "aliases": definition.aliases,
        "type": definition.type_name,
        "url": definition.url,
        "homepage": definition.homepage,
        "license": definition.license,
        "citation": definition.citation,
        "tags": definition.tags,
        "description": definition.description,
        "files": [{**r.describe(), "verification": verification(r)} for r in definition.resources],
        "download": download_size(definition),
        "prepared": "retired" not in definition.tags and definition.is_prepared(ctx),
        "path": str(ctx.dataset_dir),
    }
    if info["prepared"]:
        info["splits"] = split_facts(definition, ctx)
        recorded = DataFolder(settings.datadir).manifest(definition.id).entries
        for f in info["files"]:  # where the bytes came from when not the URL (a local copy, the team store)
            entry = recorded.get(f["name"])
            if entry is not None and entry.source:
                f["source"] = entry.source
            if entry is not None:
                f["verified_by"] = entry.verified_by
    return info


def download_size(definition: Any) -> dict[str, Any]:
    """What prepare downloads: ``files`` (their count), ``bytes`` (the sum of the declared sizes,
    None when none is declared), ``unknown`` (the files that declare no size), ``sign_in`` (whether
    a person downloads them, after signing in) and ``text``."""
    remote = [(d["name"], d.get("size")) for d in (r.describe() for r in definition.resources) if "url" in d]
    # files behind a sign-in: a person downloads them (``download.manual``)
    by_hand = [(f.filename, f.size) for r in definition.resources if getattr(r, "sign_in", None) for f in r.files]
    sizes = [size for _, size in remote + by_hand if size]
    unknown = [name for name, size in remote + by_hand if not size]
    facts: dict[str, Any] = {
        "files": len(remote) + len(by_hand), "bytes": sum(sizes) if sizes else None, "unknown": unknown,
        "sign_in": bool(by_hand),
    }
    facts["text"] = download_text(facts, "retired" in definition.tags)
    return facts


def download_text(facts: dict[str, Any], retired: bool = False) -> str:
    """The download size in words: "11.6 MB (4 files)", saying which sizes are unknown."""
    files = facts["files"]
    if not files:
        return "nothing to download (retired: see the description)" if retired else "nothing to download"
    count = f"{files} file{'s' if files > 1 else ''}" + (", downloaded by hand after signing in" if facts.get("sign_in") else "")
    if facts["bytes"] is None:
        return f"size unknown ({count}: no size is recorded)"
    if facts["unknown"]:
        return f"at least {decimal_size(facts['bytes'])} ({count}; size unknown for {', '.join(facts['unknown'])})"
    return f"{decimal_size(facts['bytes'])} ({count})"


def decimal_size(n: int) -> str:
    """``n`` bytes in decimal units, as download sizes are usually given (11,594,722 -> "11.6 MB")."""
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000:
            return f"{n} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


#: what ``verification`` says of a downloaded file that no published checksum verifies
UNVERIFIED = "none published, not verified"


def verification(resource: Any) -> str:
    """How a resource's content is checked: its published checksum, or why there is none."""
    described = resource.describe()
    if "derived_from" in described:
        return "computed from " + ", ".join(described["derived_from"])
    checks = [c for c in (described.get("checksum"),) if c]
    checks += [f"data {c}" for c in (described.get("data_checksum"),) if c]
    if checks:
        return "published checksum " + " / ".join(checks)
    return UNVERIFIED


def split_facts(definition: Any, ctx: Any) -> dict[str, Any]:
    """Per split of a prepared dataset: count, image shape and dtype, label histogram."""
    data = definition.build(ctx)
    return {
        name: split_stats(split, categories_of(data, split))
        for name, split in splits_of(data).items()
    }


#: above this many classes, the text output summarises the histogram in one line
MAX_BARS = 20
BAR_WIDTH = 30


def split_lines(splits: dict[str, Any]) -> list[str]:
    """The text lines describing the splits of a prepared dataset."""
    lines = ["splits:"]
    for name, stats in splits.items():
        shape = "x".join(str(d) for d in stats["image_shape"])
        lines.append(f"  {name}: {stats['count']} images, {shape} {stats['image_dtype']}")
        histogram = stats.get("labels")
        if not histogram:
            continue
        counts = list(histogram.values())
        if len(histogram) > MAX_BARS:
            lines.append(
                f"    labels: {len(histogram)} classes, {min(counts)} to {max(counts)} images each"
            )
            continue
        histogram = {printable(k): v for k, v in histogram.items()}  # label names come from data
        width = max(len(k) for k in histogram)
        digits = len(str(max(counts)))
        top = max(max(counts), 1)
        for label, count in histogram.items():
            bar = "\u2588" * round(BAR_WIDTH * count / top)
            lines.append(f"    {label:<{width}}  {count:>{digits}}  {bar}".rstrip())
    return lines


def run(args: argparse.Namespace) -> int:
    if args.bibtex:
        return print_bibtex(args.id)
    info = describe(args.id, args.data, args.quiet)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    lines = [f"{info['id']}: {info['name']}"]
    for key in ("type", "url"):
        if info[key]:
            lines.append(f"{key}: {info[key]}")
    if info["tags"]:
        lines.append("tags: " + ", ".join(info["tags"]))
    if info["aliases"]:
        lines.append("aliases: " + ", ".join(info["aliases"]))
    lines.append(f"download: {info['download']['text']}")
    if info["prepared"]:
        lines.append(f"prepared: yes, in {info['path']}")
    else:
        lines.append(f"prepared: no (would be stored in {info['path']})")
    lines.append("files:")
    for f in info["files"]:
        lines.append(f"  {f['name']}")
        for key, value in f.items():
            if key not in ("name", "verification") and value not in (None, []):
                shown = ", ".join(value) if isinstance(value, list) else value
                lines.append(f"    {key}: {shown}")
        if f["verification"] == UNVERIFIED:
            lines.append(f"    checksum: {UNVERIFIED}")
    unverified = [f["name"] for f in info["files"] if f["verification"] == UNVERIFIED]
    if unverified:
        lines.append(f"unverified (no published checksum): {', '.join(unverified)}")
    if info["homepage"]:
        lines.append(f"homepage: {info['homepage']}")
    lines.append(f"license: {info['license'] or 'not stated in the definition'}")
    if info.get("splits"):
        lines.extend(split_lines(info["splits"]))
    if info["description"]:
        lines.append("")
        lines.extend(info["description"].splitlines())
    if info["citation"]:
        lines.extend(["", "citation:", *("  " + line for line in info["citation"].splitlines())])
    print("\n".join(lines))
    return 0


def print_bibtex(dataset_id: str) -> int:
    """Print the citation of ``dataset_id`` alone (no data folder needed)."""
    definition = Registry().definition(dataset_id)
    if not definition.citation:
        raise UsageError(f"{dataset_id} declares no citation; see its homepage ({definition.homepage or definition.url})")
    print(definition.citation)
    return 0
