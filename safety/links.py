"""Links in a message and what their real address says: look-alikes, shorteners, bare IPs, punycode.

A link is found with or without "http://", including addresses written defanged ("bhxh[.]co") as police
warnings print them. Without a scheme only known top-level domains count, so "TP.HCM" or "1.000.000đ"
are not taken for links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from safety.domains import registrable_domain

# Top-level domains a bare address may end in (with "http://" any ending is accepted). Space-separated
# word lists are easier to read and edit than list literals here, hence the SIM905 exceptions.
_KNOWN_TLDS = frozenset(
    """vn com net org info biz top xyz click vip cc co me io app site online shop store link live life club
    asia tk ml ga cf gq pw icu cyou buzz fun one pro mobi tv us win bet work support help services today
    world page dev ly gl to ws in ru cn sbs lat bond cfd rest skin hair quest beauty monster ink id tech
    space website host press fit best bar cam kim men loan click finance money bank gold""".split()  # noqa: SIM905
)
# Endings the curriculum and bank warnings name as rarely used by real banks and state bodies.
ODD_TLDS = frozenset(
    """top xyz click vip cc tk ml ga cf gq pw icu cyou buzz fun one shop store online site link live life club
    asia win bet work support help services today world sbs lat bond cfd rest skin hair quest beauty monster
    ink kim men loan finance money gold cam bar best fit press space website host info biz""".split()  # noqa: SIM905
)
SHORTENERS = frozenset(
    """bit.ly tinyurl.com goo.gl t.ly cutt.ly rb.gy shorturl.at is.gd v.gd ow.ly s.id tiny.cc t.co
    rebrand.ly shorte.st bitly.com short.link u.to clck.ru lnkd.in buff.ly tiny.one shorturl.asia
    link.gg bom.so 1url.vn rutgon.me""".split()  # noqa: SIM905
)
_DOT = r"(?:\.|\[\.\]|\(\.\)|\[dot\])"
_URL = re.compile(
    rf"""
    (?<![\w@.\-])
    (?P<scheme>(?:https?|hxxps?)://)?
    (?P<host>
        (?:\d{{1,3}}{_DOT}){{3}}\d{{1,3}}
      | (?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?{_DOT})+(?:xn--[a-z0-9\-]+|[a-z]{{2,24}})
    )
    (?P<port>:\d{{2,5}})?
    (?P<path>[/?\#][^\s<>"'“”]*)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
# a dot between two letters or digits: without one there is no address, and the full pattern is skipped
_MAYBE = re.compile(r"[a-z0-9](?:\.|\[\.\]|\(\.\)|\[dot\])[a-z0-9]", re.IGNORECASE)
_IP = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_TRAILING = ".,;:!?)]}”’'\"…"


@dataclass(frozen=True)
class Link:
    """A link as written and its parts (host lowercased, defanged dots restored)."""

    text: str
    host: str
    path: str
    start: int
    end: int

    @property
    def domain(self) -> str:
        """The registrable domain ("vietcombank.com.vn"), or the address itself for a bare IP."""
        return self.host if self.is_ip else registrable_domain(self.host)

    @property
    def is_ip(self) -> bool:
        return bool(_IP.match(self.host)) and all(int(part) <= 255 for part in self.host.split("."))

    @property
    def tld(self) -> str:
        return self.host.rsplit(".", 1)[-1]


def find_links(text: str) -> list[Link]:
    """Every link in the text, in order."""
    links: list[Link] = []
    if not _MAYBE.search(text):
        return links
    for match in _URL.finditer(text):
        host = re.sub(_DOT, ".", match["host"], flags=re.IGNORECASE).lower()
        scheme, path, port = match["scheme"], match["path"] or "", match["port"]
        end = match.end()
        while path and path[-1] in _TRAILING:
            path, end = path[:-1], end - 1
        tld = host.rsplit(".", 1)[-1]
        if _IP.match(host):
            # a sum such as "1.000.000.000" is not an address unless it is written as one
            if not (scheme or port or path):
                continue
        elif not scheme and tld not in _KNOWN_TLDS and not host.startswith("www."):
            continue
        links.append(Link(text=text[match.start() : end], host=host, path=path, start=match.start(), end=end))
    return links


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein distance, stopping early once it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
