"""Check a built site's HTML: every relative link and resource resolves, nothing loads from elsewhere.

Each ``*.html`` file under the site folder is parsed with :mod:`html.parser`. A relative ``href`` or
``src`` must name an existing file (a folder means its ``index.html``) inside the site, and a fragment
must name an ``id`` of the target page. Resources the browser loads by itself (scripts, stylesheets,
icons, images, frames, media) must be relative: the site makes no request to another host.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# (tag, attribute) pairs whose URL the browser fetches without a click.
_RESOURCE_ATTRS = {
    ("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("audio", "src"),
    ("video", "src"), ("video", "poster"), ("embed", "src"), ("object", "data"), ("input", "src"),
    ("track", "src"), ("image", "href"), ("use", "href"),
}
_FETCHED_LINK_RELS = {"stylesheet", "icon", "shortcut", "preload", "modulepreload", "manifest",
                      "apple-touch-icon", "prefetch", "dns-prefetch", "preconnect"}


class PageLinks(HTMLParser):
    """The links (followed on click), resources (fetched on load) and ids of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.resources: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v is not None}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.ids.add(values["name"])
        if tag == "link":
            rels = set(values.get("rel", "").lower().split())
            if "href" in values:
                (self.resources if rels & _FETCHED_LINK_RELS else self.links).append(("link.href", values["href"]))
            return
        for attr in ("href", "xlink:href", "src", "poster", "data"):
            if attr not in values:
                continue
            if (tag, attr.split(":")[-1]) in _RESOURCE_ATTRS:
                self.resources.append((f"{tag}.{attr}", values[attr]))
            elif attr in ("href", "xlink:href"):
                self.links.append((f"{tag}.{attr}", values[attr]))
        if "srcset" in values:
            for candidate in values["srcset"].split(","):
                if candidate.strip():
                    self.resources.append((f"{tag}.srcset", candidate.split()[0]))

    handle_startendtag = handle_starttag


@lru_cache(maxsize=4096)
def parse_page(path: Path) -> PageLinks:
    parser = PageLinks()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def is_external(url: str) -> bool:
    return bool(_SCHEME.match(url)) or url.startswith("//")


def resolve(site: Path, page: Path, url: str) -> tuple[Path | None, str]:
    """The file a relative URL of ``page`` points to (None when outside the site) and its fragment."""
    parts = urlsplit(url)
    if not parts.path:
        return page, parts.fragment
    base = "" if parts.path.startswith("/") else posixpath.dirname(page.relative_to(site).as_posix())
    joined = posixpath.normpath(posixpath.join("/", base, unquote(parts.path)))
    if joined.startswith("/.."):
        return None, parts.fragment
    target = site / joined.lstrip("/")
    if target.is_dir() or parts.path.endswith("/"):
        target = target / "index.html"
    return target, parts.fragment


def check_site(site: Path, *, check_fragments: bool = True) -> tuple[list[str], list[str]]:
    """(broken internal links, external resources) over every HTML page of the site."""
    broken: list[str] = []
    external: list[str] = []
    for page in sorted(site.rglob("*.html")):
        parsed = parse_page(page)
        name = page.relative_to(site).as_posix()
        for where, url in parsed.resources:
            if is_external(url) and not url.startswith("data:"):
                external.append(f"{name}: {where}={url}")
        for where, url in [*parsed.links, *parsed.resources]:
            if is_external(url) or url.startswith(("javascript:", "data:")):
                continue
            target, fragment = resolve(site, page, url)
            if target is None or not target.is_file():
                broken.append(f"{name}: {where}={url} -> missing {target}")
            elif check_fragments and fragment and target.suffix == ".html":
                if unquote(fragment) not in parse_page(target).ids:
                    broken.append(f"{name}: {where}={url} -> no id {fragment!r} in {target.relative_to(site)}")
    return broken, external
