"""The few settings of ``mkdocs.yml`` that the site needs: the repository, and where the site lives.

One setting names the repository: ``extra.repository`` (``https://github.com/OWNER/REPO``). It gives
every paper page its "edit this entry" and "report an error" links, the footer's link to the
repository and, for a GitHub repository, the published address (``https://OWNER.github.io/REPO/``).
``repo_url`` is read too, but ``extra.repository`` is the one to use: Material's repository widget,
which ``repo_url`` switches on, fetches the star count from api.github.com on every page.

``site_url`` (the published address) is taken, in this order, from ``site_url`` in ``mkdocs.yml``,
from the repository, from ``$GITHUB_REPOSITORY`` (set in GitHub Actions); otherwise the site is built
for the local preview address :data:`LOCAL_SITE_URL`, which gives the builders a sitemap (Material's
instant navigation needs one) while the feed keeps relative links.

``mkdocs.yml`` may hold Python tags (``!!python/name:...``) that a safe YAML loader refuses; they are
read as ``None`` here, since only plain string settings are wanted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import yaml

LOCAL_SITE_URL = "http://127.0.0.1:8000/"
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?$")


class _TolerantLoader(yaml.SafeLoader):
    """A safe loader that turns any unknown tag (``!ENV``, ``!!python/name``) into ``None``."""


_TolerantLoader.add_multi_constructor("", lambda loader, suffix, node: None)
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def github_pages_url(owner: str, name: str) -> str:
    """Where GitHub Pages publishes a repository's site."""
    if name.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io/"
    return f"https://{owner.lower()}.github.io/{name}/"


@dataclass(frozen=True)
class SiteSettings:
    repo_url: str | None = None  # extra.repository (or repo_url): https://github.com/owner/repo
    site_url: str | None = None  # the published address; makes the feed's links absolute
    branch: str = "main"  # for links to files: <repo_url>/blob/<branch>/<path>

    def source_link(self, path: str) -> str | None:
        """A link to a file of the repository, or None when the repository is not configured."""
        if not self.repo_url:
            return None
        return f"{self.repo_url.rstrip('/')}/blob/{self.branch}/{path}"

    def edit_link(self, path: str) -> str | None:
        """The forge's editor for a file (GitHub and GitLab spell it differently)."""
        if not self.repo_url:
            return None
        base = self.repo_url.rstrip("/")
        infix = "-/edit" if "gitlab" in base else "edit"
        return f"{base}/{infix}/{self.branch}/{path}"

    def issue_link(self, title: str, body: str) -> str | None:
        """A new issue with its title and body filled in."""
        if not self.repo_url:
            return None
        base = self.repo_url.rstrip("/")
        infix = "-/issues/new" if "gitlab" in base else "issues/new"
        query = urlencode({"issue[title]": title, "issue[description]": body} if "gitlab" in base
                          else {"title": title, "body": body})
        return f"{base}/{infix}?{query}"

    @property
    def build_site_url(self) -> str:
        """The ``site_url`` the builders get: the published address, else the local preview's."""
        return self.site_url or LOCAL_SITE_URL


def read_site_settings(root: Path, environ: dict[str, str] | None = None) -> SiteSettings:
    environ = os.environ if environ is None else environ
    path = root / "mkdocs.yml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TolerantLoader)  # noqa: S506 - safe subclass
    except (OSError, yaml.YAMLError):
        data = None
    if not isinstance(data, dict):
        data = {}
    extra = data.get("extra") if isinstance(data.get("extra"), dict) else {}
    repo_url = next((v for v in (extra.get("repository"), data.get("repo_url")) if isinstance(v, str) and v), None)
    site_url = data.get("site_url") if isinstance(data.get("site_url"), str) and data.get("site_url") else None
    if site_url is None:
        github = _GITHUB.match(repo_url or "")
        if github:
            site_url = github_pages_url(*github.groups())
        elif re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", environ.get("GITHUB_REPOSITORY", "")):
            site_url = github_pages_url(*environ["GITHUB_REPOSITORY"].split("/"))
    if site_url and not site_url.endswith("/"):
        site_url += "/"
    branch = extra.get("source_branch") if isinstance(extra.get("source_branch"), str) else "main"
    return SiteSettings(repo_url=repo_url, site_url=site_url, branch=branch or "main")
