"""The Flask app of `newsarchive browse`; every route only reads.
The article list, the quarantine list, one article beside its capture, the diff between versions, the raw capture
and the record as JSON."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import BaseConverter

from .article import article_view
from .captured import CaptureError, choose_charset, read_response
from .diff import field_changes, text_diff
from .index import BrowseIndex, Filters, VersionRow

logger = logging.getLogger(__name__)

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Private-use characters are GBK user-defined byte pairs (where the damaged pages keep lost bytes) and U+FFFD
# marks what was lost for good; both are easy to miss in running text, so they get a frame and a name.
_SPECIAL_CHARACTERS = re.compile("[\ue000-\uf8ff\ufffd]")
# Nothing is loaded from elsewhere: the pages work on a machine without a network, and a captured page's
# text can never turn into markup that fetches anything.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


class ArticleIdConverter(BaseConverter):
    """An article id: no slash and no dot, so that /article/<id>.json is never read as an id."""

    regex = r"[^/.]+"


@dataclass(frozen=True)
class BrowseState:
    """What every request needs: the archive root, its index and the Traditional-to-Simplified converter."""

    root: Path
    index: BrowseIndex
    convert: Callable[[str], str]


def state() -> BrowseState:
    value: BrowseState = current_app.extensions["newsarchive_browse"]
    return value


def visible(text: str) -> Markup:
    """Escape `text` for HTML, framing private-use characters and U+FFFD with their code point as a title."""

    def frame(match: re.Match[str]) -> str:
        character = match.group(0)
        kind = "lost" if character == "\ufffd" else "pua"
        what = (
            "replacement character: lost bytes" if kind == "lost" else "private-use character: a GBK user-defined pair"
        )
        return f'<span class="{kind}" title="U+{ord(character):04X} {what}">{character}</span>'

    return Markup(_SPECIAL_CHARACTERS.sub(frame, str(escape(text))))


def create_app(root: Path, index: BrowseIndex, convert: Callable[[str], str]) -> Flask:
    """The app serving the archive at `root` through `index` (built already)."""
    app = Flask(__name__)
    app.url_map.converters["article_id"] = ArticleIdConverter
    app.extensions["newsarchive_browse"] = BrowseState(Path(root), index, convert)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.before_request(_refresh_index)
    app.after_request(_security_headers)
    app.context_processor(_common_context)
    app.add_template_filter(visible, "visible")
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.add_url_rule("/", "articles", articles)
    app.add_url_rule("/quarantine", "quarantine", quarantine)
    app.add_url_rule("/article/<article_id:article_id>", "article", article)
    app.add_url_rule("/article/<article_id:article_id>.json", "record_json", record_json)
    app.add_url_rule("/article/<article_id:article_id>/diff", "diff", diff)
    app.add_url_rule("/raw/<article_id:article_id>", "raw", raw)
    app.add_url_rule("/raw/quarantine/<int:qid>", "raw_quarantine", raw_quarantine)
    return app


def _refresh_index() -> None:
    # A crawl may have committed files since the last request; the index follows (cheap when nothing changed).
    if request.endpoint != "static":
        state().index.refresh()


def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _common_context() -> dict[str, Any]:
    browse = state()
    return {"archive_root": browse.root, "counts": browse.index.counts()}


def _http_error(error: HTTPException) -> tuple[str, int]:
    return render_template(
        "error.html", code=error.code, title=error.name, message=error.description
    ), error.code or 500


def _unexpected_error(error: Exception) -> tuple[str, int]:
    # A bug, not a damaged archive (those have messages of their own): logged with its traceback for a report,
    # shown to the reader as a page that says what happened.
    logger.exception("error while serving %s", request.path)
    message = f"{type(error).__name__}: {error}. The server log has the details; please report it."
    return render_template("error.html", code=500, title="Internal error", message=message), 500


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else default


def _day_arg(name: str, notes: list[str]) -> str:
    value = request.args.get(name, "").strip()
    if value and not _DAY.match(value):
        notes.append(f"'{value}' is not a date like 2025-08-26; the {name} filter is ignored.")
        return ""
    return value


def articles() -> str:
    browse = state()
    notes: list[str] = []
    filters = Filters(
        query=request.args.get("q", "").strip(),
        section=request.args.get("section", "").strip(),
        day_from=_day_arg("from", notes),
        day_to=_day_arg("to", notes),
        page=_int_arg("page", 1),
    )
    page = browse.index.articles(filters)
    return render_template(
        "articles.html",
        page=page,
        filters=filters,
        sections=browse.index.sections(),
        problems=browse.index.problems(),
        notes=notes,
        page_url=lambda number: url_for("articles", **{**request.args.to_dict(), "page": number}),
    )


def quarantine() -> str:
    browse = state()
    outcome = request.args.get("outcome", "")
    if outcome not in ("", "quarantined", "skipped"):
        outcome = ""
    reason = request.args.get("reason", "")
    page = browse.index.quarantine(outcome, reason, _int_arg("page", 1))
    return render_template(
        "quarantine.html",
        page=page,
        outcome=outcome,
        reason=reason,
        reasons=browse.index.quarantine_reasons(),
        page_url=lambda number: url_for("quarantine", **{**request.args.to_dict(), "page": number}),
    )


def _versions_or_404(article_id: str) -> list[VersionRow]:
    versions = state().index.versions(article_id)
    if not versions:
        abort(404, description=f"No article with id {article_id!r} in this archive. Search for it on the list page.")
    return versions


def _chosen(article_id: str, versions: list[VersionRow], argument: str = "version") -> VersionRow:
    """The version asked for in the query string, the latest by default."""
    wanted = request.args.get(argument, "")
    if not wanted:
        return versions[-1]
    for row in versions:
        if str(row.version) == wanted:
            return row
    known = ", ".join(str(row.version) for row in versions)
    abort(404, description=f"Article {article_id} has no version {wanted!r}; it has version(s) {known}.")


def article(article_id: str) -> str:
    browse = state()
    versions = _versions_or_404(article_id)
    chosen = _chosen(article_id, versions)
    record = browse.index.record(chosen.rid)
    script = "hans" if request.args.get("script") == "hans" else "hant"
    view = article_view(browse.root, record, script, browse.convert)
    file, line = browse.index.record_location(chosen.rid)
    return render_template(
        "article.html",
        view=view,
        article_id=article_id,
        versions=versions,
        chosen=chosen,
        latest=versions[-1],
        location=f"articles/{file}:{line}",
    )


def record_json(article_id: str) -> Response:
    browse = state()
    chosen = _chosen(article_id, _versions_or_404(article_id))
    body = browse.index.raw_record(chosen.rid) + b"\n"
    return Response(body, mimetype="application/json")


def diff(article_id: str) -> str:
    browse = state()
    versions = _versions_or_404(article_id)
    if len(versions) < 2:
        abort(404, description=f"Article {article_id} has one version only: there is nothing to compare.")
    new = _chosen(article_id, versions, "to")
    default_old = next((row for row in reversed(versions) if row.version < new.version), versions[0])
    old = _chosen(article_id, versions, "from") if request.args.get("from") else default_old
    old_record, new_record = browse.index.record(old.rid), browse.index.record(new.rid)
    return render_template(
        "diff.html",
        article_id=article_id,
        versions=versions,
        old=old,
        new=new,
        title=str(new_record.get("title") or ""),
        changes=field_changes(old_record, new_record),
        lines=text_diff(str(old_record.get("text") or ""), str(new_record.get("text") or "")),
    )


def _raw_response(warc_file: Any, offset: Any, what: str) -> Response:
    if not isinstance(warc_file, str) or not isinstance(offset, int):
        raise NotFound(description=f"{what} has no raw capture (the crawl ran with WARC capture off).")
    try:
        response = read_response(state().root, warc_file, offset)
    except CaptureError as exc:
        raise NotFound(description=str(exc)) from exc
    charset = choose_charset(response.headers, response.body).codec
    # The WARC record as stored: its headers, the HTTP headers, then the body's bytes, shown in the page's charset.
    return Response(response.record, mimetype="text/plain", content_type=f"text/plain; charset={charset}")


def raw(article_id: str) -> Response:
    browse = state()
    chosen = _chosen(article_id, _versions_or_404(article_id))
    record = browse.index.record(chosen.rid)
    return _raw_response(record.get("warc_file"), record.get("warc_offset"), f"Article {article_id}")


def raw_quarantine(qid: int) -> Response:
    entry = state().index.quarantine_entry(qid)
    if entry is None:
        abort(404, description=f"No quarantine entry number {qid}.")
    return _raw_response(entry.warc_file, entry.warc_offset, f"Quarantine entry {qid}")
