"""What the PagerDuty and Opsgenie importers share: the report, Siren names, local times, rotations, restrictions,
reading a recorded export, fetching JSON, and writing a validated siren.yaml.

An importer turns the vendor's JSON into the plain data of siren.yaml's sections (the same schema
``siren.config.config_from_json`` reads), and lists in a :class:`Report` every part of the source that Siren
cannot say, with the reason. Nothing is dropped silently: what is not mapped exactly is either in the report as
``unmapped`` (left out), ``approximated`` (written, but not quite what the source does) or ``skipped`` (history
that no longer matters, such as a layer that ended before the export).

Wall-clock semantics: both vendors hand off daily and weekly rotations at the same local time across a DST change
(a day is 23 or 25 hours), as Siren's daily and weekly rotations do; hourly turns count real time, as Siren's
custom rotations do. A turn of several days becomes a daily (or weekly) Siren rotation with each participant
written that many times in a row, which keeps the wall-clock handoff exactly.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

Kind = Literal["unmapped", "approximated", "skipped"]
DAY: Final = timedelta(days=1)
WEEK: Final = timedelta(days=7)
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NOT_A_NAME: Final = re.compile(r"[^a-z0-9]+")


class ExportError(Exception):
    """The export cannot be read at all (a missing file, JSON that is not the vendor's, an API refusing)."""


@dataclass(frozen=True, slots=True)
class ReportItem:
    kind: Kind
    source: str  # what in the source, as its users know it: 'schedule "Primary" (PX12345), layer "Nights"'
    reason: str  # why Siren cannot say it, and what was written instead (if anything)

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "source": self.source, "reason": self.reason}


@dataclass(slots=True)
class Report:
    vendor: str
    items: list[ReportItem] = field(default_factory=list)
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # section -> source id -> Siren name

    def unmapped(self, source: str, reason: str) -> None:
        self.items.append(ReportItem("unmapped", source, reason))

    def approximated(self, source: str, reason: str) -> None:
        self.items.append(ReportItem("approximated", source, reason))

    def skipped(self, source: str, reason: str) -> None:
        self.items.append(ReportItem("skipped", source, reason))

    def named(self, section: str, source_id: str, name: str) -> None:
        self.names.setdefault(section, {})[source_id] = name

    def to_json(self) -> dict[str, Any]:
        counts = {
            kind: sum(item.kind == kind for item in self.items) for kind in ("unmapped", "approximated", "skipped")
        }
        return {
            "vendor": self.vendor,
            "counts": counts,
            "items": [item.to_json() for item in self.items],
            "names": self.names,
        }

    def text(self) -> str:
        if not self.items:
            return f"Everything in the {self.vendor} export maps to Siren exactly."
        lines = [f"What the {self.vendor} export has that Siren's config cannot say exactly:"]
        lines += [f"- [{item.kind}] {item.source}: {item.reason}" for item in self.items]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Imported:
    """The sections of siren.yaml (plain data, siren.yaml's schema) and what could not be said in them."""

    sections: dict[str, Any]
    report: Report


# ---- names --------------------------------------------------------------------------------------------------


class Names:
    """Siren names (lowercase letters, digits, "-", "_") made from the source's names, unique within a section."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def make(self, *candidates: str | None) -> str:
        base = next((slug for text in candidates if text and (slug := slugify(text))), "imported")
        name, number = base, 2
        while name in self._taken:
            name, number = f"{base}-{number}", number + 1
        self._taken.add(name)
        return name


def slugify(text: str) -> str:
    return _NOT_A_NAME.sub("-", text.lower()).strip("-")


def email_name(email: str | None) -> str | None:
    """``alice.martin@acme.com`` -> ``alice.martin``: the part of an email people recognise."""
    return email.split("@", 1)[0] if email and "@" in email else None


# ---- time ---------------------------------------------------------------------------------------------------


def instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset (or Z), as both vendors write them, in UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ExportError(f"expected a date-time with an offset, got {text!r}")
    return moment.astimezone(UTC)


def zone_named(name: Any) -> ZoneInfo | None:
    """The IANA time zone a vendor's export names, or None for a missing or unknown name (the caller says which)."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """The wall-clock text siren.yaml wants ("2026-03-08T09:00"), in ``zone``."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    return local.isoformat(timespec="minutes" if not local.second else "seconds")


def reads_back(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether Siren reads ``moment``'s wall-clock text back as the same instant.

    It reads a wall-clock time that happens twice (the hour a DST change repeats) as the first of the two.
    """
    local = moment.astimezone(zone).replace(tzinfo=None)
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC) == moment


def wall_instant(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def clock(moment: time) -> str:
    return moment.isoformat(timespec="minutes" if not moment.second else "seconds")


# ---- rotations ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Turns:
    """How a source rotation hands off: every ``length`` of wall-clock time (``wall``) or of real time."""

    length: timedelta
    wall: bool


def siren_rotation(
    turns: Turns, participants: list[str], zone: ZoneInfo, rotation_start: datetime, layer_start: datetime
) -> tuple[dict[str, Any], datetime]:
    """The Siren layer fields (rotation, handoff, participants, length_hours) of a source rotation.

    ``rotation_start`` is when turn 0 began (PagerDuty's rotation_virtual_start, Opsgenie's startDate); the
    layer has nobody before ``layer_start``. Siren's handoff is the start of the turn that covers
    ``layer_start``, with the participants turned so that turn's person comes first. Returns the fields and the
    handoff instant (before ``layer_start`` when the layer starts mid-turn: the caller reports that).
    """
    if turns.wall:
        unit = WEEK if turns.length % WEEK == timedelta(0) else DAY
        rotation: dict[str, Any] = {"rotation": "weekly" if unit == WEEK else "daily"}
    else:
        unit = turns.length
        rotation = {"rotation": "custom", "length_hours": int(turns.length / timedelta(hours=1))}
    repeats = int(turns.length / unit)
    expanded = [user for user in participants for _ in range(repeats)]

    def boundary(index: int) -> datetime:
        if turns.wall:
            return wall_instant(rotation_start.astimezone(zone).replace(tzinfo=None) + index * unit, zone)
        return rotation_start + index * unit

    index = 0
    if layer_start > rotation_start:
        if turns.wall:
            local_gap = layer_start.astimezone(zone).replace(tzinfo=None) - rotation_start.astimezone(zone).replace(
                tzinfo=None
            )
            index = max(local_gap // unit, 0)
        else:
            index = (layer_start - rotation_start) // unit
        while boundary(index + 1) <= layer_start:  # the wall-clock estimate is off by one at most near DST
            index += 1
        while index > 0 and boundary(index) > layer_start:
            index -= 1
    shift = index % len(expanded)
    handoff = boundary(index)
    rotation["handoff"] = local_text(handoff, zone)
    rotation["participants"] = expanded[shift:] + expanded[:shift]
    return rotation, handoff


def split_window(start: time, length: timedelta, weekday: int | None) -> list[dict[str, Any]]:
    """A window of local time as Siren restriction windows (each at most 24 hours, starting on given days).

    ``weekday`` (Monday 0) is the day a weekly window starts on; None repeats it every day. A window longer
    than a day becomes one 24-hour window per day and a last, shorter one; Siren merges windows that touch.
    Lengths are wall-clock time, as both vendors' restrictions are written (a start and an end of day).
    """
    if weekday is None:
        end = (datetime.combine(date(2000, 1, 3), start) + length).time()
        return [{"start": clock(start), "end": clock(end)}]
    windows: list[dict[str, Any]] = []
    day = weekday
    left = length
    while left > timedelta(0):
        part = min(left, DAY)
        end = (datetime.combine(date(2000, 1, 3), start) + part).time()
        windows.append({"start": clock(start), "end": clock(end), "days": [WEEKDAYS[day % 7]]})
        left -= part
        day += 1
    return windows


def merge_days(windows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Windows with the same start and end written once, with their days together (in week order)."""
    merged: dict[tuple[str, str], set[str] | None] = {}
    for window in windows:
        key = (window["start"], window["end"])
        days = window.get("days")
        if key in merged and merged[key] is None:
            continue
        merged[key] = None if days is None else (merged.get(key) or set()) | set(days)
    result: list[dict[str, Any]] = []
    for (start, end), days in merged.items():
        written: dict[str, Any] = {"start": start, "end": end}
        if days is not None and len(days) < len(WEEKDAYS):
            written["days"] = [day for day in WEEKDAYS if day in days]
        result.append(written)
    return result


# ---- reading and fetching -----------------------------------------------------------------------------------


def read_json(directory: Path, name: str, *, required: bool = True) -> Any:
    path = directory / name
    if not path.exists():
        if required:
            raise ExportError(f"{path}: not found (the export directory needs {name})")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ExportError(f"{path}:{error.lineno}: not JSON ({error.msg})") from None


Opener = Callable[[urllib.request.Request], Any]


@dataclass(frozen=True, slots=True)
class JsonClient:
    """GET JSON from a vendor's REST API with its authorization header (plain urllib: nothing to install)."""

    base_url: str
    authorization: str
    opener: Opener = urllib.request.urlopen
    requests: list[str] = field(default_factory=list)  # the URLs asked, in order (the tests count them)

    def get(self, path_or_url: str, query: Mapping[str, Any] | None = None) -> Any:
        url = path_or_url if "://" in path_or_url else self.base_url.rstrip("/") + path_or_url
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query, doseq=True)
        request = urllib.request.Request(  # noqa: S310 - the base URL is the user's, http(s) only (checked)
            url, headers={"Authorization": self.authorization, "Accept": "application/json"}
        )
        self.requests.append(url)
        try:
            with self.opener(request) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise ExportError(f"GET {url}: HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            raise ExportError(f"GET {url}: {error.reason}") from None


def check_base_url(base_url: str) -> str:
    if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
        raise ExportError(f"--base-url must be an http(s) URL (got {base_url!r})")
    return base_url


# ---- writing ------------------------------------------------------------------------------------------------

_HEADER: Final = """\
# Imported by `siren import {vendor}`. Review it, then copy the sections you want into siren.yaml
# (`siren config validate` checks the result). What could not be imported exactly is in the import report.
"""


def render_yaml(imported: Imported) -> str:
    """The sections as siren.yaml text, validated by Siren's own config loader (raises its ConfigError)."""
    from siren.config import load_config_text

    text = _HEADER.format(vendor=imported.report.vendor.lower()) + yaml.safe_dump(
        imported.sections, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120
    )
    load_config_text(text, "imported siren.yaml")
    return text
