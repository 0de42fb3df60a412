"""Page generation (no MkDocs needed): every page exists, links resolve, data is escaped."""

from __future__ import annotations

import html
import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from html_links import PageLinks, is_external
from markupsafe import escape
from site_repo import EVIL_SUMMARY, EVIL_TITLE, PAPERS, load, make_site_repo

from site_builder import cli
from site_builder.models import FACETS
from site_builder.site import SiteBuildError, build_site, generate_pages, urls
from site_builder.site.contributing import contributing_page
from site_builder.site.feed import ATOM_NS
from site_builder.site.leaderboards import leaderboard_groups
from site_builder.site.settings import SiteSettings, read_site_settings

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def read(generated, url: str) -> str:
    return (generated.docs / urls.docs_file(url)).read_text(encoding="utf-8")


def page_url_of(docs: Path, path: Path) -> str:
    relative = path.relative_to(docs).as_posix()
    if relative.startswith("generated/"):
        return urls.HOME  # the home fragments are included by docs/index.md
    return relative.removesuffix("index.md") if relative.endswith("index.md") else relative


def test_every_paper_has_a_page(generated):
    for paper in generated.kb.papers:
        page = read(generated, urls.paper_url(paper.id))
        assert f"@{'inproceedings' if paper.venue != 'arXiv' else 'misc'}{{{paper.id}," in page


def test_every_category_of_every_facet_has_a_page(generated):
    taxonomy = generated.kb.taxonomy
    for facet in FACETS:
        assert taxonomy.facets[facet].title in read(generated, urls.facet_url(facet))
        for category, _ in taxonomy.facets[facet].walk():
            page = read(generated, urls.category_url(facet, category.id))
            assert html.escape(category.name, quote=False) in page
            for paper in generated.kb.papers_in(facet, category.id):
                assert f'href="../../../papers/{paper.id}/"' in page


def test_every_benchmark_has_a_leaderboard_and_the_index_lists_it(generated):
    index = read(generated, urls.LEADERBOARDS)
    for benchmark in generated.kb.taxonomy.benchmarks:
        assert read(generated, urls.leaderboard_url(benchmark.id))
        assert f'href="{benchmark.id}/"' in index


def test_links_between_generated_pages_resolve(generated):
    checked = 0
    for path in generated.files:
        if path.suffix != ".md":
            continue
        page_url = page_url_of(generated.docs, path)
        parser = PageLinks()
        parser.feed(path.read_text(encoding="utf-8"))
        for _, url in parser.links + parser.resources:
            if is_external(url) or url.startswith("#"):
                continue
            target = url.split("#", 1)[0].split("?", 1)[0]  # a query string names the same file
            base = page_url if page_url.endswith("/") or page_url == "" else page_url.rsplit("/", 1)[0] + "/"
            resolved = (Path("/") / base / target).resolve().as_posix().lstrip("/")
            resolved += "/" if target.endswith("/") and resolved else ""
            assert (generated.docs / urls.docs_file(resolved)).is_file(), f"{path}: {url} -> {resolved}"
            checked += 1
    assert checked > 50


def test_html_special_characters_are_escaped(generated):
    full = read(generated, urls.paper_url("evil2024tags"))
    # The BibTeX block is raw text inside a fenced code block (the highlighter escapes it).
    assert "```bibtex\n@inproceedings{evil2024tags," in full
    page = re.sub(r"```bibtex\n.*?\n```", "", full, flags=re.S)
    # The citation tags are YAML text in the front matter, escaped by overrides/main.html (the built
    # pages are checked in test_built_site.py).
    page = re.sub(r"^pa_meta:\n(  - .*\n)+", "", page, flags=re.M)
    for raw in ("<script>", "<img src=x", "<b>Bold</b>", "E<V>&P", "Table <3>"):
        assert raw not in page
    # What the reader sees is the text itself: parse the page's HTML and compare.
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Tokens | Pipes *not emphasis*" in page
    assert str(escape(EVIL_SUMMARY)) in page
    meta = yaml.safe_load(FRONT_MATTER.match(page).group(1))
    assert html.unescape(meta["title"]) == f"E<V>&P: {EVIL_TITLE}"
    assert "<" not in meta["title"]
    for url in (urls.ALL_PAPERS, urls.category_url("method", "vpt-generated"), urls.leaderboard_url("vtab1k-natural"),
                urls.TIMELINE):
        text = read(generated, url)
        assert "<script>" not in text and "E<V>" not in text, url
    assert "<script>" not in (generated.docs / "generated" / "home-newest.md").read_text(encoding="utf-8")


def test_data_cannot_start_markdown_or_snippet_syntax(generated):
    # Data only appears inside raw HTML blocks: no line of a generated page starts with data text.
    for path in generated.files:
        if path.suffix == ".md":
            for line in path.read_text(encoding="utf-8").splitlines():
                assert not line.lstrip().startswith("--8<--"), (path, line)


def test_paper_page_content(generated):
    page = read(generated, urls.paper_url("alpha2022visual"))
    meta = yaml.safe_load(FRONT_MATTER.match(page).group(1))
    assert meta["categories"] == ["VP-Learnable", "Visual", "Image classification", "Black-box"]
    assert "tags" not in meta  # the search would boost category names over every other word
    # Another entry reprints AlphaVP as a baseline: a search boost above a plain paper page's 2.
    assert meta["search"]["boost"] > 2 and meta["description"].startswith("Learns one border prompt")
    assert 'href="https://arxiv.org/abs/2203.00001"' in page
    assert 'href="https://arxiv.org/pdf/2203.00001" class="pa-action">PDF</a>' in page
    assert 'href="https://github.com/example/alphavp" class="pa-action pa-code pa-code-official">Official code' in page
    assert "Code (unofficial)" in page and "no official code" not in page
    assert "first version on arXiv: March 2022" in page
    assert "Edit this entry" not in page and "Report an error" not in page  # no repository configured
    assert 'href="../../categories/settings/black-box/"' in page
    assert 'href="../../leaderboards/vtab1k-natural/"' in page and "Table 2" in page
    assert "## Related papers" in page  # shares image classification with the other papers
    survey = read(generated, urls.paper_url("delta2024survey"))
    assert "no official code" in survey and "first version on arXiv: January 2024" in survey


def test_reference_implementation_box(generated):
    measured = read(generated, urls.category_url("method", "vp-learnable"))
    assert "<code>reference_impls/vp_learnable.py</code>" in measured
    assert "python -m reference_impls run pad-prompter\npython -m reference_impls run fixed-patch" in measured
    assert "81.2%" in measured and "1,234 (0.62%)" in measured and "linear-probe (baseline)" in measured
    # the task and the runner's own no-method reference; a malformed reference is left out, not shown
    assert "<td>texture-side</td><td>81.2%</td><td>37.5% without the prompt</td>" in measured
    assert "<td>texture-side</td><td>50.0%</td><td></td>" in measured
    unmeasured = read(generated, urls.category_url("method", "vpt-learnable"))
    assert "python -m reference_impls run vpt_learnable" in unmeasured  # no runner names: the module name
    assert "not measured yet" in unmeasured
    setting = read(generated, urls.category_url("settings", "test-time"))
    assert "python -m reference_impls run tpt" in setting
    assert "Reference implementation" not in read(generated, urls.category_url("settings", "black-box"))
    parent = read(generated, urls.category_url("method", "vpt"))
    assert "<code>reference_impls/vpt_generated.py</code>" in parent


def test_leaderboard_groups_by_protocol_and_ranks_by_direction(generated):
    groups = leaderboard_groups(generated.kb, "vtab1k-natural")
    assert [(g.backbone.id, g.pretraining.id) for g in groups] == [("vit-b16", "in21k-supervised"), ("vit-l16", "mae")]
    assert [(r.rank, r.row.method, r.row.value) for r in groups[0].rows] == [
        (1, "E<V>|&P", 80.0), (2, "DeepTok", 78.5), (3, "AlphaVP", 70.25), (3, "DeepTok-Shallow", 70.25)]
    assert [r.rank for r in groups[1].rows] == [1]  # 99.0 on another protocol is never ranked above
    errors = leaderboard_groups(generated.kb, "cifar100-lt-ir100-error")  # lower is better
    assert [(r.rank, r.row.value) for r in errors[0].rows] == [(1, 18.0), (2, 20.5)]
    page = read(generated, urls.leaderboard_url("vtab1k-natural"))
    assert page.index("ViT-B/16 · ImageNet-21k supervised</h2>") < page.index("ViT-L/16 · MAE (ImageNet-1k)</h2>")
    assert '<td data-label="Method">E&lt;V&gt;|&amp;P</td>' in page and "Table &lt;3&gt; &amp; |4|" in page
    assert "A group of one: no other row uses this protocol" in page  # the MAE group
    assert '<span class="pa-muted">of 4</span>' in page
    assert not leaderboard_groups(generated.kb, "cifar10")
    assert "No paper reports this benchmark yet" in read(generated, urls.leaderboard_url("cifar10"))


def test_leaderboards_index_groups_by_family_and_marks_empty_boards(generated):
    page = read(generated, urls.LEADERBOARDS)
    assert page.index("<h2 id=\"family-1\">VTAB-1k</h2>") < page.index(">FGVC</h2>")
    natural = next(line for line in page.splitlines() if "leaderboards/vtab1k-natural/" in line or
                   'href="vtab1k-natural/"' in line)
    # 5 rows (4 under ViT-B/16, 1 under ViT-L/16), 4 methods (DeepTok twice, on two protocols), 2 protocols
    assert '<td data-label="Rows">5</td><td data-label="Methods">4</td><td data-label="Protocols">2</td>' in natural
    empty = next(line for line in page.splitlines() if 'href="cifar10/"' in line)
    assert 'class="pa-empty"' in empty and "no results yet" in empty


def test_all_papers_page_has_filter_data(generated):
    page = read(generated, urls.ALL_PAPERS)
    assert page.count("<tr data-year=") == len(PAPERS)
    # A paper in a child category also carries its parent's id, so filtering by "vp" finds it.
    row = next(line for line in page.splitlines() if "evil2024tags" in line and "<tr " in line)
    assert 'data-method="vpt vpt-generated vp vp-fixed"' in row
    assert 'data-kind="method"' in row and 'data-year="2024"' in row
    # The hidden text holds what the row does not show (id, authors, summary), escaped; the title is shown.
    assert 'data-text="evil2024tags ann o&#39;neil &amp; co bob &lt;b&gt;bold&lt;/b&gt; smith' in row
    assert "uses &lt;img src=x onerror=alert(1)&gt;" in row
    for facet in FACETS:
        assert f'<select data-pa-facet="{facet}">' in page


def test_home_fragments_and_taxonomy_svg(generated):
    svg_text = (generated.docs / "generated" / "home-taxonomy.md").read_text(encoding="utf-8")
    svg = ET.fromstring(re.search(r"<svg.*</svg>", svg_text, re.S).group(0))
    ns = {"s": "http://www.w3.org/2000/svg"}
    hrefs = [a.get("{http://www.w3.org/1999/xlink}href") for a in svg.iterfind(".//s:a", ns)]
    taxonomy = generated.kb.taxonomy
    expected = [urls.facet_url(f) for f in FACETS] + [
        urls.category_url(f, c.id) for f in FACETS for c, _ in taxonomy.facets[f].walk()]
    assert sorted(hrefs) == sorted(expected)
    newest = (generated.docs / "generated" / "home-newest.md").read_text(encoding="utf-8")
    assert newest.index("evil2024tags") < newest.index("alpha2022visual")
    counts = (generated.docs / "generated" / "home-counts.md").read_text(encoding="utf-8")
    assert f'<span class="pa-count-value">{len(PAPERS)}</span><span class="pa-count-label">papers</span>' in counts


def test_timeline_counts_papers_per_year_and_method(generated):
    page = read(generated, urls.TIMELINE)
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", page, re.S).group(0))
    titles = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert "2022, VP-Learnable: 1" in titles and "2024, VPT-Generated: 1" in titles
    assert "### 2024 (2) {#year-2024}" in page


def test_feed_is_atom(generated):
    feed = ET.parse(generated.docs / "feed.xml").getroot()
    a = f"{{{ATOM_NS}}}"
    assert feed.tag == f"{a}feed"
    for child in ("id", "title", "updated"):
        assert feed.find(a + child) is not None and feed.find(a + child).text
    entries = feed.findall(a + "entry")
    assert len(entries) == len(PAPERS)
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    for entry in entries:
        assert entry.find(a + "id").text and stamp.match(entry.find(a + "updated").text)
        assert entry.find(a + "link").get("href").startswith("papers/")
        assert entry.find(f"{a}author/{a}name").text
    first = entries[0]
    assert first.find(a + "title").text == f"E<V>&P: {EVIL_TITLE}"  # newest first; text, not markup
    assert first.find(a + "updated").text == "2024-05-01T00:00:00Z"


def test_feed_links_are_absolute_with_site_url(tmp_path):
    root = make_site_repo(tmp_path / "repo", papers=PAPERS[:1])
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\nsite_url: https://pa.example.org/\n", encoding="utf-8")
    generate_pages(load(root), root / "docs")
    feed = ET.parse(root / "docs" / "feed.xml").getroot()
    link = feed.find(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}link").get("href")
    assert link == "https://pa.example.org/papers/alpha2022visual/"


def test_contributing_links_are_rewritten(generated, tmp_path):
    page = read(generated, urls.CONTRIBUTING)
    assert "the template (`papers/EXAMPLE.yaml`)" in page
    assert "check it against\ntaxonomy.yaml and read" in page  # label == target: just the text
    assert "[the design](https://example.org/design#data)" in page
    assert "A [link in code](papers/EXAMPLE.yaml) stays as written." in page
    assert "[the top](#contributing)" in page
    with_repo = contributing_page(generated.root, SiteSettings(repo_url="https://github.com/o/r"))
    assert "[the template](https://github.com/o/r/blob/main/papers/EXAMPLE.yaml)" in with_repo
    assert "The repository: <https://github.com/o/r> ([issues](https://github.com/o/r/issues)" in with_repo
    assert "The repository:" not in page
    assert "CONTRIBUTING.md is missing" in contributing_page(tmp_path, SiteSettings())


def test_site_settings_tolerate_python_tags(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\nrepo_url: https://github.com/o/r\nmarkdown_extensions:\n"
        "  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "site_url: !ENV [SITE_URL, 'https://x.example/']\n", encoding="utf-8")
    settings = read_site_settings(tmp_path, environ={})
    assert settings.repo_url == "https://github.com/o/r"
    assert settings.site_url == "https://o.github.io/r/"  # the !ENV value is unknown here: from the repository
    assert settings.source_link("reference_impls/vp_fixed.py") == "https://github.com/o/r/blob/main/reference_impls/vp_fixed.py"


def test_regeneration_removes_stale_pages_and_keeps_hand_written_ones(tmp_path):
    root = make_site_repo(tmp_path / "repo")
    docs = root / "docs"
    generate_pages(load(root), docs)
    first = {p: p.read_bytes() for p in docs.rglob("*") if p.is_file()}
    (root / "papers" / "delta2024survey.yaml").unlink()
    generate_pages(load(root), docs)
    assert not (docs / "papers" / "delta2024survey").exists()
    assert (docs / "index.md").read_bytes() == first[docs / "index.md"]
    assert (docs / "errata.md").is_file() and (docs / "assets" / "js" / "site.js").is_file()


def test_generation_is_deterministic(generated, tmp_path):
    again = tmp_path / "docs"
    generate_pages(generated.kb, again)
    for path in generated.files:
        twin = again / path.relative_to(generated.docs)
        assert twin.read_bytes() == path.read_bytes(), path


def test_missing_builder_is_a_clear_error(tmp_path, monkeypatch, capsys):
    root = make_site_repo(tmp_path / "repo", papers=PAPERS[:1])
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("mkdocs", "material") else real_find_spec(name, *a))
    with pytest.raises(SiteBuildError, match=r"pip install mkdocs-material"):
        build_site(load(root), root, builder="mkdocs")
    assert not (root / "docs" / "papers").exists()  # checked before anything is written
    code = cli.main(["--root", str(root), "build", "--builder", "mkdocs"])
    err = capsys.readouterr().err
    assert code == 1 and "mkdocs is not installed" in err and "Traceback" not in err


def test_unknown_builder_is_a_clear_error(tmp_path):
    root = make_site_repo(tmp_path / "repo", papers=PAPERS[:1])
    with pytest.raises(SiteBuildError, match="unknown site builder 'sphinx'"):
        build_site(load(root), root, builder="sphinx")  # type: ignore[arg-type]
