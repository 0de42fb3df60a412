"""papers.json (the whole knowledge base as data) and schema/paper.schema.json (for editors)."""

from __future__ import annotations

import json
from typing import Any

import pydantic_core

from ..knowledge_base import KnowledgeBase
from ..models import FACETS, Paper

FORMAT_VERSION = 1
SCHEMA_ID = "https://awesome-prompt-based-adaptation/schema/paper.schema.json"


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _fast_dumps(data: Any) -> str:
    """The same text as :func:`_dumps`, written by pydantic-core's encoder (json's own encoder is pure
    Python once it indents: most of the export time on 10,000 papers).

    The two agree on layout, strings and numbers, except floats that either writes in exponent
    notation (``1e-05`` vs ``1e-5``): callers use this only when every float is in [1e-4, 1e16) or 0.
    tests/kb/test_exports.py compares both on the test data and on random values.
    """
    return pydantic_core.to_json(data, indent=2).decode("utf-8") + "\n"


def _plain_float(value: float) -> bool:
    return value == 0 or 1e-4 <= abs(value) < 1e16


def render_json(kb: KnowledgeBase) -> str:
    data = {
        "format_version": FORMAT_VERSION,
        "taxonomy": kb.taxonomy.model_dump(mode="json", exclude_none=True),
        "papers": [p.model_dump(mode="json", exclude_none=True, exclude_defaults=False) for p in kb.papers],
    }
    # result values are the only floats in the data
    plain = all(_plain_float(r.value) for p in kb.papers for r in p.results)
    return _fast_dumps(data) if plain else _dumps(data)


def paper_schema(kb: KnowledgeBase | None = None) -> dict[str, Any]:
    """The JSON Schema of a paper file, from the pydantic model; with the taxonomy's ids as enums."""
    schema = Paper.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    schema["title"] = "Paper entry (papers/<id>.yaml)"
    if kb is not None:
        props = schema["properties"]
        props["venue"]["enum"] = [v.id for v in kb.taxonomy.venues]
        for facet in FACETS:
            props[facet]["items"]["enum"] = kb.taxonomy.all_ids(facet)
        result = schema["$defs"]["Result"]["properties"]
        result["benchmark"]["enum"] = [b.id for b in kb.taxonomy.benchmarks]
        result["backbone"]["enum"] = [t.id for t in kb.taxonomy.backbones]
        result["pretraining"]["enum"] = [t.id for t in kb.taxonomy.pretrainings]
    return schema


def render_schema(kb: KnowledgeBase | None = None) -> str:
    return _dumps(paper_schema(kb))
