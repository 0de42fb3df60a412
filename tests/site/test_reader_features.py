"""What a researcher gets from the site: citation tags, repository links, related papers, short titles,
the vision-only view, a search index without repeated pages, and the offline copy."""

from __future__ import annotations

import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from site_repo import PAPERS, load, make_site_repo

from site_builder.site import generate_pages, urls
from site_builder.site.config import derived_config
from site_builder.site.fragments import display_title
from site_builder.site.related import RelatedPapers
from site_builder.site.search_boost import mention_counts
from site_builder.site.settings import LOCAL_SITE_URL, SiteSettings, read_site_settings


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self.links: list[tuple[str, str]] = []  # (class, href)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "meta" and (values.get("name") or "").startswith("citation_"):
            self.pairs.append((values["name"], values.get("content") or ""))
        if tag == "a" and values.get("href"):
            self.links.append((values.get("class") or "", values["href"]))


def parse(path: Path) -> _Meta:
    parser = _Meta()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def expected_citation(paper, venue) -> list[tuple[str, str]]:
    pairs = [("citation_title", paper.title), *[("citation_author", a) for a in paper.authors],
             ("citation_publication_date", str(paper.year))]
    if venue.kind in ("conference", "workshop"):
        pairs.append(("citation_conference_title", venue.name))
    if venue.kind == "journal":
        pairs.append(("citation_journal_title", venue.name))
    if paper.arxiv:
        pairs.append(("citation_arxiv_id", paper.arxiv))
    if paper.doi:
        pairs.append(("citation_doi", paper.doi))
    if paper.arxiv:
        pairs.append(("citation_pdf_url", f"https://arxiv.org/pdf/{paper.arxiv}"))
    return pairs


@pytest.mark.parametrize("fixture", ["mkdocs_site", "zensical_site", "real_site"])
def test_citation_tags_of_every_paper_page_match_the_data(fixture, request):
    built = request.getfixturevalue(fixture)
    for paper in built.kb.papers:
        page = built.site / urls.paper_url(paper.id) / "index.html"
        found = parse(page).pairs
        assert found == expected_citation(paper, built.kb.taxonomy.venue(paper.venue)), paper.id


def test_paper_pages_link_to_the_repository_when_it_is_set(real_site):
    for paper in real_site.kb.papers[:40]:
        links = dict((cls.split()[-1], href) for cls, href in parse(real_site.site / urls.paper_url(paper.id) / "index.html").links
                     if "pa-edit" in cls or "pa-report" in cls)
        assert links["pa-edit"] == f"https://github.com/o/r/edit/main/papers/{paper.id}.yaml"
        report = urlsplit(links["pa-report"])
        assert (report.netloc, report.path) == ("github.com", "/o/r/issues/new")
        query = parse_qs(report.query)
        assert paper.id in query["title"][0] and f"papers/{paper.id}.yaml" in query["body"][0]
    home = (real_site.site / "index.html").read_text(encoding="utf-8")
    assert 'href="https://github.com/o/r"' in home  # the footer links the repository
    assert "api.github.com" not in home and "md-source" not in home  # no repository widget
    errata = (real_site.site / "errata" / "index.html").read_text(encoding="utf-8")
    assert "https://github.com/o/r/issues/new?" in errata
    sitemap = (real_site.site / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://o.github.io/r/papers/" in sitemap  # site_url follows the repository


def test_without_a_repository_no_link_goes_nowhere(mkdocs_site):
    for path in mkdocs_site.site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "Edit this entry" not in text and "/issues/new" not in text, path
    sitemap = (mkdocs_site.site / "sitemap.xml").read_text(encoding="utf-8")
    assert f"<loc>{LOCAL_SITE_URL}papers/alpha2022visual/</loc>" in sitemap  # a sitemap all the same


def test_site_url_comes_from_the_one_repository_setting(tmp_path):
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\nextra:\n  repository: https://github.com/Owner/awesome-pa\n", encoding="utf-8")
    settings = read_site_settings(tmp_path, environ={})
    assert settings.site_url == "https://owner.github.io/awesome-pa/"
    assert settings.edit_link("papers/a.yaml") == "https://github.com/Owner/awesome-pa/edit/main/papers/a.yaml"
    config.write_text("site_name: x\nsite_url: https://pa.example.org\nextra:\n  repository: https://github.com/o/r\n",
                      encoding="utf-8")
    assert read_site_settings(tmp_path, environ={}).site_url == "https://pa.example.org/"  # explicit wins
    config.write_text("site_name: x\n", encoding="utf-8")
    assert read_site_settings(tmp_path, environ={"GITHUB_REPOSITORY": "o/r"}).site_url == "https://o.github.io/r/"
    unset = read_site_settings(tmp_path, environ={})
    assert unset.site_url is None and unset.build_site_url == LOCAL_SITE_URL and unset.edit_link("x") is None


def test_offline_variant_of_the_configuration():
    base = {"site_name": "x", "theme": {"name": "material", "features": ["navigation.instant", "navigation.instant.progress",
                                                                          "search.suggest"]},
            "plugins": ["search", {"tags": {}}]}
    online = derived_config(base, SiteSettings(repo_url="https://github.com/o/r", site_url="https://o.github.io/r/"),
                            offline=False)
    assert online["site_url"] == "https://o.github.io/r/" and "navigation.instant" in online["theme"]["features"]
    assert online["extra"]["social"][0]["link"] == "https://github.com/o/r" and "repo_url" not in online
    offline = derived_config(base, SiteSettings(), offline=True)
    assert offline["use_directory_urls"] is False and offline["site_dir"] == "site-offline"
    assert offline["theme"]["features"] == ["search.suggest"] and offline["plugins"][-1] == "offline"
    assert all("iframe-worker" in p and "//" not in p for p in offline["extra"]["polyfills"])  # no CDN shim
    assert base["theme"]["features"][0] == "navigation.instant"  # the loaded mkdocs.yml is left alone


def test_offline_copy_links_name_their_files_and_is_offered_as_a_zip(mkdocs_site):
    offline = mkdocs_site.root / "site-offline"
    page = offline / "papers" / "alpha2022visual" / "index.html"
    hrefs = [href for _, href in parse(page).links if not re.match(r"^[a-z]+:", href) and not href.startswith("#")]
    assert hrefs and all(not urlsplit(h).path.endswith("/") for h in hrefs), hrefs
    assert (offline / "search" / "search_index.js").is_file()
    for path in offline.rglob("*.html"):
        assert "unpkg.com" not in path.read_text(encoding="utf-8"), path
    downloads = (mkdocs_site.site / "downloads" / "index.html").read_text(encoding="utf-8")
    assert f'href="{urls.OFFLINE_ZIP.split("/")[1]}"' in downloads
    with zipfile.ZipFile(mkdocs_site.site / urls.OFFLINE_ZIP) as archive:
        names = set(archive.namelist())
    assert f"{urls.OFFLINE_ZIP_FOLDER}/index.html" in names
    assert f"{urls.OFFLINE_ZIP_FOLDER}/papers/alpha2022visual/index.html" in names


def test_search_index_holds_each_paper_once_without_repeated_pages(mkdocs_site):
    docs = json.loads((mkdocs_site.site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    locations = {d["location"].split("#")[0] for d in docs}
    repeated = {loc for loc in locations if loc.startswith(("leaderboards/", "tags/")) and loc != "leaderboards/"}
    assert not repeated and "papers/" not in locations
    page = [d for d in docs if d["location"] == "papers/alpha2022visual/"]
    assert len(page) == 1 and "Ada Alpha" in page[0]["text"] and "ECCV" in page[0]["text"]
    assert page[0]["text"].count("Visual Prompting for Frozen Models") == 0  # the title is the entry's title
    text = " ".join(d["text"] for d in docs if d["location"].startswith("papers/alpha2022visual/"))
    assert "@inproceedings" not in text and "tags" not in page[0]  # no BibTeX, no tag boost


def test_short_name_is_shown_only_when_the_title_lacks_it():
    from site_builder.models import Paper

    base = {k: v for k, v in PAPERS[0].items() if k != "results"}
    assert display_title(Paper(**base)) == "AlphaVP: Visual Prompting for Frozen Models"
    same = Paper(**{**base, "short_name": "ShapeLLM", "title": "ShapeLLM: Universal 3D Object Understanding"})
    assert display_title(same) == "ShapeLLM: Universal 3D Object Understanding"
    bracketed = Paper(**{**base, "short_name": "PASS", "title": "(PASS) Visual Prompt Locates Good Structure"})
    assert display_title(bracketed) == "(PASS) Visual Prompt Locates Good Structure"


def test_related_papers_rank_what_papers_share_and_say_why(tmp_path):
    serials = iter(range(10001, 10100))  # distinct arXiv ids (a salted hash() of the id collided once)

    def paper(pid, title, **extra):
        return {"id": pid, "title": title, "authors": extra.pop("authors", [f"Author {pid}"]), "year": 2023,
                "venue": "CVPR", "arxiv": f"2301.{next(serials)}", "method": ["vpt-learnable"],
                "modality": ["visual"], "tasks": ["classification"], "summary": extra.pop("summary", "Tokens."), **extra}

    papers = [
        paper("aaa2023anchor", "Prompt Tokens for Polyp Endoscopy", domains=["medical"], authors=["Ann Anchor", "Bo Bee"],
              summary="Tunes tokens for colonoscopy polyp segmentation."),
        paper("bbb2023medical", "Endoscopy Polyp Prompting", domains=["medical"],
              summary="Prompts for colonoscopy polyp images."),
        paper("ccc2023coauthor", "Something Else", authors=["Bo Bee"]),
        *[paper(f"zzz2023filler{i}", f"Generic Prompt Tuning {i}") for i in range(8)],
    ]
    root = make_site_repo(tmp_path / "repo", papers=papers)
    kb = load(root)
    related = RelatedPapers(kb.papers, category_name=lambda f, c: c, benchmark_name=lambda b: b)
    anchor = next(p for p in kb.papers if p.id == "aaa2023anchor")
    ranked = related.of(anchor, 3)
    assert [r.paper.id for r in ranked[:2]] == ["bbb2023medical", "ccc2023coauthor"]
    assert any("medical" in reason for reason in ranked[0].reasons)
    assert any(reason.startswith("shared terms:") and "polyp" in reason for reason in ranked[0].reasons)
    assert ranked[1].reasons[0] == "same authors: Bo Bee"
    assert related.of(anchor, 3) == ranked  # deterministic


def test_mentions_by_other_entries_raise_a_paper_in_the_search(tmp_path):
    root = make_site_repo(tmp_path / "repo")
    kb = load(root)
    counts = mention_counts(kb.papers)
    assert counts["alpha2022visual"] == 1 and counts["gamma2023deep"] == 0  # DeepTok reprints AlphaVP
    papers = [*PAPERS, {**PAPERS[1], "id": "omega2024beyond", "title": "Beyond Prompts", "short_name": None,
                        "arxiv": "2406.00009", "doi": "10.1109/CVPR.2024.00009", "results": [],
                        "summary": "Improves on AlphaVP and DeepTok with fewer tokens."}]
    papers[-1] = {k: v for k, v in papers[-1].items() if v is not None}
    root2 = make_site_repo(tmp_path / "repo2", papers=papers)
    counts = mention_counts(load(root2).papers)
    assert counts["alpha2022visual"] == 2 and counts["gamma2023deep"] == 1  # named in a summary


def test_vision_only_rows_are_marked(generated):
    for url in (urls.ALL_PAPERS, urls.category_url("tasks", "classification")):
        text = (generated.docs / urls.docs_file(url)).read_text(encoding="utf-8")
        marked = [line for line in text.splitlines() if "data-pa-textual" in line and "<tr" in line]
        assert len(marked) == 1 and "kappa2022learning" in marked[0], url
        assert "data-pa-vision-only" in text


def test_offline_pages_link_files_not_folders(tmp_path):
    root = make_site_repo(tmp_path / "repo", papers=PAPERS[:2])
    generate_pages(load(root), root / "docs", offline_copy=True)
    page = (root / "docs" / urls.docs_file(urls.paper_url("alpha2022visual"))).read_text(encoding="utf-8")
    assert 'href="../../categories/method/vp-learnable/index.html"' in page
    assert 'href="../../categories/method/vp-learnable/"' not in page
