"""Strict YAML loading that keeps line numbers.

PyYAML's safe loader accepts things that are mistakes in a data file: a key written twice (the last
one silently wins), anchors and aliases (values copied from elsewhere in the file, invisible to a
reviewer), and plain scalars that YAML 1.1 turns into other types (``no`` becomes ``False``,
``2101.10010`` becomes ``2101.1001``). Here the C parser composes the node tree (fast) and a small
builder makes plain Python values, refusing duplicate keys and aliases. For messages, every field
path's line and how each scalar was written are worked out from the same text when first needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # the C parser is much faster; fall back to the pure-Python one where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 256 * 1024


class _StrictLoader(_Loader):  # type: ignore[misc,valid-type]
    """The safe loader, with YAML's implicit-type resolution memoised.

    Resolving a plain scalar's type (is ``2022`` an int, ``no`` a bool?) runs a Python regex per
    scalar and was a fifth of validating 10,000 papers; the same short values ("official", "true",
    "vpt-learnable", years) recur in every file, so their answers are kept. The answer depends only
    on (node kind, text, implicit flags) because no path resolvers are registered, which also makes
    the per-node descend/ascend bookkeeping unnecessary.
    """

    _resolved: dict[tuple[Any, Any, Any], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        key = (kind, value, implicit)
        try:
            return self._resolved[key]
        except KeyError:
            tag = super().resolve(kind, value, implicit)
            if value is None or len(value) <= 64:  # long texts (summaries) are unique: not worth keeping
                self._resolved[key] = tag
            return tag

    def descend_resolver(self, current_parent: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


assert not _StrictLoader.yaml_path_resolvers, "path resolvers would make the memoised resolution wrong"

FieldPath = tuple[str | int, ...]

_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
# A character that can start an anchor (&) or alias (*) in YAML syntax, after a separator.
_ANCHOR_HINT = re.compile(r"(?:^|[\s\[{,:\-?])[&*][^\s&*]", re.MULTILINE)


@dataclass
class LoadedDocument:
    """A parsed file: its data, the line of every field path, and how scalars were written.

    The positions (``lines``, ``plain_text``) serve error messages only, so they are worked out from
    the text the first time one is asked for: most files never have a problem, and skipping this on
    10,000 papers keeps validation close to the cost of parsing.
    """

    path: str
    data: Any
    first_line: str = ""
    text: str = field(default="", repr=False)
    _lines: dict[FieldPath, int] | None = field(default=None, init=False, repr=False)
    _plain_text: dict[FieldPath, tuple[str, str]] | None = field(default=None, init=False, repr=False)

    @property
    def lines(self) -> dict[FieldPath, int]:
        """The line of every field path (of a key for a mapping entry, of the item for a list item)."""
        if self._lines is None:
            self._index_positions()
        return self._lines  # type: ignore[return-value]

    @property
    def plain_text(self) -> dict[FieldPath, tuple[str, str]]:
        """For plain (unquoted) scalars that YAML resolved to a non-string type: (type, text as written)."""
        if self._plain_text is None:
            self._index_positions()
        return self._plain_text  # type: ignore[return-value]

    def _index_positions(self) -> None:
        self._lines, self._plain_text = {}, {}
        if self.data is not None and self.text:
            # the text parsed cleanly once already, so this cannot fail
            _index(yaml.compose(self.text, Loader=_StrictLoader), (), self._lines, self._plain_text)

    def line_of(self, path: FieldPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        lines = self.lines
        while path:
            if path in lines:
                return lines[path]
            path = path[:-1]
        return lines.get((), 1)


def _index(node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], plain: dict[FieldPath, tuple[str, str]]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:  # keys were checked to be strings when the file was built
            key_path = path + (key_node.value,)
            lines[key_path] = key_node.start_mark.line + 1
            _index(value_node, key_path, lines, plain)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, path + (i,), lines, plain)
    elif not node.style and node.tag != _STR_TAG:  # plain style: None (pure-Python parser) or '' (C parser)
        plain[path] = (node.tag.rsplit(":", 1)[-1], node.value)


class YamlLoadError(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


_constructor = yaml.SafeLoader("")  # only used to turn scalar nodes into Python values


def _construct_scalar(node: yaml.ScalarNode) -> Any:
    if node.tag == _STR_TAG:
        return node.value
    # Call the tag's constructor directly: construct_object() would memoise every node it sees.
    construct = _constructor.yaml_constructors.get(node.tag)
    if construct is None:
        raise YamlLoadError(node.start_mark.line + 1, f"unsupported tag {node.tag!r}")
    try:
        return construct(_constructor, node)
    except (ValueError, yaml.YAMLError):  # e.g. the date 2024-13-45, or `!!int abc`
        raise YamlLoadError(
            node.start_mark.line + 1, f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}: quote it"
        ) from None


class _Builder:
    """Builds plain values from composed nodes, refusing what a data file must not contain.

    Hot on 10,000 papers: scalars first, no bookkeeping of positions (see LoadedDocument).
    """

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def build(self, node: yaml.Node) -> Any:
        # An alias makes the composer hand back the very node object it already returned once.
        node_id = id(node)
        if node_id in self.seen:
            raise YamlLoadError(
                node.start_mark.line + 1,
                "anchors and aliases (&name / *name) are not allowed: write the value out",
            )
        self.seen.add(node_id)
        kind = type(node)
        if kind is yaml.ScalarNode:
            return node.value if node.tag == _STR_TAG else _construct_scalar(node)
        if kind is yaml.MappingNode:
            if node.tag != _MAP_TAG:
                raise YamlLoadError(node.start_mark.line + 1, f"unsupported tag {node.tag!r}")
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if type(key_node) is not yaml.ScalarNode or key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlLoadError(
                        key_node.start_mark.line + 1, "keys must be plain names (no merge keys or complex keys)"
                    )
                key = key_node.value if key_node.tag == _STR_TAG else _construct_scalar(key_node)
                if not isinstance(key, str):
                    raise YamlLoadError(
                        key_node.start_mark.line + 1, f"key {key_node.value!r} is not a field name (YAML read it as "
                        f"{type(key).__name__})",
                    )
                if key in result:
                    first = next(k.start_mark.line + 1 for k, _ in node.value if k.value == key_node.value)
                    raise YamlLoadError(
                        key_node.start_mark.line + 1, f"duplicate key {key!r} (first given on line {first}): keep one"
                    )
                result[key] = self.build(value_node)
            return result
        if node.tag != _SEQ_TAG:
            raise YamlLoadError(node.start_mark.line + 1, f"unsupported tag {node.tag!r}")
        build = self.build
        return [build(item) for item in node.value]


def _check_no_anchors(text: str) -> None:
    """Reject anchors even when never aliased. A regex finds candidates; the parser confirms."""
    if ("&" not in text and "*" not in text) or not _ANCHOR_HINT.search(text):  # `in` is far faster
        return
    for event in yaml.parse(text, Loader=_StrictLoader):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlLoadError(
                event.start_mark.line + 1,
                f"anchors and aliases (&{anchor} / *{anchor}) are not allowed: write the value out",
            )


def parse_yaml_text(text: str, path: str) -> LoadedDocument:
    """Parse one YAML document strictly. Raises :class:`YamlLoadError` with a line number."""
    doc = LoadedDocument(path=path, data=None, first_line=text.split("\n", 1)[0].rstrip("\r"), text=text)
    try:
        _check_no_anchors(text)
        node = yaml.compose(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise YamlLoadError(line, f"YAML syntax error: {problem}{context}") from None
    except yaml.reader.ReaderError as exc:  # a control character; the C reader counts bytes
        before = text.encode("utf-8")[: exc.position] if _Loader is not yaml.SafeLoader else text[: exc.position]
        line = (before.count(b"\n") if isinstance(before, bytes) else before.count("\n")) + 1
        raise YamlLoadError(
            line, f"character U+{exc.character:04X} is not allowed in YAML ({exc.reason}): remove it"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(None, f"YAML syntax error: {' '.join(str(exc).split())}") from None
    if node is None:
        return doc
    doc.data = _Builder().build(node)
    return doc


def load_yaml_file(path: Path, display_path: str | None = None) -> LoadedDocument:
    """Read and parse a file: size limit and UTF-8 are checked before YAML sees a byte."""
    shown = display_path or str(path)
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise YamlLoadError(1, f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,} (256 KiB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise YamlLoadError(line, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}): save it as UTF-8") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_yaml_text(text, shown)
