"""Undo the portal's byte-level damage: pinyin insertions, full-width swaps, mojibake.

Works on GBK bytes (from the raw body, or re-encoded from text where `?` may be a
lost byte) and finds the cheapest original under the character model: a Viterbi
search whose states are "which lead byte waits for its trail". Markers (U+FFFD)
stand where nothing can be recovered; they are never replaced by a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scraper.cleaner.charmodel import ASCII_COST, HAN, OPENING, SYMBOL, char_class, char_cost, follow_cost, pair_cost
from scraper.cleaner.gbk import ASCII_TO_FULLWIDTH, decode_pair, is_lead, is_private_use, is_trail
from scraper.cleaner.readings import (
    MAX_READING_LETTERS,
    TONE_VOWELS,
    char_has_reading,
    second_bytes_with_reading,
)

QMARK = -1  # a `?` of decoded text: a literal question mark or a byte the server lost
UNKNOWN_LEAD = "lost"  # state: a lead byte was lost and is still unknown


@dataclass(frozen=True)
class Marker:
    """A token standing for text known to be lost."""

    reason: str


Token = int | str | Marker

# Penalties are in the character model's units (negative log shares): a repair
# must buy back its cost through the common characters it makes appear.
FULLWIDTH_PENALTY = 2.0
READABLE_PAIR_PENALTY = 4.0  # the swap would break a pair that already reads as a real character
LOST_BYTE_PENALTY = 3.0
MARKER_COST = 14.0
SOFT_MARKER_COST = 4.0  # a byte that may or may not have been swallowed
QMARK_BEFORE_QMARK_COST = 20.0  # `??` in Chinese text is a run of lost bytes
QMARK_BEFORE_SWAPPED_COST = 6.0  # `?!`, `?#`: the hallmark of a lost byte, rare as prose
QMARK_BEFORE_ALNUM_COST = 4.0  # a Chinese question ends before a Han character, quote or break
ASCII_SYMBOLS = frozenset(b"!\"#$%&'*+,-./:;=@[\\]^_`{|}~")
LONE_LETTER_COST = 5.0  # one Latin letter between two Chinese characters
OPENING_AT_BLOCK_END_COST = 8.0  # an opening quote never ends a paragraph
BLOCK_END_BYTES = frozenset(b"<\r\n")
SYMBOL_AFTER_HAN_COST = 3.0  # `_`, `#`, `@` right after a Chinese character: a swapped pair, mostly
LATIN_START_COST = 4.0  # a Latin word right after a Chinese character: about one in 200 characters

MARKER = "\ufffd"
_TAG_BASE = 0xE0030  # invisible tag digits carry a marker's index through parsing
_TAG_END = "\U000e007f"
PLAIN_ASCII = frozenset(range(0x80)) - {ord("("), ord("/")}


def marker_tag(index: int) -> str:
    """U+FFFD followed by invisible tag characters naming the marker's index."""
    return MARKER + "".join(chr(_TAG_BASE + int(d)) for d in str(index)) + _TAG_END


@dataclass
class RepairReport:
    pinyin_removed: int = 0
    mojibake_runs: int = 0
    bytes_restored: int = 0
    markup_restored: int = 0
    model_choices: list[dict[str, Any]] = field(default_factory=list)
    marker_reasons: list[str] = field(default_factory=list)


@dataclass
class RepairResult:
    text: str  # markers are tagged with marker_tag(i); reasons in report.marker_reasons
    report: RepairReport


class _Node:
    """One step of a candidate restoration, linked to the step before it."""

    __slots__ = ("cost", "event", "last", "out", "parent")

    def __init__(
        self,
        cost: float,
        parent: _Node | None,
        out: str | Marker,
        last: bytes | None,
        event: tuple[Any, ...] | None = None,
    ) -> None:
        self.cost = cost
        self.parent = parent
        self.out = out
        self.last = last  # GBK bytes of the last character emitted, for reading checks
        self.event = event


def tokens_from_bytes(data: bytes) -> list[Token]:
    """Raw GBK bytes: every byte is known."""
    return list(data)


def tokens_from_text(text: str) -> list[Token]:
    """Text decoded by the server: `?` may be a lost byte; runs of `??` surely are.

    Characters outside GBK (NBSP, U+FFFD, emoji) pass through whole.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "?":
            j = i
            while j < n and text[j] == "?":
                j += 1
            if j - i >= 2 and _touches_cjk(text, i, j):
                tokens.append(Marker("run of lost bytes"))
            else:
                tokens.extend([QMARK] * (j - i))
            i = j
            continue
        if ch < "\x80":
            tokens.append(ord(ch))
        else:
            encoded = ch.encode("gb18030")
            if len(encoded) == 2:
                tokens.extend(encoded)
            else:
                tokens.append(ch)
        i += 1
    return tokens


def _touches_cjk(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return before >= "\u2e80" or after >= "\u2e80"


def _match_reading(tokens: list[Token], i: int, with_paren: bool) -> tuple[str, int] | None:
    """A pinyin reading in token form at `i`: returns it and the index past `)`."""
    n = len(tokens)
    j = i
    if with_paren:
        if tokens[j] != 0x28:
            return None
        j += 1
    letters: list[str] = []
    while j < n and len(letters) <= MAX_READING_LETTERS:
        t = tokens[j]
        if isinstance(t, int) and 0x61 <= t <= 0x7A:
            letters.append(chr(t))
            j += 1
        elif t == 0xA8 and j + 1 < n and isinstance(after := tokens[j + 1], int):
            vowel = decode_pair(0xA8, after)
            if vowel is None or vowel not in TONE_VOWELS:
                break
            letters.append(vowel)
            j += 2
        else:
            break
    if not letters or j >= n or tokens[j] != 0x29:
        return None
    return "".join(letters), j + 1


def _markup_follows(tokens: list[Token], i: int) -> bool:
    """`/p>`-like closing tag at `i` whose `<` the server swallowed."""
    if i >= len(tokens) or tokens[i] != 0x2F:
        return False
    j = i + 1
    while j < len(tokens) and isinstance(tokens[j], int) and (0x61 <= tokens[j] <= 0x7A or 0x30 <= tokens[j] <= 0x39):  # type: ignore[operator]
        j += 1
    return j > i + 1 and j < len(tokens) and tokens[j] == 0x3E


def _last_quote(node: _Node | None, limit: int = 400) -> str | None:
    """The nearest curly double quote already emitted, within `limit` steps."""
    steps = 0
    while node is not None and steps < limit:
        if isinstance(node.out, str):
            for ch in reversed(node.out):
                if ch in "“”":
                    return ch
        node = node.parent
        steps += 1
    return None


def _prev_char(node: _Node) -> str | None:
    return decode_pair(node.last[0], node.last[1]) if node.last and len(node.last) == 2 else None


def _next_class(next_lead: int | None) -> int | None:
    """Class of the character a known lead byte will start: row A1 holds punctuation."""
    if next_lead is None:
        return None
    return SYMBOL if next_lead == 0xA1 else HAN if next_lead >= 0xB0 else None


def _choice_cost(ch: str, node: _Node, next_lead: int | None = None) -> float:
    cost = pair_cost(_prev_char(node), ch) + follow_cost(char_class(ch), _next_class(next_lead))
    if ch in "“”":
        # A closing quote follows an open one; quotes alternate within prose.
        last = _last_quote(node)
        if last is not None:
            cost += 0.0 if (ch == "”") == (last == "“") else 3.0
    return cost


CHOICES_KEPT = 3  # candidates carried on, so the characters after them can still decide


def _best_pairs(
    node: _Node, firsts: Iterable[int], seconds: Iterable[int], next_lead: int | None = None, block_ends: bool = False
) -> list[tuple[str, int, int, float, list[str]]]:
    """The cheapest characters among pairs (first, second): each with its bytes, cost and rivals."""
    scored: list[tuple[float, str, int, int]] = []
    for first in firsts:
        for second in seconds:
            ch = decode_pair(first, second)
            if ch is not None:
                cost = _choice_cost(ch, node, next_lead)
                if block_ends and char_class(ch) == OPENING:
                    cost += OPENING_AT_BLOCK_END_COST
                scored.append((cost, ch, first, second))
    scored.sort()
    names = [c for _, c, _, _ in scored[: CHOICES_KEPT + 1]]
    return [
        (ch, first, second, cost, [n for n in names if n != ch]) for cost, ch, first, second in scored[:CHOICES_KEPT]
    ]


BEAM = 15.0  # paths this much costlier than the best never came back in the replica's 300 pages


def _prune(states: dict[Any, _Node]) -> dict[Any, _Node]:
    best = min(node.cost for node in states.values())
    return {key: node for key, node in states.items() if node.cost <= best + BEAM}


class _Lattice:
    """The Viterbi search over one token list."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.agenda: dict[int, dict[tuple[Any, bytes | None], _Node]] = {0: {(None, None): _Node(0.0, None, "", None)}}

    def push(self, index: int, pending: Any, node: _Node) -> None:
        # Paths merge only when both the waiting byte and the last character agree:
        # the next character's cost depends on the last one.
        states = self.agenda.setdefault(index, {})
        key = (pending, node.last)
        best = states.get(key)
        if best is None or node.cost < best.cost:
            states[key] = node

    def run(self) -> _Node:
        tokens, n = self.tokens, len(self.tokens)
        i = 0
        while i < n:
            states = self.agenda.pop(i, None)
            if not states:
                i += 1
                continue
            if len(states) > 1:
                states = _prune(states)
            if len(states) == 1:
                (pending, _), node = next(iter(states.items()))
                if pending is None and tokens[i] in PLAIN_ASCII:
                    i = self._plain_run(i, node)
                    continue
                if pending is None and self._is_plain_pair(i):
                    i = self._pair_run(i, node)
                    continue
            for (pending, _), node in states.items():
                if pending is None:
                    self.from_aligned(i, node)
                elif pending == UNKNOWN_LEAD:
                    self.from_lost_lead(i, node)
                else:
                    self.from_lead(i, pending, node)
            i += 1
        final = []
        for (pending, _), node in self.agenda.get(n, {}).items():
            if pending is not None:  # a lead byte left waiting at the very end
                node = _Node(node.cost + MARKER_COST, node, Marker("lead byte at end of text"), None)
            final.append(node)
        return min(final, key=lambda nd: nd.cost)

    def _plain_run(self, i: int, node: _Node) -> int:
        tokens, n = self.tokens, len(self.tokens)
        j = i + 1
        while j < n and tokens[j] in PLAIN_ASCII and j not in self.agenda:
            j += 1
        run = "".join(chr(t) for t in tokens[i:j])  # type: ignore[arg-type]
        self.push(j, None, _Node(node.cost + ASCII_COST * (j - i), node, run, None))
        return j

    def _is_plain_pair(self, i: int) -> bool:
        tokens = self.tokens
        if i + 1 >= len(tokens) or i + 1 in self.agenda:
            return False
        lead, trail = tokens[i], tokens[i + 1]
        return (
            isinstance(lead, int)
            and isinstance(trail, int)
            and 0x81 <= lead <= 0xFE
            and 0x80 <= trail <= 0xFE
            and decode_pair(lead, trail) is not None
        )

    def _pair_run(self, i: int, node: _Node) -> int:
        """Pairs of high bytes with a single path alive: nothing to decide, so no costs.

        A lone path's cost only matters relative to paths that branch off it later.
        """
        tokens = self.tokens
        chars: list[str] = []
        j = i
        while self._is_plain_pair(j):
            chars.append(decode_pair(tokens[j], tokens[j + 1]))  # type: ignore[arg-type]
            j += 2
        last = bytes(tokens[j - 2 : j])  # type: ignore[arg-type]
        self.push(j, None, _Node(node.cost, node, "".join(chars), last))
        return j

    def from_aligned(self, i: int, node: _Node) -> None:
        t = self.tokens[i]
        if isinstance(t, Marker):
            self.push(i + 1, None, _Node(node.cost + MARKER_COST, node, t, None))
        elif isinstance(t, str):
            self.push(i + 1, None, _Node(node.cost + ASCII_COST, node, t, None))
        elif t == QMARK:
            after = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
            extra = 0.0
            if node.last is None:
                pass  # after Latin text, `??`, `?!` and `?2` are ordinary writing
            elif after == QMARK:
                extra = QMARK_BEFORE_QMARK_COST
            elif after in ASCII_SYMBOLS or (
                isinstance(node.out, str) and node.out[-1:] and ord(node.out[-1]) in ASCII_SYMBOLS
            ):
                extra = QMARK_BEFORE_SWAPPED_COST
            elif isinstance(after, int) and 0 <= after < 0x80 and chr(after).isalnum():
                extra = QMARK_BEFORE_ALNUM_COST
            self.push(i + 1, None, _Node(node.cost + char_cost("？") + extra, node, "?", None))
            self.push(i + 1, UNKNOWN_LEAD, _Node(node.cost + LOST_BYTE_PENALTY, node, "", node.last))
        elif t == 0x28 and self._aligned_reading(i, node):
            return
        elif t < 0x80:
            self.push(i + 1, None, _Node(node.cost + self._ascii_cost(i, node), node, chr(t), None))
        elif is_lead(t):
            self.push(i + 1, t, _Node(node.cost, node, "", node.last))
        else:
            self.push(i + 1, None, _Node(node.cost + MARKER_COST, node, Marker("stray byte"), None))

    def _ascii_cost(self, i: int, node: _Node) -> float:
        t = self.tokens[i]
        if node.last is not None and t in ASCII_SYMBOLS:
            return ASCII_COST + SYMBOL_AFTER_HAN_COST
        if node.last is None or not (isinstance(t, int) and chr(t).isalpha()):
            return ASCII_COST
        after = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        if isinstance(after, int) and after >= 0 and is_lead(after):
            return ASCII_COST + LONE_LETTER_COST
        return ASCII_COST + LATIN_START_COST

    def _aligned_reading(self, i: int, node: _Node) -> bool:
        if node.last is None or len(node.last) != 2:
            return False
        found = _match_reading(self.tokens, i, with_paren=True)
        if found is None or not char_has_reading(decode_pair(*node.last), found[0]):
            return False
        self.push(found[1], None, _Node(node.cost, node, "", node.last, ("pinyin",)))
        return True

    def from_lead(self, i: int, lead: int, node: _Node) -> None:
        t = self.tokens[i]
        if t == 0x28 and node.last:
            found = _match_reading(self.tokens, i, with_paren=True)
            if found and char_has_reading(decode_pair(node.last[-1], lead), found[0]):
                # The reading names the pair straddling the last character and this lead.
                self.push(found[1], lead, _Node(node.cost, node, "", node.last, ("pinyin", "straddle")))
                return
        if isinstance(t, int) and t >= 0 and is_trail(t):
            ch = decode_pair(lead, t)
            if ch is not None:
                cost = pair_cost(_prev_char(node), ch)
                self.push(i + 1, None, _Node(node.cost + cost, node, ch, bytes((lead, t))))
        if isinstance(t, int) and t in ASCII_TO_FULLWIDTH:
            literal = decode_pair(lead, t) if is_trail(t) else None
            # Where the bytes already read as a real character, a swap needs more evidence:
            # undamaged text must come out unchanged.
            doubt = READABLE_PAIR_PENALTY if literal is not None and not is_private_use(literal) else 0.0
            self._fullwidth(i, node, lead, ASCII_TO_FULLWIDTH[t], doubt)
        if t == QMARK:
            self._fullwidth(i, node, lead, ASCII_TO_FULLWIDTH[ord("?")])
            if not self._lost_trail_with_reading(i, node, lead):
                self._lost_trail(i, node, lead)
            return
        if isinstance(t, int) and 0x30 <= t <= 0x39 and self._four_byte(i, lead, node):
            return
        if not (isinstance(t, int) and t >= 0 and (is_trail(t) or t in ASCII_TO_FULLWIDTH)):
            orphan = _Node(node.cost + MARKER_COST, node, Marker("lead byte without its trail"), None)
            self.from_aligned(i, orphan)

    def _fullwidth(self, i: int, node: _Node, lead: int, pair: bytes, doubt: float = 0.0) -> None:
        ch = decode_pair(lead, pair[0])
        if ch is not None:
            event: tuple[Any, ...] = ("fullwidth",)
            cost = pair_cost(_prev_char(node), ch) + FULLWIDTH_PENALTY + doubt
            self.push(i + 1, pair[1], _Node(node.cost + cost, node, ch, bytes((lead, pair[0])), event))

    def _four_byte(self, i: int, lead: int, node: _Node) -> bool:
        raw = bytes([lead, *[t for t in self.tokens[i : i + 3] if isinstance(t, int) and t >= 0]])
        if len(raw) != 4:
            return False
        try:
            ch = raw.decode("gb18030")
        except UnicodeDecodeError:
            return False
        self.push(i + 3, None, _Node(node.cost + char_cost(ch), node, ch, None))
        return True

    def _lost_trail_with_reading(self, i: int, node: _Node, lead: int) -> bool:
        """`?shù)`: the lost trail and the swallowed `(` of a reading naming the pair."""
        found = _match_reading(self.tokens, i + 1, with_paren=False)
        if found is None:
            return False
        seconds = second_bytes_with_reading(lead, found[0])
        for second in seconds:
            ch = decode_pair(lead, second)
            assert ch is not None
            cost = pair_cost(_prev_char(node), ch)
            event = ("pinyin", "lost-byte")
            self.push(found[1], None, _Node(node.cost + cost, node, ch, bytes((lead, second)), event))
        return bool(seconds)

    def _lost_trail(self, i: int, node: _Node, lead: int) -> None:
        """`?` where a trail byte was lost: the model picks it; a swallowed ASCII is marked."""
        after = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        block_ends = after is None or after in BLOCK_END_BYTES or _markup_follows(self.tokens, i + 1)
        for ch, _, second, cost, others in _best_pairs(node, [lead], range(0x40, 0xFF), block_ends=block_ends):
            event = ("choice", ch, others)
            chosen = _Node(node.cost + cost + LOST_BYTE_PENALTY, node, ch, bytes((lead, second)), event)
            self._after_lost_byte(i + 1, chosen)

    def _after_lost_byte(self, i: int, node: _Node) -> None:
        """The server may have swallowed the ASCII byte after the one it lost.

        It swallows exactly when two ASCII bytes follow (server_decode's rule): then
        a byte is surely gone (a `<` if a closing tag follows). Before a digit or a
        letter it may be gone (`?0年` was `10年`); before punctuation it rarely is.
        """
        tokens = self.tokens
        t = tokens[i] if i < len(tokens) else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if _markup_follows(tokens, i):
            self.push(i, None, _Node(node.cost, node, "<", None, ("markup",)))
        elif isinstance(t, int) and 0 <= t < 0x80 and isinstance(after, int) and 0 <= after < 0x80:
            # Expected damage, not an oddity: priced like the lost byte itself.
            self.push(i, None, _Node(node.cost + SOFT_MARKER_COST, node, Marker("an ASCII byte was lost"), None))
        elif isinstance(t, int) and 0 <= t < 0x80 and chr(t).isalnum():
            self.push(
                i,
                None,
                _Node(node.cost + SOFT_MARKER_COST, node, Marker("an ASCII byte after a lost byte may be lost"), None),
            )
        else:
            self.push(i, None, node)

    def from_lost_lead(self, i: int, node: _Node) -> None:
        t = self.tokens[i]
        leads = range(0x81, 0xFF)
        if isinstance(t, int) and t in ASCII_TO_FULLWIDTH:
            pair = ASCII_TO_FULLWIDTH[t]
            for ch, lead, _, cost, others in _best_pairs(node, leads, [pair[0]], next_lead=pair[1]):
                event = ("fullwidth", "choice", ch, others)
                self.push(
                    i + 1, pair[1], _Node(node.cost + cost + FULLWIDTH_PENALTY, node, ch, bytes((lead, pair[0])), event)
                )
        if isinstance(t, int) and t >= 0x61 and node.last:
            found = _match_reading(self.tokens, i, with_paren=False)
            if found:
                for second in second_bytes_with_reading(node.last[-1], found[0]):
                    # The lost byte is the second half of the pair the reading names;
                    # the `(` after it was swallowed with it.
                    clue: tuple[str, ...] = ("pinyin", "lost-byte")
                    self.push(found[1], second, _Node(node.cost, node, "", node.last, clue))
        if _markup_follows(self.tokens, i):
            lost = _Node(node.cost + MARKER_COST, node, Marker("lost lead byte"), None)
            self.push(i, None, _Node(lost.cost, lost, "<", None, ("markup",)))
            return
        after = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        if isinstance(t, int) and 0 <= t < 0x80 and isinstance(after, int) and 0 <= after < 0x80:
            # Two ASCII bytes after a lost lead: the server swallowed the one between (`宮?2024)`
            # was `專項（2024）`); what follows is in step again. Expected damage, priced as such.
            swallowed = _Node(
                node.cost + SOFT_MARKER_COST, node, Marker("a lost byte and the ASCII byte after it"), None
            )
            self.from_aligned(i, swallowed)
        lost = _Node(node.cost + MARKER_COST, node, Marker("lost lead byte"), None)
        self.from_aligned(i, lost)


def _walk(node: _Node) -> list[_Node]:
    path: list[_Node] = []
    current: _Node | None = node
    while current is not None:
        path.append(current)
        current = current.parent
    path.reverse()
    return path


def _assemble(path: list[_Node]) -> RepairResult:
    report = RepairReport()
    pieces: list[str] = []
    for step in path:
        if isinstance(step.out, Marker):
            pieces.append(marker_tag(len(report.marker_reasons)))
            report.marker_reasons.append(step.out.reason)
        else:
            pieces.append(step.out)
        event = step.event
        if not event:
            continue
        kind = event[0]
        if kind == "pinyin":
            report.pinyin_removed += 1
            if len(event) > 1:
                report.mojibake_runs += 1
                report.bytes_restored += 1 if event[1] == "lost-byte" else 0
        elif kind == "fullwidth":
            report.mojibake_runs += 1
            report.bytes_restored += 2
        elif kind == "markup":
            report.markup_restored += 1
            report.bytes_restored += 1
        if "choice" in event:
            ch, others = event[-2], event[-1]
            report.model_choices.append({"chosen": ch, "alternatives": others})
            if kind == "choice":
                report.mojibake_runs += 1
                report.bytes_restored += 1
    return RepairResult("".join(pieces), report)


def repair_tokens(tokens: list[Token]) -> RepairResult:
    """Find the cheapest restoration of a token list."""
    if not tokens:
        return RepairResult("", RepairReport())
    return _assemble(_walk(_Lattice(tokens).run()))


def repair_gbk_bytes(data: bytes) -> RepairResult:
    """Restore raw GBK bytes as served (every byte known).

    >>> repair_gbk_bytes(bytes.fromhex("d6ceaf9fa121b1c0ee")).text
    '治療。”李'
    """
    return repair_tokens(tokens_from_bytes(data))


def repair_text(text: str) -> RepairResult:
    """Restore text the server already decoded (`?` where it lost a byte).

    >>> repair_text("我們?yōu)楸煌镀髽I(yè)定制").text
    '我們為被投企業定制'
    """
    return repair_tokens(tokens_from_text(text))
