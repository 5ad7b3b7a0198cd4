"""Official domains (`safety/official_domains.yaml`) and what a site's address says about its owner.

A link counts as genuine when its host is one of an organisation's listed domains or a subdomain of one,
or falls under a reserved suffix such as `.gov.vn`. The registrable domain (what a person actually buys:
`vietcombank.com.vn`, `abc.top`) is computed offline from a small list of Vietnamese second-level domains
and free-hosting suffixes, never fetched at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from retrieval.normalize import fold

OFFICIAL_DOMAINS_FILE = Path(__file__).with_name("official_domains.yaml")

# Second-level domains under .vn (VNNIC) and a few foreign ones people meet, so the registrable domain of
# "online.vietcombank.com.vn" is "vietcombank.com.vn", not "com.vn".
_SECOND_LEVEL = frozenset(
    {
        *(
            f"{label}.vn"
            for label in (
                "com", "net", "org", "edu", "gov", "ac", "biz", "info", "name", "pro", "health", "int",
                "mil",
            )
        ),
        "co.uk", "com.au", "com.cn", "co.jp", "com.sg", "co.kr", "com.tw", "com.hk", "co.th", "com.my",
    }
)  # fmt: skip
# Hosting services where anyone can publish under a subdomain: the subdomain is the "site", and a scam
# page there is not the organisation's.
FREE_HOSTING = frozenset(
    {
        "vercel.app", "netlify.app", "web.app", "firebaseapp.com", "pages.dev", "github.io", "gitlab.io",
        "weebly.com", "wixsite.com", "blogspot.com", "herokuapp.com", "glitch.me", "000webhostapp.com",
        "ngrok.io", "ngrok-free.app", "replit.app", "onrender.com", "surge.sh", "webflow.io", "framer.app",
        "sites.google.com", "business.site", "carrd.co", "notion.site",
    }
)  # fmt: skip


def registrable_domain(host: str) -> str:
    """The part of a host name its owner registered: "a.b.vietcombank.com.vn" -> "vietcombank.com.vn"."""
    labels = [label for label in host.lower().strip(".").split(".") if label]
    if len(labels) <= 2:
        return ".".join(labels)
    last_two = ".".join(labels[-2:])
    if last_two in FREE_HOSTING or last_two in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return last_two


def is_free_hosting(host: str) -> bool:
    labels = host.lower().strip(".").split(".")
    return len(labels) >= 3 and ".".join(labels[-2:]) in FREE_HOSTING


@dataclass(frozen=True)
class Source:
    """Where an official domain is documented."""

    title: str
    publisher: str
    url: str | None


@dataclass(frozen=True)
class Organisation:
    """An organisation with its official domains and the words that name or imitate it."""

    name: str
    category: str
    domains: tuple[str, ...]
    mentions: tuple[tuple[str, ...], ...]  # folded syllable phrases naming it in a message
    host_keywords: tuple[str, ...]
    source: Source

    def owns(self, host: str) -> bool:
        host = host.lower().strip(".")
        return any(host == domain or host.endswith("." + domain) for domain in self.domains)


@dataclass(frozen=True)
class Suffix:
    """A reserved name space, such as .gov.vn (only state bodies may register under it)."""

    suffix: str
    organisation: str
    source: Source

    def covers(self, host: str) -> bool:
        host = host.lower().strip(".")
        return host.endswith("." + self.suffix)


@dataclass(frozen=True)
class OfficialDomains:
    """The official-domain list, with lookups by host and by the words of a message."""

    organisations: tuple[Organisation, ...]
    suffixes: tuple[Suffix, ...]

    def owner(self, host: str) -> Organisation | Suffix | None:
        """Who a host officially belongs to, or None when it is not on the list."""
        for organisation in self.organisations:
            if organisation.owns(host):
                return organisation
        for suffix in self.suffixes:
            if suffix.covers(host):
                return suffix
        return None

    def is_official(self, host: str) -> bool:
        return self.owner(host) is not None

    def named_in(self, words: Sequence[str]) -> list[Organisation]:
        """Organisations a message names ("Vietcombank", "bảo hiểm xã hội"), in order of first mention."""
        present = set(words)
        found: list[tuple[int, Organisation]] = []
        for organisation in self.organisations:
            first = min(
                (
                    i
                    for phrase in organisation.mentions
                    if phrase[0] in present
                    for i in _positions(words, phrase)
                ),
                default=-1,
            )
            if first >= 0:
                found.append((first, organisation))
        return [organisation for _, organisation in sorted(found, key=lambda pair: pair[0])]


def _positions(words: Sequence[str], phrase: tuple[str, ...]) -> list[int]:
    size = len(phrase)
    return [i for i in range(len(words) - size + 1) if tuple(words[i : i + size]) == phrase]


def _source(data: Any, where: str) -> Source:
    if not isinstance(data, dict) or not data.get("title") or not data.get("publisher"):
        raise ValueError(f"{where}: every official domain needs a source with a title and a publisher")
    url = data.get("url")
    return Source(title=str(data["title"]), publisher=str(data["publisher"]), url=str(url) if url else None)


def load_official_domains(path: Path = OFFICIAL_DOMAINS_FILE) -> OfficialDomains:
    """Read the official-domain list; refuse an entry without a source."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    organisations = []
    for index, item in enumerate(data.get("organisations") or []):
        where = f"{path.name}: organisations[{index}]"
        domains = tuple(str(d).lower() for d in item.get("domains") or ())
        if not domains:
            raise ValueError(f"{where}: no domains")
        organisations.append(
            Organisation(
                name=str(item["name"]),
                category=str(item.get("category", "other")),
                domains=domains,
                mentions=tuple(
                    tuple(fold(str(m)).split()) for m in item.get("mentions") or () if fold(str(m))
                ),
                host_keywords=tuple(str(k).lower() for k in item.get("host_keywords") or ()),
                source=_source(item.get("source"), where),
            )
        )
    suffixes = tuple(
        Suffix(
            suffix=str(item["suffix"]).lower().strip("."),
            organisation=str(item["organisation"]),
            source=_source(item.get("source"), f"{path.name}: suffixes[{index}]"),
        )
        for index, item in enumerate(data.get("suffixes") or [])
    )
    return OfficialDomains(organisations=tuple(organisations), suffixes=suffixes)


@cache
def default_official_domains() -> OfficialDomains:
    return load_official_domains()
