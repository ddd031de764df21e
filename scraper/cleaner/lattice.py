"""The byte lattice: a Viterbi search for the cheapest original of one damaged window of GBK.

States say which lead byte waits for its trail; moves are the portal's damage undone (a reading
removed, a full-width swap split back, a lost byte put back) and cost what the character model says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scraper.cleaner.candidates import leads_of, trails_of
from scraper.cleaner.charmodel import (
    ASCII_COST,
    HAN,
    OPENING,
    SYMBOL,
    char_class,
    char_cost,
    follow_cost,
    pair_cost,
)
from scraper.cleaner.gbk import (
    ASCII_END,
    ASCII_TO_FULLWIDTH,
    FULLWIDTH_OFFSET,
    LEAD_FIRST,
    LEAD_LAST,
    SWAPPABLE_FIRST,
    SWAPPABLE_LAST,
    TRAIL_ASCII_FIRST,
    TRAIL_ASCII_LAST,
    TRAIL_HIGH_FIRST,
    TRAIL_HIGH_LAST,
    decode_pair,
    is_lead,
    is_private_use,
    is_trail,
)
from scraper.cleaner.readings import (
    MAX_READING_LETTERS,
    TONE_VOWELS,
    char_has_reading,
    chars_with_reading,
    is_toned,
    second_bytes_with_reading,
)

# Byte values the moves look for.
LEFT_PAREN, RIGHT_PAREN, SPACE, SLASH, LESS_THAN, GREATER_THAN = 0x28, 0x29, 0x20, 0x2F, 0x3C, 0x3E
FULLWIDTH_ROW = 0xA3  # GBK row A3 holds the full-width forms of ASCII: `（` is A3 A8
PINYIN_ROW = 0xA8  # GBK row A8 holds the tone-marked vowels readings are spelled with
SYMBOL_ROW = 0xA1  # GBK row A1 holds Chinese punctuation (`。` is A1 A3)
FIRST_HAN_LEAD = 0xB0  # leads from B0 on start Han characters
DIGIT_0, DIGIT_9 = 0x30, 0x39  # a four-byte GB18030 sequence has a digit second (and fourth)
LOWER_A, LOWER_Z = 0x61, 0x7A  # reading letters are lower case
UNKNOWN_LEAD = "lost"  # state: a lead byte was lost and is still unknown


@dataclass(frozen=True)
class Marker:
    """A token standing for text known to be lost."""

    reason: str


class QuestionMark:
    """The token of a `?` in server-decoded text: a literal question mark, or a byte the server lost."""

    def __repr__(self) -> str:
        return "QMARK"


QMARK = QuestionMark()
Token = int | str | Marker | QuestionMark  # int: a known byte; str: a character outside GBK, passed whole

# Penalties are in the character model's units (negative log shares): a repair
# must buy back its cost through the common characters it makes appear.
FULLWIDTH_PENALTY = 2.0
READABLE_PAIR_PENALTY = 4.0  # the swap would break a pair that already reads as a real character
LOST_BYTE_PENALTY = 3.0
MARKER_COST = 14.0
SOFT_MARKER_COST = 4.0  # a byte that may or may not have been swallowed
LOST_CHAR_PENALTY = 8.0  # a whole character gone, known only by its reading: the last resort before a marker
STRAY_READING_COST = 9.0  # a toned reading that names nothing here: dropped, as no text is toned pinyin
QMARK_BEFORE_QMARK_COST = 20.0  # `??` in Chinese text is a run of lost bytes
QMARK_BEFORE_SWAPPED_COST = 6.0  # `?!`, `?#`: the hallmark of a lost byte, rare as prose
QMARK_BEFORE_ALNUM_COST = 4.0  # a Chinese question ends before a Han character, quote or break
ASCII_SYMBOLS = frozenset(b"!\"#$%&'*+,-./:;=@[\\]^_`{|}~")
LONE_LETTER_COST = 5.0  # one Latin letter between two Chinese characters
OPENING_AT_BLOCK_END_COST = 8.0  # an opening quote never ends a paragraph
BLOCK_END_BYTES = frozenset(b"<\r\n")
SYMBOL_AFTER_HAN_COST = 3.0  # `_`, `#`, `@` right after a Chinese character: a swapped pair, mostly
LATIN_START_COST = 4.0  # a Latin word right after a Chinese character: about one in 200 characters
CHOICES_KEPT = 3  # candidates carried on, so the characters after them can still decide
BEAM = 15.0  # paths this much costlier than the best never came back in the replica's 300 pages
QUOTE_LOOKBACK = 400  # steps searched back for the last curly quote
PLAIN_ASCII = frozenset(range(ASCII_END)) - {LEFT_PAREN, SLASH}


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


@dataclass
class RepairCounts:
    """Counts of what a repair did, and the model's choices with their rivals."""

    pinyin_removed: int = 0
    mojibake_runs: int = 0
    bytes_restored: int = 0
    markup_restored: int = 0
    model_choices: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: RepairCounts) -> None:
        self.pinyin_removed += other.pinyin_removed
        self.mojibake_runs += other.mojibake_runs
        self.bytes_restored += other.bytes_restored
        self.markup_restored += other.markup_restored
        self.model_choices.extend(other.model_choices)


@dataclass
class LatticeReport(RepairCounts):
    """What the cheapest path did: the counts, and the reasons of its markers in order."""

    markers: list[str] = field(default_factory=list)


@dataclass
class Solution:
    """The restored window as pieces: str for text, Marker for a lost spot.

    `open_end`: the cheapest reading of the window leaves a lead byte waiting at its end,
    so the damage goes on past it and the window should grow.
    """

    pieces: list[str | Marker]
    report: LatticeReport
    open_end: bool = False


# ---- tokens -----------------------------------------------------------------------------


def tokens_from_bytes(data: bytes) -> list[Token]:
    """Raw GBK bytes: every byte is known."""
    return list(data)


MAX_QMARKS_READ = 2  # `??` may be a lost byte and a swapped `？`; a longer run is lost bytes only


def tokens_from_text(text: str) -> list[Token]:
    """Text decoded by the server: `?` may be a lost byte; runs of `???` surely are.

    Characters outside GBK (NBSP, emoji) pass through whole; a U+FFFD the server left is a marker.
    """
    tokens: list[Token] = []
    position = 0
    for found in _QMARKS_OR_REPLACEMENT.finditer(text):
        _plain_tokens(text[position : found.start()], tokens)
        i, j = found.span()
        if text[i] == "?":
            if j - i > MAX_QMARKS_READ and _touches_cjk(text, i, j):
                tokens.append(Marker("run of lost bytes"))
            else:
                tokens.extend([QMARK] * (j - i))
        else:
            tokens.append(Marker("the page as served held U+FFFD"))
        position = j
    _plain_tokens(text[position:], tokens)
    return tokens


_QMARKS_OR_REPLACEMENT = re.compile("\\?+|\ufffd")


def _plain_tokens(text: str, tokens: list[Token]) -> None:
    """The bytes of text without `?` or U+FFFD: at once when every character is ASCII or a GBK pair."""
    try:
        encoded = text.encode("gb18030")
    except UnicodeEncodeError:  # a lone surrogate
        encoded = b""
    if len(encoded) == 2 * len(text) - len(text.encode("ascii", "ignore")):
        tokens.extend(encoded)
        return
    for ch in text:
        if ch < "\x80":
            tokens.append(ord(ch))
        else:
            pair = gbk_pair(ch)
            if pair is None:
                tokens.append(ch)
            else:
                tokens.extend(pair)


def gbk_pair(ch: str) -> bytes | None:
    """The two GBK bytes of `ch`, or None for ASCII, four-byte and unencodable characters."""
    try:
        encoded = ch.encode("gb18030")
    except UnicodeEncodeError:  # a lone surrogate
        return None
    return encoded if len(encoded) == 2 else None


def _touches_cjk(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return before >= "\u2e80" or after >= "\u2e80"


def _byte(tokens: list[Token], i: int) -> int | None:
    """The known byte at `i`, or None past the end, at a lost byte or at a whole character."""
    if i >= len(tokens):
        return None
    t = tokens[i]
    return t if isinstance(t, int) else None


def _is_pair(tokens: list[Token], i: int, lead: int, trail: int) -> bool:
    return _byte(tokens, i) == lead and _byte(tokens, i + 1) == trail


def match_reading(tokens: list[Token], i: int, paren_swallowed: bool = False) -> tuple[str, int] | None:
    """A pinyin reading at `i` in any form annotators use: returns it and the index past its close.

    `(chǎn)`, `（chǎn）`, `(huì )`, toned or toneless; with `paren_swallowed`, the reading starts
    at its first letter (the server swallowed the `(` with a lost byte).
    """
    j = i
    if not paren_swallowed:
        if _byte(tokens, j) == LEFT_PAREN:
            j += 1
        elif _is_pair(tokens, j, FULLWIDTH_ROW, LEFT_PAREN + FULLWIDTH_OFFSET):
            j += 2
        else:
            return None
        if _byte(tokens, j) == SPACE:
            j += 1
    letters: list[str] = []
    while len(letters) <= MAX_READING_LETTERS:
        byte = _byte(tokens, j)
        if byte is not None and LOWER_A <= byte <= LOWER_Z:
            letters.append(chr(byte))
            j += 1
        elif byte == PINYIN_ROW and (after := _byte(tokens, j + 1)) is not None:
            vowel = decode_pair(PINYIN_ROW, after)
            if vowel is None or vowel not in TONE_VOWELS:
                break
            letters.append(vowel)
            j += 2
        else:
            break
    if not letters:
        return None
    if _byte(tokens, j) == SPACE:
        j += 1
    if _byte(tokens, j) == RIGHT_PAREN:
        return "".join(letters), j + 1
    if _is_pair(tokens, j, FULLWIDTH_ROW, RIGHT_PAREN + FULLWIDTH_OFFSET):
        return "".join(letters), j + 2
    return None


def markup_follows(tokens: list[Token], i: int) -> bool:
    """`/p>`-like closing tag at `i` whose `<` the server swallowed."""
    if _byte(tokens, i) != SLASH:
        return False
    j = i + 1
    while (byte := _byte(tokens, j)) is not None and (LOWER_A <= byte <= LOWER_Z or DIGIT_0 <= byte <= DIGIT_9):
        j += 1
    return j > i + 1 and _byte(tokens, j) == GREATER_THAN


# ---- costs ------------------------------------------------------------------------------


def _last_quote(node: _Node | None) -> str | None:
    """The nearest curly double quote already emitted, within QUOTE_LOOKBACK steps."""
    steps = 0
    while node is not None and steps < QUOTE_LOOKBACK:
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
    return SYMBOL if next_lead == SYMBOL_ROW else HAN if next_lead >= FIRST_HAN_LEAD else None


def _choice_cost(ch: str, node: _Node, next_lead: int | None = None) -> float:
    cost = pair_cost(_prev_char(node), ch) + follow_cost(char_class(ch), _next_class(next_lead))
    if ch in "“”":
        # A closing quote follows an open one; quotes alternate within prose.
        last = _last_quote(node)
        if last is not None:
            cost += 0.0 if (ch == "”") == (last == "“") else 3.0
    return cost


Candidate = tuple[str, int, int, float, list[str]]  # character, its two bytes, cost, rivals


def _ranked(scored: list[tuple[float, str, int, int]]) -> list[Candidate]:
    scored.sort()
    names = [c for _, c, _, _ in scored[: CHOICES_KEPT + 1]]
    return [
        (ch, first, second, cost, [n for n in names if n != ch]) for cost, ch, first, second in scored[:CHOICES_KEPT]
    ]


def _best_pairs(
    node: _Node, pairs: Iterable[tuple[str, int, int]], next_lead: int | None = None, block_ends: bool = False
) -> list[Candidate]:
    """The cheapest characters among `pairs` (candidates.py): each with its bytes, cost and rivals."""
    scored: list[tuple[float, str, int, int]] = []
    for ch, first, second in pairs:
        cost = _choice_cost(ch, node, next_lead)
        if block_ends and char_class(ch) == OPENING:
            cost += OPENING_AT_BLOCK_END_COST
        scored.append((cost, ch, first, second))
    return _ranked(scored)


def _best_with_reading(node: _Node, reading: str) -> list[Candidate]:
    """The cheapest characters read `reading`, when nothing but the reading is left of them."""
    scored = [(_choice_cost(ch, node), ch, pair[0], pair[1]) for ch, pair in chars_with_reading(reading)]
    return _ranked(scored)


def _prune(states: dict[Any, _Node]) -> dict[Any, _Node]:
    """The states within BEAM of the best: a path that far behind is never taken in the end, and carrying it on
    would make every later position pay for it."""
    best = min(node.cost for node in states.values())
    return {key: node for key, node in states.items() if node.cost <= best + BEAM}


# ---- the search -------------------------------------------------------------------------


class Lattice:
    """The Viterbi search over one token list; the moves below extend its paths."""

    def __init__(self, tokens: list[Token], before: str = "") -> None:
        self.tokens = tokens
        # The root stands for the text before the window: its last character prices the first
        # one inside. It is never emitted. (Quotes before the window are left out: paragraphs
        # and markup break the alternation, and the replica's choices came out worse with them.)
        root = _Node(0.0, None, "", gbk_pair(before[-1:]) if before else None)
        self.agenda: dict[int, dict[tuple[Any, bytes | None], _Node]] = {0: {(None, root.last): root}}

    def push(self, index: int, pending: Any, node: _Node) -> None:
        # Paths merge only when both the waiting byte and the last character agree:
        # the next character's cost depends on the last one.
        states = self.agenda.setdefault(index, {})
        key = (pending, node.last)
        best = states.get(key)
        if best is None or node.cost < best.cost:
            states[key] = node

    def after(self, i: int) -> Token | None:
        return self.tokens[i] if i < len(self.tokens) else None

    def solve(self) -> Solution:
        best, open_end = self._run()
        solution = _assemble(_walk(best))
        solution.open_end = open_end
        return solution

    def _run(self) -> tuple[_Node, bool]:
        n = len(self.tokens)
        i = 0
        while i < n:
            states = self.agenda.pop(i, None)
            if not states:
                i += 1
                continue
            if len(states) > 1:
                states = _prune(states)
            if len(states) == 1 and not self.agenda:
                # A lone path with none ahead: runs with nothing to decide cost nothing extra.
                (pending, _), node = next(iter(states.items()))
                if pending is None and self._is_plain_ascii(i):
                    i = self._plain_run(i, node)
                    continue
                if pending is None and self._is_plain_pair(i):
                    i = self._pair_run(i, node)
                    continue
            for (pending, _), node in states.items():
                if pending is None:
                    from_aligned(self, i, node)
                elif pending == UNKNOWN_LEAD:
                    from_lost_lead(self, i, node)
                else:
                    from_lead(self, i, pending, node)
            i += 1
        final = []
        waiting = aligned = float("inf")
        for (pending, _), node in self.agenda.get(n, {}).items():
            if pending is not None:  # a lead byte left waiting at the very end
                waiting = min(waiting, node.cost)
                node = _Node(node.cost + MARKER_COST, node, Marker("lead byte at end of text"), None)
            else:
                aligned = min(aligned, node.cost)
            final.append(node)
        return min(final, key=lambda nd: nd.cost), waiting < aligned

    def _is_plain_ascii(self, i: int) -> bool:
        # The byte before a `(` may be the trail a reading names (`A(chǔ)`): not plain.
        return self.tokens[i] in PLAIN_ASCII and self.after(i + 1) != LEFT_PAREN

    def _plain_run(self, i: int, node: _Node) -> int:
        """ASCII with a single path alive: nothing to decide until a `(` or `/`."""
        j = i + 1
        while j < len(self.tokens) and self._is_plain_ascii(j) and j not in self.agenda:
            j += 1
        tokens = self.tokens
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
            and LEAD_FIRST <= lead <= LEAD_LAST
            and TRAIL_HIGH_FIRST <= trail <= TRAIL_HIGH_LAST
            and decode_pair(lead, trail) is not None
        )

    def _pair_run(self, i: int, node: _Node) -> int:
        """Pairs of high bytes with a single path alive: nothing to decide, so no costs.

        A lone path's cost only matters relative to paths that branch off it later.
        """
        tokens = self.tokens
        chars: list[str] = []
        j, n = i, len(tokens)
        # The agenda is empty here (a lone path), so a plain pair needs only its two bytes.
        while j + 1 < n:
            lead, trail = tokens[j], tokens[j + 1]
            if not (
                isinstance(lead, int)
                and isinstance(trail, int)
                and LEAD_FIRST <= lead <= LEAD_LAST
                and TRAIL_HIGH_FIRST <= trail <= TRAIL_HIGH_LAST
            ):
                break
            ch = decode_pair(lead, trail)
            if ch is None:
                break
            chars.append(ch)
            j += 2
        last = bytes(tokens[j - 2 : j])  # type: ignore[arg-type]
        self.push(j, None, _Node(node.cost, node, "".join(chars), last))
        return j


# ---- moves from an aligned state (no byte waiting) --------------------------------------


def from_aligned(lattice: Lattice, i: int, node: _Node) -> None:
    """At a character boundary: a whole token, a `?`, a reading, ASCII, or the lead of a pair.

    Every kind of damage begins at a boundary (the portal inserts readings after a character and swaps ASCII
    between characters), so this is where each repair is first offered; the model then prices it.
    """
    tokens = lattice.tokens
    t = tokens[i]
    if i and not isinstance(tokens[i - 1], int) and _is_lost(tokens[i - 1]):
        _lost_char_with_reading(lattice, i, node)
    if isinstance(t, int):
        if t in (LEFT_PAREN, FULLWIDTH_ROW) and _reading_after_char(lattice, i, node):
            return
        if t < ASCII_END:
            if TRAIL_ASCII_FIRST <= t <= TRAIL_ASCII_LAST:
                _reading_names_ascii_trail(lattice, i, node)
            lattice.push(i + 1, None, _Node(node.cost + _ascii_cost(lattice, i, node), node, chr(t), None))
        elif LEAD_FIRST <= t <= LEAD_LAST:  # gbk.is_lead
            lattice.push(i + 1, t, _Node(node.cost, node, "", node.last))
        else:
            lattice.push(i + 1, None, _Node(node.cost + MARKER_COST, node, Marker("stray byte"), None))
    elif isinstance(t, Marker):
        lattice.push(i + 1, None, _Node(node.cost + MARKER_COST, node, t, None))
    elif isinstance(t, str):
        lattice.push(i + 1, None, _Node(node.cost + ASCII_COST, node, t, None))
    else:
        _question_mark(lattice, i, node)


def _question_mark(lattice: Lattice, i: int, node: _Node) -> None:
    """A `?` of decoded text: a question mark, a lost lead byte, or a lost character with its reading."""
    after = lattice.after(i + 1)
    extra = 0.0
    if node.last is None:
        pass  # after Latin text, `??`, `?!` and `?2` are ordinary writing
    elif after == QMARK:
        extra = QMARK_BEFORE_QMARK_COST
    elif after in ASCII_SYMBOLS or (isinstance(node.out, str) and node.out[-1:] and ord(node.out[-1]) in ASCII_SYMBOLS):
        extra = QMARK_BEFORE_SWAPPED_COST
    elif isinstance(after, int) and after < ASCII_END and chr(after).isalnum():
        extra = QMARK_BEFORE_ALNUM_COST
    lattice.push(i + 1, None, _Node(node.cost + char_cost("？") + extra, node, "?", None))
    lattice.push(i + 1, UNKNOWN_LEAD, _Node(node.cost + LOST_BYTE_PENALTY, node, "", node.last))
    _lost_char_with_reading(lattice, i + 1, node)


def _is_lost(token: Token) -> bool:
    return isinstance(token, QuestionMark | Marker)


def _lost_char_with_reading(lattice: Lattice, i: int, node: _Node) -> None:
    """`?duì)`: a character lost whole, only its reading (its `(` swallowed) left at `i`.

    Where no byte the damage left can be the one the reading names, the model picks a
    character with that reading, or the spot is marked; the reading goes either way.
    """
    found = match_reading(lattice.tokens, i, paren_swallowed=True)
    if found is None:
        return
    reading, end = found
    for ch, lead, trail, cost, others in _best_with_reading(node, reading):
        event = ("pinyin", "lost-char", "choice", ch, others)
        lattice.push(end, None, _Node(node.cost + cost + LOST_CHAR_PENALTY, node, ch, bytes((lead, trail)), event))
    marker = Marker(f"a lost character read {reading}")
    lattice.push(end, None, _Node(node.cost + MARKER_COST, node, marker, None, ("pinyin", "lost-char-marked")))


def _reading_after_char(lattice: Lattice, i: int, node: _Node) -> bool:
    """`產(chǎn)`: a reading naming the character just emitted goes.

    Right after a lost spot a toned reading may go too: the character it named is the one lost.
    Elsewhere a reading naming another character stays (`「長」(cháng)` is a gloss, not damage).
    """
    found = match_reading(lattice.tokens, i)
    if found is None:
        return False
    reading, end = found
    if node.last is not None and len(node.last) == 2 and char_has_reading(decode_pair(*node.last), reading):
        lattice.push(end, None, _Node(node.cost, node, "", node.last, ("pinyin",)))
        return True
    if is_toned(reading) and (isinstance(node.out, Marker) or (i and _is_lost(lattice.tokens[i - 1]))):
        lattice.push(end, None, _Node(node.cost + STRAY_READING_COST, node, "", node.last, ("pinyin", "stray")))
    return False


def _reading_names_ascii_trail(lattice: Lattice, i: int, node: _Node) -> None:
    """`A(chǔ)`: the ASCII byte is the trail of the character read so; its lead was lost (礎 is B5 41)."""
    found = match_reading(lattice.tokens, i + 1)
    if found is None:
        return
    reading, end = found
    trail = lattice.tokens[i]
    assert isinstance(trail, int)
    pairs = [
        (ch, lead, trail)
        for lead in range(LEAD_FIRST, LEAD_LAST + 1)
        if char_has_reading(ch := decode_pair(lead, trail), reading)
    ]
    for ch, lead, _, cost, others in _best_pairs(node, pairs):  # type: ignore[arg-type]
        event = ("pinyin", "lost-byte", "choice", ch, others)
        lattice.push(end, None, _Node(node.cost + cost + LOST_BYTE_PENALTY, node, ch, bytes((lead, trail)), event))


def _ascii_cost(lattice: Lattice, i: int, node: _Node) -> float:
    t = lattice.tokens[i]
    if node.last is not None and t in ASCII_SYMBOLS:
        return ASCII_COST + SYMBOL_AFTER_HAN_COST
    if node.last is None or not (isinstance(t, int) and chr(t).isalpha()):
        return ASCII_COST
    after = lattice.after(i + 1)
    if isinstance(after, int) and is_lead(after):
        return ASCII_COST + LONE_LETTER_COST
    return ASCII_COST + LATIN_START_COST


# ---- moves with a known lead byte waiting ----------------------------------------------


def from_lead(lattice: Lattice, i: int, lead: int, node: _Node) -> None:
    """A lead byte waits: its trail, a straddling reading, a split full-width pair, or a lost trail.

    The portal's steps work on bytes, not characters: a reading or a full-width swap can land between a lead and
    its trail, and the server may have dropped the trail. Each of those readings of the next byte is a move.
    """
    t = lattice.tokens[i]
    if not isinstance(t, int):
        if isinstance(t, QuestionMark):
            _split_fullwidth(lattice, i, node, lead, ASCII_TO_FULLWIDTH[ord("?")])
            if not _lost_trail_with_reading(lattice, i, node, lead):
                _lost_trail(lattice, i, node, lead)
            return
        orphan = _Node(node.cost + MARKER_COST, node, Marker("lead byte without its trail"), None)
        from_aligned(lattice, i, orphan)
        return
    if t == LEFT_PAREN and node.last and _straddling_reading(lattice, i, lead, node):
        return
    trail = TRAIL_ASCII_FIRST <= t <= TRAIL_ASCII_LAST or TRAIL_HIGH_FIRST <= t <= TRAIL_HIGH_LAST  # gbk.is_trail
    literal = decode_pair(lead, t) if trail else None
    if literal is not None:
        cost = pair_cost(_prev_char(node), literal)
        lattice.push(i + 1, None, _Node(node.cost + cost, node, literal, bytes((lead, t))))
    swapped = ASCII_TO_FULLWIDTH.get(t)
    if swapped is not None:
        # Where the bytes already read as a real character, a swap needs more evidence:
        # undamaged text must come out unchanged.
        doubt = READABLE_PAIR_PENALTY if literal is not None and not is_private_use(literal) else 0.0
        _split_fullwidth(lattice, i, node, lead, swapped, doubt)
    if DIGIT_0 <= t <= DIGIT_9 and _four_byte(lattice, i, lead, node):
        return
    if not trail and swapped is None:
        orphan = _Node(node.cost + MARKER_COST, node, Marker("lead byte without its trail"), None)
        from_aligned(lattice, i, orphan)


def _straddling_reading(lattice: Lattice, i: int, lead: int, node: _Node) -> bool:
    """The reading names the pair straddling the last character and the waiting lead."""
    assert node.last is not None
    found = match_reading(lattice.tokens, i)
    if found and char_has_reading(decode_pair(node.last[-1], lead), found[0]):
        lattice.push(found[1], lead, _Node(node.cost, node, "", node.last, ("pinyin", "straddle")))
        return True
    return False


def _split_fullwidth(lattice: Lattice, i: int, node: _Node, lead: int, pair: bytes, doubt: float = 0.0) -> None:
    """The ASCII byte stood for a full-width pair whose first byte completes the waiting lead.

    The full-width step turned a straddling A3 xx pair into one ASCII byte; undoing it gives the lead its trail
    (A3) and leaves xx waiting as the next lead: the shift that mojibake runs come from.
    """
    ch = decode_pair(lead, pair[0])
    if ch is not None:
        cost = pair_cost(_prev_char(node), ch) + FULLWIDTH_PENALTY + doubt
        lattice.push(i + 1, pair[1], _Node(node.cost + cost, node, ch, bytes((lead, pair[0])), ("fullwidth",)))


def _four_byte(lattice: Lattice, i: int, lead: int, node: _Node) -> bool:
    """A GB18030 four-byte character (lead, digit, lead, digit) read whole; False if the bytes are not one.

    Pages served as GB18030 carry characters outside GBK this way; read as two pairs they would be mojibake.
    """
    raw = bytes([lead, *[t for t in lattice.tokens[i : i + 3] if isinstance(t, int)]])
    if len(raw) != 4:
        return False
    try:
        ch = raw.decode("gb18030")
    except UnicodeDecodeError:
        return False
    lattice.push(i + 3, None, _Node(node.cost + char_cost(ch), node, ch, None))
    return True


def _lost_trail_with_reading(lattice: Lattice, i: int, node: _Node, lead: int) -> bool:
    """`?shù)`: the lost trail and the swallowed `(` of a reading naming the pair."""
    found = match_reading(lattice.tokens, i + 1, paren_swallowed=True)
    if found is None:
        return False
    seconds = second_bytes_with_reading(lead, found[0])
    for second in seconds:
        ch = decode_pair(lead, second)
        assert ch is not None
        cost = pair_cost(_prev_char(node), ch)
        event = ("pinyin", "lost-byte")
        lattice.push(found[1], None, _Node(node.cost + cost, node, ch, bytes((lead, second)), event))
    return bool(seconds)


def _lost_trail(lattice: Lattice, i: int, node: _Node, lead: int) -> None:
    """`?` where a trail byte was lost: the model picks it; a swallowed ASCII is marked.

    A lead whose trail the server lost shows as `?`; the trails that lead can take are few enough for the model to
    weigh each one. The server may also have swallowed the ASCII byte after it (_after_lost_byte).
    """
    after = lattice.after(i + 1)
    block_ends = after is None or after in BLOCK_END_BYTES or markup_follows(lattice.tokens, i + 1)
    for ch, _, second, cost, others in _best_pairs(node, trails_of(lead, _prev_char(node)), block_ends=block_ends):
        event = ("choice", ch, others)
        chosen = _Node(node.cost + cost + LOST_BYTE_PENALTY, node, ch, bytes((lead, second)), event)
        _after_lost_byte(lattice, i + 1, chosen)


def _after_lost_byte(lattice: Lattice, i: int, node: _Node) -> None:
    """The server may have swallowed the ASCII byte after the one it lost.

    It swallows exactly when two ASCII bytes follow (server_decode's rule): then
    a byte is surely gone (a `<` if a closing tag follows). Before a digit or a
    letter it may be gone (`?0年` was `10年`); before punctuation it rarely is.
    """
    t, after = _byte(lattice.tokens, i), _byte(lattice.tokens, i + 1)
    if markup_follows(lattice.tokens, i):
        lattice.push(i, None, _Node(node.cost, node, "<", None, ("markup",)))
    elif t is not None and t < ASCII_END and after is not None and after < ASCII_END:
        # Expected damage, not an oddity: priced like the lost byte itself.
        lattice.push(i, None, _Node(node.cost + SOFT_MARKER_COST, node, Marker("an ASCII byte was lost"), None))
    elif t is not None and t < ASCII_END and chr(t).isalnum():
        marker = Marker("an ASCII byte after a lost byte may be lost")
        lattice.push(i, None, _Node(node.cost + SOFT_MARKER_COST, node, marker, None))
    else:
        lattice.push(i, None, node)


# ---- moves after a lost lead byte ------------------------------------------------------


def from_lost_lead(lattice: Lattice, i: int, node: _Node) -> None:
    """A lead byte was lost: the model picks it where a swap or a reading pins its pair.

    Without such a clue any of 126 leads could precede the trail, and guessing one would invent a character:
    the spot is then marked instead.
    """
    t = lattice.tokens[i]
    swapped = ord("?") if isinstance(t, QuestionMark) else t  # `??`: a lost byte, then a swapped `？` (A3 BF)
    if isinstance(swapped, int) and swapped in ASCII_TO_FULLWIDTH:
        pair = ASCII_TO_FULLWIDTH[swapped]
        candidates = leads_of(pair[0], _prev_char(node))
        for ch, lead, _, cost, others in _best_pairs(node, candidates, next_lead=pair[1]):
            event = ("fullwidth", "choice", ch, others)
            chosen = _Node(node.cost + cost + FULLWIDTH_PENALTY, node, ch, bytes((lead, pair[0])), event)
            lattice.push(i + 1, pair[1], chosen)
    if isinstance(t, int) and t >= LOWER_A and node.last:
        found = match_reading(lattice.tokens, i, paren_swallowed=True)
        if found:
            for second in second_bytes_with_reading(node.last[-1], found[0]):
                # The lost byte is the second half of the pair the reading names;
                # the `(` after it was swallowed with it.
                clue: tuple[str, ...] = ("pinyin", "lost-byte")
                lattice.push(found[1], second, _Node(node.cost, node, "", node.last, clue))
    if markup_follows(lattice.tokens, i):
        lost = _Node(node.cost + MARKER_COST, node, Marker("lost lead byte"), None)
        lattice.push(i, None, _Node(lost.cost, lost, "<", None, ("markup",)))
        return
    t_byte, after = _byte(lattice.tokens, i), _byte(lattice.tokens, i + 1)
    if t_byte is not None and t_byte < ASCII_END and after is not None and after < ASCII_END:
        # Two ASCII bytes after a lost lead: the server swallowed the one between (`宮?2024)`
        # was `專項（2024）`); what follows is in step again. Expected damage, priced as such.
        swallowed = _Node(node.cost + SOFT_MARKER_COST, node, Marker("a lost byte and the ASCII byte after it"), None)
        from_aligned(lattice, i, swallowed)
    lost = _Node(node.cost + MARKER_COST, node, Marker("lost lead byte"), None)
    from_aligned(lattice, i, lost)


# ---- the cheapest path, as pieces and a report -----------------------------------------


def _walk(node: _Node) -> list[_Node]:
    path: list[_Node] = []
    current: _Node | None = node
    while current is not None:
        path.append(current)
        current = current.parent
    path.reverse()
    return path


def _assemble(path: list[_Node]) -> Solution:
    report = LatticeReport()
    pieces: list[str | Marker] = []
    for step in path[1:]:  # the root stands for the text before the window
        if isinstance(step.out, Marker):
            report.markers.append(step.out.reason)
        if step.out != "":
            pieces.append(step.out)
        if step.event:
            _count(step.event, report)
    return Solution(pieces, report)


# Bytes put back by each kind of reading event: the lost byte it pinned, or a whole character.
_READING_BYTES = {"lost-byte": 1, "lost-char": 2}


def _count(event: tuple[Any, ...], report: LatticeReport) -> None:
    kind = event[0]
    detail = event[1] if len(event) > 1 else None
    if kind == "pinyin":
        report.pinyin_removed += 1
        if detail in ("straddle", "lost-byte", "lost-char", "lost-char-marked"):
            report.mojibake_runs += 1
        report.bytes_restored += _READING_BYTES.get(str(detail), 0)
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


def solve(tokens: list[Token], before: str = "") -> Solution:
    """The cheapest restoration of a token list, `before` being the restored text before it."""
    if not tokens:
        return Solution([], LatticeReport())
    return _unbranched(tokens) or Lattice(tokens, before).solve()


def _unbranched(tokens: list[Token]) -> Solution | None:
    """The only path through known bytes that offer no move but reading them as they are, else None.

    Without `(` or a row-A3 byte no reading or full-width pair can start, and a lead byte followed by
    a high trail has no other reading: the search would walk this one path (rare characters and all).
    """
    if LEFT_PAREN in tokens or FULLWIDTH_ROW in tokens:
        return None
    report = LatticeReport()
    pieces: list[str | Marker] = []
    run: list[str] = []
    pending: int | None = None
    for t in tokens:
        if not isinstance(t, int):
            return None
        if pending is not None:
            if SWAPPABLE_FIRST <= t <= SWAPPABLE_LAST:
                return None  # a full-width pair split by a swap: the model weighs it
            if is_trail(t):
                ch = decode_pair(pending, t)
                if ch is None:
                    return None
                run.append(ch)
                pending = None
                continue
            _mark(pieces, run, report, Marker("lead byte without its trail"))
            pending = None
        if t < ASCII_END:
            run.append(chr(t))
        elif is_lead(t):
            pending = t
        else:
            _mark(pieces, run, report, Marker("stray byte"))
    if pending is not None:
        _mark(pieces, run, report, Marker("lead byte at end of text"))
    if run:
        pieces.append("".join(run))
    return Solution(pieces, report, open_end=pending is not None)


def _mark(pieces: list[str | Marker], run: list[str], report: LatticeReport, marker: Marker) -> None:
    if run:
        pieces.append("".join(run))
        run.clear()
    pieces.append(marker)
    report.markers.append(marker.reason)
