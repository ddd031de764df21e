"""The parsed page as a light tree of tags and strings, built as BeautifulSoup's lxml builder builds it.

lxml parses in C; its tree (or, past what that tree can say, its events) becomes small nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type stubs

# Strings inside these are of their own kind in BeautifulSoup: only the tag itself reads them.
STRING_CONTAINERS = frozenset({"rt", "rp", "style", "script", "template"})
PRESERVE_WHITESPACE = frozenset({"pre", "textarea"})  # elsewhere an all-whitespace string collapses
COMMENT = "#comment"  # the kind of comments, processing instructions and DOCTYPEs: never text
DOCUMENT = "[document]"
_ASCII_SPACES = " \n\t\x0c\r"
_NON_WHITESPACE = re.compile(r"\S+")
LXML_MAX_DEPTH = 255  # lxml's tree stops nesting here; its events go on


class Node:
    """A tag: its name, attributes and children (tags and strings) in order."""

    __slots__ = ("attrib", "children", "parent", "tag")

    def __init__(self, tag: str, attrib: Mapping[str, str], parent: Node | None) -> None:
        self.tag = tag
        self.attrib = attrib
        self.parent = parent
        self.children: list[Node | Text] = []


class Text:
    """A string of the page; `kind` is "" for text, COMMENT, or the string container it sits in."""

    __slots__ = ("kind", "value")

    def __init__(self, value: str, kind: str) -> None:
        self.value = value
        self.kind = kind


def _string(value: str, kind: str, preserve: bool) -> Text:
    if not preserve and not value.strip(_ASCII_SPACES):
        value = "\n" if "\n" in value else " "
    return Text(value, kind)


def classes(tag: Node) -> str:
    """The class attribute as BeautifulSoup's list of classes joined by spaces."""
    return " ".join(_NON_WHITESPACE.findall(tag.attrib.get("class") or ""))


def parse(html: str) -> Document:
    """The page as BeautifulSoup(html, "lxml") would build it."""
    if html[:1] == "\ufeff":  # BeautifulSoup drops a leading BOM before lxml sees it
        html = html[1:]
    # A DOCTYPE inside the document ends a string for BeautifulSoup, where lxml runs the text on.
    late_doctype = _LATE_DOCTYPE.search(html, _DOCTYPE_AT_START.match(html).end()) is not None  # type: ignore[union-attr]
    try:
        return Document(_build(html, None, late_doctype))
    except (UnicodeDecodeError, LookupError, etree.ParserError):
        return Document(_build(html.encode("utf8"), "utf8", late_doctype))


_DOCTYPE_AT_START = re.compile(r"\s*(?:<!doctype[^>]*>)?", re.I)
_LATE_DOCTYPE = re.compile("<!doctype", re.I)


def _build(markup: str | bytes, encoding: str | None, late_doctype: bool) -> Node:
    if not late_doctype:
        parser = etree.HTMLParser(recover=True, encoding=encoding)
        parser.feed(markup)
        built = _from_lxml(parser.close())
        if built is not None:
            return built
    events = etree.HTMLParser(recover=True, encoding=encoding, target=_Builder())
    events.feed(markup)
    document: Node = events.close()
    return document


def _from_lxml(root: Any) -> Node | None:
    """lxml's tree as nodes; None where it nests as deep as lxml goes (its events say more)."""
    document = Node(DOCUMENT, {}, None)
    if root is None:
        return document
    top = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
    # Each entry: an lxml node (or an element's tail, read after its children, with depth TAIL),
    # the node it goes in, its string kind, whether whitespace is kept, its depth.
    stack: list[tuple[Any, Node, str, bool, int]] = [(n, document, "", False, 0) for n in reversed(top)]
    while stack:
        element, parent, kind, preserve, depth = stack.pop()
        if depth == _TAIL:
            parent.children.append(_string(element, kind, preserve))
            continue
        tag = element.tag
        if isinstance(tag, str):
            if depth >= LXML_MAX_DEPTH:
                return None
            node = Node(tag, element.attrib, parent)
            parent.children.append(node)
            inner = tag if tag in STRING_CONTAINERS else kind
            keep = preserve or tag in PRESERVE_WHITESPACE
            if element.text:
                node.children.append(_string(element.text, inner, keep))
            if element.tail:
                stack.append((element.tail, parent, kind, preserve, _TAIL))
            stack.extend((child, node, inner, keep, depth + 1) for child in reversed(element))
            continue
        if element.text is not None:  # a comment (processing instructions parse as comments)
            parent.children.append(_string(element.text, COMMENT, preserve))
        if element.tail:
            parent.children.append(_string(element.tail, kind, preserve))
    return document


_TAIL = -1


class _Builder:
    """Nodes from the parser's events, as BeautifulSoup builds its tree from them."""

    def __init__(self) -> None:
        self.document = Node(DOCUMENT, {}, None)
        self.open = [self.document]
        self.data_seen: list[str] = []
        self.containers: list[Node] = []
        self.preserving: list[Node] = []

    def _flush(self, kind: str | None = None) -> None:
        if not self.data_seen:
            return
        value = "".join(self.data_seen)
        self.data_seen = []
        if kind is None:
            kind = self.containers[-1].tag if self.containers else ""
        self.open[-1].children.append(_string(value, kind, bool(self.preserving)))

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        self._flush()
        node = Node(tag, dict(attrib), self.open[-1])
        self.open[-1].children.append(node)
        self.open.append(node)
        if tag in STRING_CONTAINERS:
            self.containers.append(node)
        if tag in PRESERVE_WHITESPACE:
            self.preserving.append(node)

    def end(self, tag: str) -> None:
        self._flush()
        node = self.open.pop() if len(self.open) > 1 else self.document
        if self.containers and self.containers[-1] is node:
            self.containers.pop()
        if self.preserving and self.preserving[-1] is node:
            self.preserving.pop()

    def data(self, data: str) -> None:
        self.data_seen.append(data)

    def comment(self, text: str) -> None:
        self._flush()
        self.data_seen.append(text)
        self._flush(COMMENT)

    def pi(self, target: str, data: str | None = None) -> None:
        self._flush()
        self.data_seen.append(f"{target} {data or ''}")
        self._flush(COMMENT)

    def doctype(self, name: str | None, pubid: str | None, system: str | None) -> None:
        self._flush()
        value = name or ""
        if pubid is not None:
            value += f' PUBLIC "{pubid}"' + (f' "{system}"' if system is not None else "")
        elif system is not None:
            value += f' SYSTEM "{system}"'
        self.open[-1].children.append(Text(value, COMMENT))

    def close(self) -> Node:
        self._flush()
        return self.document


class Document:
    """A parsed page: its tags in document order, their text, injected junk dropped."""

    def __init__(self, document: Node) -> None:
        self.document = document

    def tags(self, top: Node | None = None) -> Iterator[Node]:
        """Every tag below `top` in document order, `top` included (the whole page by default, without the document)."""
        stack: list[Node | Text] = [top] if top is not None else list(reversed(self.document.children))
        while stack:
            node = stack.pop()
            if isinstance(node, Node):
                yield node
                stack.extend(reversed(node.children))

    def drop(self, tags: Iterable[Node]) -> None:
        """Remove subtrees, as decompose() does: the strings around them stay apart."""
        for tag in tags:
            if tag.parent is not None:
                tag.parent.children.remove(tag)
                tag.parent = None

    def find(self, name: str) -> Node | None:
        """The first tag called `name`, like soup.title or soup.body."""
        return next((tag for tag in self.tags() if tag.tag == name), None)

    @staticmethod
    def children(tag: Node) -> Iterator[Node]:
        return (child for child in tag.children if isinstance(child, Node))

    @staticmethod
    def text(tag: Node, separator: str = "") -> str:
        """tag.get_text(separator) as BeautifulSoup gives it: the strings of the tag's own kind."""
        wanted = tag.tag if tag.tag in STRING_CONTAINERS else ""
        found: list[str] = []
        stack: list[Node | Text] = list(reversed(tag.children))
        while stack:
            node = stack.pop()
            if isinstance(node, Text):
                if node.kind == wanted:
                    found.append(node.value)
            else:
                stack.extend(reversed(node.children))
        return separator.join(found)

    @staticmethod
    def strings_matching(top: Node, pattern: re.Pattern[str]) -> Iterator[Node]:
        """The parent of every string below `top` that `pattern` finds something in, comments too.

        As top.find_all(string=pattern): each string whatever its kind, in document order.
        """
        stack: list[tuple[Node | Text, Node]] = [(child, top) for child in reversed(top.children)]
        while stack:
            node, parent = stack.pop()
            if isinstance(node, Text):
                if pattern.search(node.value):
                    yield parent
            else:
                stack.extend((child, node) for child in reversed(node.children))
