"""`.spreadsheet`: any table or query page as a CSV that a spreadsheet opens cleanly, with the page's filters.

Datasette's own `.csv` is UTF-8 without a byte-order mark, which Excel reads as the local code page
(player names in other scripts turn to mojibake). This renderer sits beside it in each page's
"This data as" links, so its URL carries the page's filters (a date range is a filter such as
`started_at__gte=2025-11-01&started_at__lte=2025-11-30`) and its parameters; it asks Datasette for
the very same `.csv` (all rows of a table, streamed) as the visitor, and adds the BOM.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

from datasette.utils.asgi import Response

EXTENSION = "spreadsheet"
BOM = "\ufeff"


def csv_url(path: str, query_string: str, table: str | None) -> str:
    """The `.csv` of the page this `.spreadsheet` request is for, every filter kept (a table's: all its rows)."""
    base = path[: -len(f".{EXTENSION}")] if path.endswith(f".{EXTENSION}") else path
    params = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k not in ("_format", "_stream")]
    if table:
        params.append(("_stream", "on"))
    return f"{base}.csv" + (f"?{urlencode(params)}" if params else "")


async def render(datasette, request, database, table, query_name):  # type: ignore[no-untyped-def]
    resp = await datasette.client.get(csv_url(request.path, request.query_string, table), cookies=request.cookies)
    if resp.status_code != 200:
        return Response(resp.text, status=resp.status_code, content_type=resp.headers.get("content-type", "text/plain"))
    name = re.sub(r"[^\w.-]+", "_", table or query_name or database or "export")
    return Response(BOM + resp.text, content_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}.csv"'})


def renderer() -> dict:  # type: ignore[type-arg]
    return {"extension": EXTENSION, "render": render,
            "can_render": lambda datasette, database: datasette.plugin_config("observatory") is not None
            and database == datasette.plugin_config("observatory")["database"]}
