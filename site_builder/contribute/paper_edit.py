"""Change top-level fields of a paper file in place, keeping everything else as it was written.

Only the lines of the changed fields are rewritten: other fields, comments, blank lines, key order and
quoting stay byte for byte. A single-line value keeps its trailing comment; a list keeps its style
(block with the same indentation, or flow ``[a, b]``); a new field goes after the first of the
given neighbours that exists. The result is parsed back and compared with what was intended before
the file is replaced atomically, so a failed edit leaves the file untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ..yaml_loader import LoadedDocument, YamlLoadError, parse_yaml_text
from .files import replace_file
from .scaffold import yaml_string
from .sources import ContributeError


def _scalar(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else yaml_string(str(value))


def _span(lines: list[str], start: int) -> int:
    """The index after the last line of the field whose key is on ``lines[start]``: its value goes on
    while lines are indented or are items of a sequence written at column 0."""
    end = start + 1
    while end < len(lines) and lines[end].strip() and (lines[end][0] in " \t" or lines[end].startswith("- ")):
        end += 1
    return end


def _trailing_comment(line: str, key: str, old: Any) -> str:
    """The `` # comment`` after a one-line value, if there is one (a ``#`` inside quotes is no comment)."""
    rest = line.split(":", 1)[1].rstrip("\n")
    for match in re.finditer(r"\s+#", rest):
        try:
            if yaml.safe_load(rest[:match.start()]) == old:
                return rest[match.start():]
        except yaml.YAMLError:
            continue
    return ""


def _render(key: str, value: Any, old_lines: list[str], old: Any) -> list[str]:
    if isinstance(value, list):
        first = old_lines[0].split(":", 1)[1].strip() if old_lines else ""
        if first.startswith("["):
            comment = _trailing_comment(old_lines[0], key, old) if len(old_lines) == 1 else ""
            return [f"{key}: [{', '.join(_scalar(v) for v in value)}]{comment}\n"]
        item = next((line for line in old_lines[1:] if line.lstrip().startswith("- ")), "  - ")
        indent = item[: len(item) - len(item.lstrip())]
        return [f"{key}:\n", *(f"{indent}- {_scalar(v)}\n" for v in value)]
    comment = _trailing_comment(old_lines[0], key, old) if len(old_lines) == 1 else ""
    return [f"{key}: {_scalar(value)}{comment}\n"]


def edit_fields(text: str, doc: LoadedDocument, values: dict[str, Any], *, after: Sequence[str] = ()) -> str:
    """``text`` with the top-level ``values`` set; a missing key is added after the first key of
    ``after`` the file has (else at the end)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    data = doc.data
    # Edit from the bottom up so earlier line numbers stay right.
    present = sorted((k for k in values if k in data), key=lambda k: -(doc.line_of((k,)) or 0))
    for key in present:
        start = (doc.line_of((key,)) or 1) - 1
        end = _span(lines, start)
        lines[start:end] = _render(key, values[key], lines[start:end], data[key])
    for key in (k for k in values if k not in data):
        anchor = next((k for k in after if k in data), None)
        if anchor is None:
            lines.append(f"{key}: {_scalar(values[key])}\n")
            continue
        # the anchor's line may have moved: find it again in the edited text
        at = next(i for i, line in enumerate(lines) if re.match(rf"{re.escape(anchor)}\s*:", line))
        lines.insert(_span(lines, at), f"{key}: {_scalar(values[key])}\n")
    return "".join(lines)


def apply_fields(path: Path, shown: str, doc: LoadedDocument, values: dict[str, Any], *,
                 after: Sequence[str] = ()) -> None:
    """Edit the file at ``path`` (named ``shown`` in messages), check it reads back, replace it atomically."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContributeError(f"cannot read {shown}: {exc.strerror or exc}") from None
    new_text = edit_fields(text, doc, values, after=after)
    try:
        data = parse_yaml_text(new_text, shown).data
    except YamlLoadError as exc:
        raise ContributeError(f"{shown}: the edit would not parse ({exc.message}); the file was left as it was") from None
    expected = {**doc.data, **values}
    if data != expected:
        wrong = sorted(k for k in set(data) | set(expected) if data.get(k) != expected.get(k))
        raise ContributeError(f"{shown}: the edit does not read back as intended ({', '.join(wrong)}); the file "
                              "was left as it was: please edit it by hand and report this")
    try:
        replace_file(path, new_text)
    except OSError as exc:
        raise ContributeError(f"cannot write {shown}: {exc.strerror or exc}; the file was left as it was") from None
