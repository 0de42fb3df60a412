"""papers.json (the whole knowledge base as data) and schema/paper.schema.json (for editors)."""

from __future__ import annotations

import json
from typing import Any

from ..knowledge_base import KnowledgeBase
from ..models import FACETS, Paper

FORMAT_VERSION = 1
SCHEMA_ID = "https://awesome-prompt-based-adaptation/schema/paper.schema.json"


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_json(kb: KnowledgeBase) -> str:
    data = {
        "format_version": FORMAT_VERSION,
        "taxonomy": kb.taxonomy.model_dump(mode="json", exclude_none=True),
        "papers": [p.model_dump(mode="json", exclude_none=True, exclude_defaults=False) for p in kb.papers],
    }
    return _dumps(data)


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
    return schema


def render_schema(kb: KnowledgeBase | None = None) -> str:
    return _dumps(paper_schema(kb))
