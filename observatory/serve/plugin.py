"""Observatory's Datasette plugin: screenshot thumbnails beside rows, crops, the review page, the login redirect.

Registered through the `datasette` entry point; it does nothing unless the metadata has
an `observatory` plugin block (written by `config.build_config`). The image routes
check the same permissions as the `screenshots` table, so a login protects them too
(datasette-media, the usual plugin for this, checks none).
"""

from __future__ import annotations

import asyncio
from mimetypes import guess_type
from urllib.parse import quote, unquote
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response, asgi_send_file
from markupsafe import Markup, escape

from ..eventlog import open_log
from . import exports, player, review, runtime
from .crops import crop, locate
from .blob_cache import local_blob
from .thumbnails import SHA256, thumbnail

TEMPLATES = Path(__file__).parent / "templates"

# Columns that hold a screenshot id, and in the screenshots table the column that shows its thumbnail.
SCREENSHOT_ID_COLUMNS = {"screenshot_id"}
SCREENSHOTS_THUMB_COLUMN = "original_path"
# Columns that name a player: the id itself, and the names shown on a row that carries the player's id.
PLAYER_ID_COLUMNS = {"player_id"}
PLAYER_NAME_COLUMNS = {"name", "display_name", "current_name", "name_then"}


def _config(datasette) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    return datasette.plugin_config("observatory")


async def _blob_for(datasette, request) -> Path:  # type: ignore[no-untyped-def]
    config = _config(datasette)
    sha = request.url_vars["sha"]
    if config is None or not SHA256.match(sha):
        raise NotFound("No such screenshot")
    db_name = config["database"]
    await datasette.ensure_permissions(
        request.actor, [("view-table", (db_name, "screenshots")), ("view-database", db_name), "view-instance"]
    )
    row = (await datasette.get_database(db_name).execute("SELECT blob_path FROM screenshots WHERE id = ?", [sha])).first()
    path = (await asyncio.to_thread(local_blob, Path(config["events_dir"]), row["blob_path"], runtime.current())
            if row and row["blob_path"] else None)
    if path is None:
        raise NotFound("No stored image for this screenshot")
    return path


async def thumbnail_view(datasette, request):  # type: ignore[no-untyped-def]
    path = await _blob_for(datasette, request)
    body = await asyncio.to_thread(thumbnail, path)
    return Response(body, content_type="image/jpeg", headers={"cache-control": "private, max-age=31536000, immutable"})


async def screenshot_view(datasette, request, send):  # type: ignore[no-untyped-def]
    path = await _blob_for(datasette, request)
    await asgi_send_file(send, path, content_type=guess_type(path.name)[0] or "application/octet-stream",
                         headers={"cache-control": "private, max-age=31536000, immutable"})


async def crop_view(datasette, request):  # type: ignore[no-untyped-def]
    """The region a value was read from (crops.py); the header says whether it is its box, its row or the whole image."""
    path = await _blob_for(datasette, request)
    sha, row, field = (request.url_vars[k] for k in ("sha", "row", "field"))

    def cut() -> tuple[bytes, str]:
        with open_log(runtime.current(), readonly=True) as store:
            box, what = locate(store, sha, unquote(row), unquote(field))
        return crop(path, box), what

    body, what = await asyncio.to_thread(cut)
    return Response(body, content_type="image/jpeg", headers={"cache-control": "private, max-age=3600",
                                                               "x-observatory-crop": what})


@hookimpl
def register_routes():  # type: ignore[no-untyped-def]
    return [
        (r"^/-/thumbnail/(?P<sha>[^/]+)\.jpg$", thumbnail_view),
        (r"^/-/screenshot/(?P<sha>[^/]+)$", screenshot_view),
        (r"^/-/crop/(?P<sha>[^/]+)/(?P<row>[^/]+)/(?P<field>[^/]+)$", crop_view),
        (r"^/-/review$", review.review_view),
        (r"^/-/review/caught-up\.json$", review.caught_up_view),
        (r"^/-/player/(?P<player_id>[^/]+?)(\.(?P<format>csv))?$", player.player_view),
    ]


@hookimpl
def register_output_renderer(datasette):  # type: ignore[no-untyped-def]
    return exports.renderer()


@hookimpl
def prepare_jinja2_environment(env, datasette):  # type: ignore[no-untyped-def]
    """Our page templates (templates/observatory_*.html) beside Datasette's own."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))])


@hookimpl
def menu_links(datasette, actor, request):  # type: ignore[no-untyped-def]
    if _config(datasette) is None:
        return None
    return [{"href": datasette.urls.path("/-/review"), "label": "Review"}]


def thumbnail_html(datasette, sha: str, text: str, href: str) -> Markup:  # type: ignore[no-untyped-def]
    full = datasette.urls.path(f"/-/screenshot/{sha}")
    thumb = datasette.urls.path(f"/-/thumbnail/{sha}.jpg")
    return Markup(
        f'<a href="{full}"><img src="{thumb}" loading="lazy" alt="" '
        f'style="max-height:96px;max-width:60px;vertical-align:middle;margin-right:.4em"></a>'
        f'<a href="{escape(href)}">{escape(text)}</a>'
    )


def player_link(datasette, row, value, column: str) -> Markup | None:  # type: ignore[no-untyped-def]
    """A player's id, or a name on a row that has the player's id, links to the player's page."""
    if column not in PLAYER_ID_COLUMNS and column not in PLAYER_NAME_COLUMNS:
        return None
    keys = row.keys() if hasattr(row, "keys") else ()
    pid = value if column in PLAYER_ID_COLUMNS else (row["player_id"] if "player_id" in keys else None)
    pid = pid.get("value") if isinstance(pid, dict) else pid  # an expanded foreign key
    if not isinstance(pid, str) or not pid or value is None:
        return None
    text = value.get("label") or pid if isinstance(value, dict) else value
    href = datasette.urls.path(f"/-/player/{quote(pid, safe='')}")
    return Markup(f'<a class="obs-player" href="{escape(href)}">{escape(text)}</a>')


@hookimpl
def render_cell(row, value, column, table, database, datasette):  # type: ignore[no-untyped-def]
    config = _config(datasette)
    if config is None or database != config["database"]:
        return None
    if table == "screenshots" and column == SCREENSHOTS_THUMB_COLUMN:
        sha = row["id"] if "id" in row.keys() else None
        if isinstance(sha, str) and SHA256.match(sha):
            return thumbnail_html(datasette, sha, value or "", datasette.urls.row(database, "screenshots", sha))
        return None
    link = player_link(datasette, row, value, column)
    if link is not None:
        return link
    if column in SCREENSHOT_ID_COLUMNS:
        sha = value.get("value") if isinstance(value, dict) else value  # an expanded foreign key
        if isinstance(sha, str) and SHA256.match(sha):
            return thumbnail_html(datasette, sha, sha[:12], datasette.urls.row(database, "screenshots", sha))
    return None


@hookimpl
def forbidden(datasette, request, message):  # type: ignore[no-untyped-def]
    """With a login configured, an anonymous visitor is sent to the login form, not a bare 403."""
    config = _config(datasette)
    if config and config.get("login") and request.actor is None:
        return Response.redirect(datasette.urls.path("/-/login"))
    return None
