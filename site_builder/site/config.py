"""The configuration the builders run on: ``mkdocs.yml`` plus what the build derives from it.

``mkdocs.yml`` stays the one file a maintainer edits. Each build writes a derived copy next to it
(:data:`DERIVED_CONFIG`, removed afterwards, ignored by git) that adds:

- ``site_url``, from :class:`~.settings.SiteSettings` (the repository setting, else a default);
- a footer link to the repository, when ``extra.repository`` is set (an inline icon, no request);
- for the offline variant: Material's (and Zensical's) ``offline`` plugin, ``use_directory_urls``
  off, instant navigation off (the plugin's documentation asks for both), the output folder
  ``site-offline/``, and our own file:// worker shim in ``extra.polyfills`` -- which also stops the
  plugin from adding its default shim from unpkg.com, a request to another host.

The copy is plain YAML: ``!ENV`` tags are resolved as MkDocs resolves them; any other tag (a Python
name) cannot be copied, and says so.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from .settings import SiteSettings

DERIVED_CONFIG = "mkdocs.build.yml"
OFFLINE_SITE_DIR = "site-offline"
OFFLINE_WORKER_SHIM = "assets/js/iframe-worker-offline.js"  # the name must contain "iframe-worker"


class ConfigError(Exception):
    """mkdocs.yml cannot be read or copied; the message says why."""


class _ConfigLoader(yaml.SafeLoader):
    """Safe YAML with MkDocs' ``!ENV NAME`` / ``!ENV [NAME, ..., default]``."""


def _env(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        names, default = [loader.construct_scalar(node)], None
    else:
        items = loader.construct_sequence(node)  # type: ignore[arg-type]
        names, default = items[:-1] if len(items) > 1 else items, items[-1] if len(items) > 1 else None
    for name in names:
        if isinstance(name, str) and name in os.environ:
            return yaml.safe_load(os.environ[name]) if os.environ[name] else None
    return default


def _unknown(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    raise ConfigError(f"mkdocs.yml:{node.start_mark.line + 1}: the tag {node.tag} cannot be copied into the "
                      "build's configuration; use plain YAML there")


_ConfigLoader.add_constructor("!ENV", _env)
_ConfigLoader.add_multi_constructor("!", _unknown)
_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", _unknown)


def load_config(root: Path) -> dict[str, Any]:
    path = root / "mkdocs.yml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader)  # noqa: S506 - safe subclass
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of settings")
    return data


def derived_config(base: dict[str, Any], settings: SiteSettings, *, offline: bool) -> dict[str, Any]:
    config = copy.deepcopy(base)
    config["site_url"] = settings.build_site_url
    extra = config.setdefault("extra", {}) or {}
    config["extra"] = extra
    if settings.repo_url:
        social = list(extra.get("social") or [])
        if not any(item.get("link") == settings.repo_url for item in social if isinstance(item, dict)):
            icon = "fontawesome/brands/github" if "github.com" in settings.repo_url else "fontawesome/solid/code-branch"
            social.append({"icon": icon, "link": settings.repo_url, "name": "Source repository"})
        extra["social"] = social
    if offline:
        config["site_dir"] = OFFLINE_SITE_DIR
        config["use_directory_urls"] = False
        theme = config.setdefault("theme", {})
        theme["features"] = [f for f in theme.get("features") or [] if not str(f).startswith("navigation.instant")]
        plugins = [p for p in config.get("plugins") or [] if p != "offline" and not (isinstance(p, dict) and "offline" in p)]
        config["plugins"] = [*plugins, "offline"]
        extra["polyfills"] = [*(extra.get("polyfills") or []), OFFLINE_WORKER_SHIM]
        extra["offline_copy"] = True  # templates and scripts can tell the copies apart
    return config


def write_derived_config(root: Path, settings: SiteSettings, *, offline: bool) -> Path:
    """Write the builders' configuration next to mkdocs.yml; returns its path."""
    config = derived_config(load_config(root), settings, offline=offline)
    path = root / DERIVED_CONFIG
    text = ("# Written by `python -m site_builder build` from mkdocs.yml; do not edit (see mkdocs.yml).\n"
            + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=1000))
    path.write_text(text, encoding="utf-8")
    return path
