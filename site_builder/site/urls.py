"""Where every generated page lives: its URL on the site and its Markdown file in the docs tree.

The site uses directory URLs (``use_directory_urls: true``), so a page's URL is a folder ending in
``/`` and ``papers/jia2022visual.md`` is served at ``papers/jia2022visual/``. Links inside the raw
HTML of generated pages are not rewritten by MkDocs or Zensical, so they are written relative to the
page that holds them with :func:`relative_url`; both builders then produce the same working links.
"""

from __future__ import annotations

HOME = ""
ALL_PAPERS = "papers/"
CATEGORIES = "categories/"
LEADERBOARDS = "leaderboards/"
DISCREPANCIES = "leaderboards/discrepancies/"
TIMELINE = "timeline/"
DOWNLOADS = "downloads/"
CONTRIBUTING = "contributing/"
ERRATA = "errata/"
TAGS = "tags/"
FEED = "feed.xml"
BIBTEX_FILE = "downloads/papers.bib"
JSON_FILE = "downloads/papers.json"
OFFLINE_ZIP_FOLDER = "awesome-prompt-based-adaptation"
OFFLINE_ZIP = f"downloads/{OFFLINE_ZIP_FOLDER}-offline.zip"


def paper_url(paper_id: str) -> str:
    return f"papers/{paper_id}/"


def facet_url(facet: str) -> str:
    return f"categories/{facet}/"


def category_url(facet: str, category_id: str) -> str:
    return f"categories/{facet}/{category_id}/"


def leaderboard_url(benchmark_id: str) -> str:
    return f"leaderboards/{benchmark_id}/"


def docs_file(url: str) -> str:
    """The file (relative to the docs folder) that the builders serve at ``url``.

    Every page is its folder's ``index.md``, never ``<name>.md``: then the source file and the
    built page sit in the same folder, so a relative link in raw HTML means the same thing to MkDocs
    (which leaves such links alone) and to Zensical (which rewrites them from the source file's
    folder to the built page's). A static file (``feed.xml``, ``downloads/papers.bib``) is its own path.

    >>> docs_file(""), docs_file("papers/"), docs_file("papers/x/"), docs_file("feed.xml")
    ('index.md', 'papers/index.md', 'papers/x/index.md', 'feed.xml')
    """
    return url + "index.md" if url == "" or url.endswith("/") else url


def relative_url(from_url: str, to_url: str) -> str:
    """The link from the page at ``from_url`` to ``to_url`` (both site-relative, as above).

    Pure string work (no ``os.path``): it runs for every link of every page.

    >>> relative_url("papers/a/", "categories/method/vp/")
    '../../categories/method/vp/'
    >>> relative_url("", "papers/a/"), relative_url("papers/a/", ""), relative_url("papers/a/", "papers/b/")
    ('papers/a/', '../../', '../b/')
    >>> relative_url("papers/a/", "downloads/papers.bib"), relative_url("categories/", "categories/tasks/")
    ('../../downloads/papers.bib', 'tasks/')
    >>> relative_url("papers/a/", "papers/a/")
    './'
    """
    base = from_url.split("/")[:-1]  # the folders of the page ("" -> none)
    target = to_url.split("/")  # folders, then the file name ("" for a folder URL)
    common = 0
    while common < min(len(base), len(target) - 1) and base[common] == target[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + target[common:]) or "./"


def file_url(href: str) -> str:
    """``href`` for a copy read from disk (no directory URLs): a folder link names its ``index.html``.

    >>> file_url("../../papers/a/"), file_url("./"), file_url("../#x"), file_url("feed.xml"), file_url("https://a.b/")
    ('../../papers/a/index.html', './index.html', '../index.html#x', 'feed.xml', 'https://a.b/')
    """
    if ":" in href.split("/", 1)[0]:
        return href
    path, hash_, fragment = href.partition("#")
    if path.endswith("/") or path in (".", ".."):
        path = path.rstrip("/") + "/index.html" if path not in ("", "/") else path
    return path + hash_ + fragment
