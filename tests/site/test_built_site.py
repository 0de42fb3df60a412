"""The built site (MkDocs, and Zensical from the same mkdocs.yml): complete, linked, self-contained."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from html_links import check_site
from site_repo import EVIL_TITLE, PAPERS, load, make_site_repo

from site_builder.models import FACETS
from site_builder.site import SiteBuildError, build_site, builder_available, urls


def expected_pages(kb) -> list[str]:
    pages = [urls.HOME, urls.ALL_PAPERS, urls.CATEGORIES, urls.LEADERBOARDS, urls.TIMELINE, urls.DOWNLOADS,
             urls.CONTRIBUTING, urls.ERRATA, urls.TAGS]
    pages += [urls.paper_url(p.id) for p in kb.papers]
    for facet in FACETS:
        pages.append(urls.facet_url(facet))
        pages += [urls.category_url(facet, c.id) for c, _ in kb.taxonomy.facets[facet].walk()]
    pages += [urls.leaderboard_url(b.id) for b in kb.taxonomy.benchmarks]
    return pages


class _Text(HTMLParser):
    """The text of the first element with a given tag."""

    def __init__(self, tag: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tag, self.depth, self.done, self.text = tag, 0, False, ""

    def handle_starttag(self, tag, attrs):
        if tag == self.tag and not self.done:
            self.depth += 1
        elif self.depth:
            self.depth += 1 if tag not in ("br", "img", "input", "meta", "link", "hr", "wbr") else 0

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            if not self.depth:
                self.done = True

    def handle_data(self, data):
        if self.depth and not self.done:
            self.text += data


def first_text(html_text: str, tag: str) -> str:
    parser = _Text(tag)
    parser.feed(html_text)
    return " ".join(parser.text.split())


def _check_built(built) -> None:
    site = built.site
    for page in expected_pages(built.kb):
        assert (site / page / "index.html").is_file(), f"{built.builder}: no page for {page!r}"
    for name in ("feed.xml", "downloads/papers.bib", "downloads/papers.json"):
        assert (site / name).is_file(), name
    assert not (site / "generated").exists(), "the home fragments must not be published as pages"
    broken, external = check_site(site)
    assert not broken, "\n".join(broken[:30])
    assert not external, "\n".join(external[:30])


def test_mkdocs_site_is_complete_and_has_no_broken_link(mkdocs_site):
    _check_built(mkdocs_site)


def test_zensical_site_is_complete_and_has_no_broken_link(zensical_site):
    _check_built(zensical_site)


@pytest.mark.parametrize("fixture", ["mkdocs_site", "zensical_site"])
def test_built_pages_show_special_characters_as_text(fixture, request):
    built = request.getfixturevalue(fixture)
    page = (built.site / "papers" / "evil2024tags" / "index.html").read_text(encoding="utf-8")
    assert first_text(page, "h1") == " ".join(f"E<V>&P: {EVIL_TITLE}".split())
    assert first_text(page, "title").startswith(f"E<V>&P: {EVIL_TITLE}")
    for path in built.site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert '<script>alert("x")' not in text and "<img src=x" not in text, path


def test_no_stylesheet_or_script_pulls_from_another_host(mkdocs_site):
    # Web fonts are off (theme.font: false); stylesheets must not @import or url() a remote file.
    for css in mkdocs_site.site.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"(@import|url\()\s*['\"]?(https?:)?//", text), css
    home = (mkdocs_site.site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in home and "fonts.gstatic.com" not in home


def test_search_index_lists_every_paper_once(mkdocs_site):
    docs = json.loads((mkdocs_site.site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    locations = {d["location"].split("#")[0] for d in docs}
    for paper in mkdocs_site.kb.papers:
        assert f"papers/{paper.id}/" in locations
    # Pages that only repeat the paper pages stay out of the index, so a search lists each paper once.
    assert not {"papers/", "timeline/", "tags/"} & locations
    assert "categories/method/vp-learnable/" in locations  # the category's description is searchable
    hits = [d for d in docs if "Visual Prompting for Frozen Models" in d["text"] + d["title"]]
    assert {d["location"].split("#")[0] for d in hits} == {"papers/alpha2022visual/"}


def test_tags_page_lists_categories(mkdocs_site):
    tags = (mkdocs_site.site / "tags" / "index.html").read_text(encoding="utf-8")
    assert "VP-Learnable" in tags and "papers/alpha2022visual/" in tags


def test_built_site_root_matches_generated_pages(mkdocs_site):
    docs = Path(mkdocs_site.root / "docs")
    generated_pages = {p.parent.relative_to(docs).as_posix() for p in docs.rglob("index.md")}
    built_pages = {p.parent.relative_to(mkdocs_site.site).as_posix() for p in mkdocs_site.site.rglob("index.html")}
    assert generated_pages <= built_pages


@pytest.mark.parametrize("builder", ["mkdocs", "zensical"])
def test_strict_build_fails_on_a_broken_link_with_a_readable_message(builder, tmp_path):
    if not builder_available(builder):
        pytest.skip(f"{builder} is not installed")
    root = make_site_repo(tmp_path / "repo", papers=PAPERS[:1])
    with (root / "docs" / "errata.md").open("a", encoding="utf-8") as f:
        f.write("\n[a broken link](nowhere.md)\n")
    with pytest.raises(SiteBuildError) as info:
        build_site(load(root), root, builder=builder)
    message = str(info.value)
    assert "strict mode" in message and "nowhere.md" in message
    assert "Traceback" not in message and "\x1b[" not in message
