"""Source code chunking with tree-sitter: one chunk per function, method or class.

Each chunk carries the qualified name of the definition it holds (``Session.request``) and its
line range. A class too large for one chunk is opened: its header and each method become chunks
of their own. Definitions larger than the budget are cut by lines; the code between definitions
(imports, constants) is packed into line windows. Languages without a grammar here are cut into
line windows as a whole. Grammars come pre-compiled from ``tree-sitter-language-pack``.
Definitions that share a line (minified code, C one-liners) become one piece: no line is ever
planned twice, so no two chunks share a span, and the work grows linearly with the file.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from tree_sitter import Node, Parser

from ingest.chunking import ChunkSettings, split_region
from ingest.document import Chunk, Document, make_chunk
from ingest.lines import line_starts
from ingest.tokens import count_tokens

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grammar:
    """What counts as a definition in one language."""

    containers: frozenset[str]  # definitions whose members become chunks of their own
    leaves: frozenset[str]  # definitions kept whole (cut by lines only when too large)
    wrappers: frozenset[str]  # nodes wrapping a definition (decorators, export, template)


def _g(containers: str, leaves: str, wrappers: str = "") -> Grammar:
    return Grammar(frozenset(containers.split()), frozenset(leaves.split()), frozenset(wrappers.split()))


_JS_LEAVES = (
    "function_declaration generator_function_declaration method_definition lexical_declaration "
    "variable_declaration"
)
_TS_LEAVES = _JS_LEAVES + (
    " interface_declaration type_alias_declaration enum_declaration abstract_method_signature "
    "function_signature module internal_module"
)
GRAMMARS: dict[str, Grammar] = {
    "python": _g("class_definition", "function_definition", "decorated_definition"),
    "javascript": _g("class_declaration class", _JS_LEAVES, "export_statement"),
    "typescript": _g("class_declaration abstract_class_declaration class", _TS_LEAVES, "export_statement"),
    "tsx": _g("class_declaration abstract_class_declaration class", _TS_LEAVES, "export_statement"),
    "go": _g("", "function_declaration method_declaration type_declaration"),
    "rust": _g(
        "impl_item trait_item mod_item",
        "function_item struct_item enum_item union_item macro_definition function_signature_item",
    ),
    "java": _g(
        "class_declaration interface_declaration enum_declaration record_declaration",
        "method_declaration constructor_declaration",
    ),
    "c": _g("", "function_definition struct_specifier enum_specifier union_specifier type_definition"),
    "cpp": _g(
        "class_specifier struct_specifier namespace_definition",
        "function_definition enum_specifier union_specifier type_definition",
        "template_declaration",
    ),
}

# Blocks that only group definitions (#ifdef, extern "C"): their members are planned in place.
_TRANSPARENT = frozenset({
    "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef",
    "linkage_specification", "declaration_list",
})  # fmt: skip
_FUNCTION_VALUES = frozenset({
    "arrow_function", "function_expression", "function", "class", "generator_function",
})  # fmt: skip
_BODY_TYPES = frozenset({
    "block", "class_body", "declaration_list", "field_declaration_list", "interface_body",
    "enum_body", "statement_block",
})  # fmt: skip


_MAX_DEPTH = 32  # nesting levels of classes and #if blocks opened; deeper code stays whole


@functools.cache
def parser_for(language: str) -> Parser:
    """A tree-sitter parser from the pre-compiled grammar pack."""
    from tree_sitter_language_pack import get_parser

    return get_parser(language)  # type: ignore[arg-type]


@dataclass
class _Piece:
    first_row: int
    last_row: int
    name: str | None
    definition: bool


def _identifier(node: Node | None) -> str | None:
    """The name a declarator or name field spells (drills through C declarators)."""
    while node is not None:
        if node.type in {
            "identifier",
            "type_identifier",
            "field_identifier",
            "namespace_identifier",
            "property_identifier",
            "destructor_name",
            "operator_name",
            "qualified_identifier",
            "private_property_identifier",
            "constant",
        }:
            return node.text.decode("utf-8", "replace").replace("::", ".") if node.text else None
        node = node.child_by_field_name("declarator") or node.child_by_field_name("name")
    return None


def _name(node: Node) -> str | None:
    kind = node.type
    if kind == "method_declaration" and node.child_by_field_name("receiver") is not None:
        receiver = node.child_by_field_name("receiver")
        types = [n for n in _walk(receiver) if n.type == "type_identifier"] if receiver else []
        method = _identifier(node.child_by_field_name("name"))
        owner = types[0].text.decode() if types and types[0].text else None
        return f"{owner}.{method}" if owner else method
    if kind == "impl_item":
        return _identifier(node.child_by_field_name("type"))
    if kind in {"lexical_declaration", "variable_declaration"}:
        for declarator in node.named_children:
            if declarator.type == "variable_declarator":
                return _identifier(declarator.child_by_field_name("name"))
        return None
    if kind == "type_declaration":
        spec = next((c for c in node.named_children if c.type in {"type_spec", "type_alias"}), None)
        return _identifier(spec.child_by_field_name("name")) if spec else None
    if kind == "type_definition":
        return _identifier(node.child_by_field_name("declarator"))
    name = node.child_by_field_name("name")
    if name is not None:
        return _identifier(name)
    return _identifier(node.child_by_field_name("declarator"))


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _is_definition(node: Node, grammar: Grammar) -> bool:
    if node.type in {"lexical_declaration", "variable_declaration"}:
        # only `const f = () => ...` / `const C = class {...}` are definitions
        return any(
            d.type == "variable_declarator"
            and (value := d.child_by_field_name("value")) is not None
            and value.type in _FUNCTION_VALUES
            for d in node.named_children
        )
    if node.type in {"public_field_definition", "field_definition"}:
        # class properties holding functions: `produce = (base, recipe) => {...}`
        value = node.child_by_field_name("value")
        return value is not None and value.type in _FUNCTION_VALUES
    if node.type in {"struct_specifier", "enum_specifier", "union_specifier"}:
        return node.child_by_field_name("body") is not None
    return node.type in grammar.containers or node.type in grammar.leaves


def _unwrap(node: Node, grammar: Grammar) -> Node | None:
    """The definition a top node holds, looking through decorators, export and template."""
    seen = 0
    while node.type in grammar.wrappers and seen < 4:
        inner = node.child_by_field_name("definition") or node.child_by_field_name("declaration")
        if inner is None:
            inner = next((c for c in reversed(node.named_children) if _is_definition(c, grammar)), None)
        if inner is None:
            return None
        node, seen = inner, seen + 1
    return node if _is_definition(node, grammar) else None


def _body(node: Node) -> Node | None:
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    return next((c for c in node.named_children if c.type in _BODY_TYPES), None)


class _Planner:
    """Turns a syntax tree into row ranges, each a definition or the code between.

    Every row belongs to at most one piece: rows are claimed in order, and a definition that
    starts on a row already claimed (``const a = () => 1; const b = () => 2;``, a minified
    bundle) joins the piece that holds that row instead of repeating it. Work is linear in the
    file: token counts come from per-line counts made once.
    """

    def __init__(self, grammar: Grammar, lines: list[str], budget: int) -> None:
        self.grammar = grammar
        self.lines = lines
        self.budget = budget
        self.pieces: list[_Piece] = []
        self.claimed = -1  # the last row given to a piece (or passed over as blank)
        self._cumulative: list[int] | None = None
        self._holds: dict[int, bool] = {}

    def tokens(self, first: int, last: int) -> int:
        """Tokens of rows first..last: counted exactly when near the budget, else estimated.

        The estimate sums per-line counts made once per file (close to the joined count), so
        sizing nested classes or many pieces never recounts the same lines over and over.
        """
        if self._cumulative is None:
            cumulative = [0]
            for line in self.lines:
                cumulative.append(cumulative[-1] + count_tokens(line))
            self._cumulative = cumulative
        estimate = self._cumulative[last + 1] - self._cumulative[first]
        if estimate > 4 * self.budget:
            return estimate
        return count_tokens("".join(self.lines[first : last + 1]))

    def plan(
        self, children: list[Node], prefix: str, last_row: int, owner: str | None, depth: int = 0
    ) -> None:
        """Cover the unclaimed rows up to ``last_row``; definitions among ``children`` get pieces
        of their own (nested ones down to ``_MAX_DEPTH`` levels, deeper ones stay whole)."""
        deeper = depth + 1 < _MAX_DEPTH
        for child in children:
            definition = _unwrap(child, self.grammar)
            if (
                definition is None
                and deeper
                and child.type in _TRANSPARENT
                and self._holds_definitions(child, depth + 1)
            ):
                self._gap(child.start_point[0] - 1, owner)
                inner = [c for c in child.named_children if c.type not in {"identifier", "preproc_arg"}]
                self.plan(inner, prefix, child.end_point[0], owner, depth + 1)
                continue
            if definition is None:
                continue
            end = child.end_point[0]
            if end <= self.claimed:  # wholly on rows a piece already holds
                continue
            start = self._attach_comments(child, self.claimed + 1)
            if start <= self.claimed:  # shares its first row with the piece before: joins it
                self._extend(end, owner)
                continue
            self._gap(start - 1, owner)
            name = _name(definition)
            qualified = f"{prefix}{name}" if name else owner
            body = _body(definition) if definition.type in self.grammar.containers else None
            if body is not None and deeper and self.tokens(start, end) > self.budget:
                members = body.named_children
                self.plan(members, f"{qualified}." if qualified else prefix, end, qualified, depth + 1)
            else:
                self._add(start, end, qualified, definition=True)
        self._gap(last_row, owner)

    def _holds_definitions(self, node: Node, depth: int) -> bool:
        known = self._holds.get(node.id)
        if known is None:
            known = any(
                _unwrap(c, self.grammar) is not None
                or (
                    c.type in _TRANSPARENT
                    and depth + 1 < _MAX_DEPTH
                    and self._holds_definitions(c, depth + 1)
                )
                for c in node.named_children
            )
            self._holds[node.id] = known
        return known

    def _attach_comments(self, node: Node, floor: int) -> int:
        """Start a definition at the comments directly above it (doc comments, annotations)."""
        start = node.start_point[0]
        sibling = node.prev_named_sibling
        while (
            sibling is not None
            and "comment" in sibling.type
            and sibling.end_point[0] >= start - 1
            and sibling.start_point[0] >= floor
        ):
            start = sibling.start_point[0]
            sibling = sibling.prev_named_sibling
        return start

    def _gap(self, last: int, owner: str | None) -> None:
        """Claim the unclaimed rows up to ``last`` as code between definitions."""
        if last > self.claimed:
            self._add(self.claimed + 1, last, owner, definition=False)

    def _extend(self, last: int, owner: str | None) -> None:
        """Grow the piece holding the last claimed row down to row ``last``."""
        if self.pieces:
            self.pieces[-1].last_row = last
            self.claimed = last
        else:
            self._gap(last, owner)

    def _add(self, first: int, last: int, name: str | None, definition: bool) -> None:
        if last >= first and any(line.strip() for line in self.lines[first : last + 1]):
            self.pieces.append(_Piece(first, last, name, definition))
        self.claimed = max(self.claimed, last)


def _scope(piece: _Piece) -> str | None:
    """The container a piece belongs to: ``A`` for method ``A.b``, the owner for a gap."""
    if not piece.definition or piece.name is None:
        return piece.name
    return piece.name.rsplit(".", 1)[0] if "." in piece.name else None


def _merge_small_gaps(pieces: list[_Piece], planner: _Planner, minimum: int) -> list[_Piece]:
    """Fold tiny in-between pieces (a class header, a closing brace) into a neighbour in scope."""
    merged: list[_Piece] = []
    pending: _Piece | None = None  # a small gap waiting to join the next piece
    for piece in pieces:
        small = not piece.definition and planner.tokens(piece.first_row, piece.last_row) < minimum
        if pending is not None:
            if _scope(piece) == pending.name:
                piece.first_row = pending.first_row
            else:
                merged.append(pending)
            pending = None
        if small:
            previous = merged[-1] if merged else None
            if (
                previous is not None
                and _scope(previous) == piece.name
                and (piece.name is not None or not previous.definition)
            ):
                previous.last_row = piece.last_row
                continue
            if piece.name is not None:  # a class header joins the class's first member
                pending = piece
                continue
        merged.append(piece)
    if pending is not None:
        merged.append(pending)
    return merged


def chunk_code(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """Chunks of a source file along its definitions (line windows without a grammar)."""
    grammar = GRAMMARS.get(doc.language or "")
    if grammar is None:
        return _windows(doc, settings, 0, len(doc.text), None, 0)
    lines = doc.text.split("\n")
    starts = line_starts(doc.text)
    keep_ends = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    try:
        tree = parser_for(doc.language or "").parse(doc.text.encode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - a grammar failure falls back to line windows
        log.warning("%s: tree-sitter failed (%s); using line windows", doc.path, exc)
        return _windows(doc, settings, 0, len(doc.text), None, 0)
    planner = _Planner(grammar, keep_ends, settings.tokens)
    planner.plan(tree.root_node.named_children, "", len(lines) - 1, None)
    pieces = _merge_small_gaps(planner.pieces, planner, minimum=max(16, settings.tokens // 16))
    chunks: list[Chunk] = []
    for piece in pieces:
        start = starts[piece.first_row]
        end = starts[piece.last_row] + len(lines[piece.last_row])
        chunks.extend(_windows(doc, settings, start, end, piece.name, len(chunks)))
    return chunks


def _windows(
    doc: Document, settings: ChunkSettings, start: int, end: int, name: str | None, first_ordinal: int
) -> list[Chunk]:
    return [
        make_chunk(doc, s, e, first_ordinal + i, n, name)
        for i, (s, e, n) in enumerate(split_region(doc.text, start, end, settings))
    ]
