"""The few settings of ``mkdocs.yml`` that generated pages need (``repo_url``, ``site_url``).

``mkdocs.yml`` may hold Python tags (``!!python/name:...``) that a safe YAML loader refuses; they are
read as ``None`` here, since only plain string settings are wanted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


class _TolerantLoader(yaml.SafeLoader):
    """A safe loader that turns any unknown tag (``!ENV``, ``!!python/name``) into ``None``."""


_TolerantLoader.add_multi_constructor("", lambda loader, suffix, node: None)
_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


@dataclass(frozen=True)
class SiteSettings:
    repo_url: str | None = None  # repo_url or extra.repository: https://github.com/owner/repo
    site_url: str | None = None  # the published address; makes the feed's links absolute
    branch: str = "HEAD"  # for links to files: <repo_url>/blob/<branch>/<path>

    def source_link(self, path: str) -> str | None:
        """A link to a file of the repository, or None when ``repo_url`` is not configured."""
        if not self.repo_url:
            return None
        return f"{self.repo_url.rstrip('/')}/blob/{self.branch}/{path}"


def read_site_settings(root: Path) -> SiteSettings:
    path = root / "mkdocs.yml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TolerantLoader)  # noqa: S506 - safe subclass
    except (OSError, yaml.YAMLError):
        return SiteSettings()
    if not isinstance(data, dict):
        return SiteSettings()
    extra = data.get("extra") if isinstance(data.get("extra"), dict) else {}
    # `extra.repository` gives the source links without Material's repository widget, which fetches
    # the star count from api.github.com on every page (a request to another host).
    repo_url = next((v for v in (data.get("repo_url"), extra.get("repository")) if isinstance(v, str) and v), None)
    site_url = data.get("site_url") if isinstance(data.get("site_url"), str) else None
    branch = extra.get("source_branch") if isinstance(extra.get("source_branch"), str) else "HEAD"
    return SiteSettings(repo_url=repo_url or None, site_url=site_url or None, branch=branch)
