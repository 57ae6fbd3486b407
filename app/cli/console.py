"""How results look in a terminal: ingest summaries, search hits, answers, errors, reports.

Everything that comes from a document, a file name or a model (paths, sections, snippets, quotes,
answers, reasons, trace events, notes) is printed literally, as rich ``Text``: never read as
markup or emoji, with control characters shown rather than sent to the terminal. Markup appears
only in longqa's own fixed strings. Progress bars while work runs are in app/cli/progress.py.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from agents.answer import Answer
from agents.reading.strategies.registry import label
from agents.reading.warm import WarmReport
from retrieval.indexer import IngestReport
from retrieval.search import Hit

out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

_LISTED = 40  # skipped/failed files shown before "and N more"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """``text`` as a string a terminal shows as it is: valid UTF-8 (an undecodable byte of a file
    name becomes ``\\xff``), control characters as escapes instead of terminal commands."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", _utf8(str(text)))


def _utf8(value: str) -> str:
    """``value`` without lone surrogates (what an undecodable byte of a file name becomes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


def literal(text: object, style: str = "") -> Text:
    """Document- or model-derived text, shown exactly as it is."""
    return Text(printable(text), style=style)


def print_json(data: Any) -> None:
    """``data`` as JSON on stdout, in UTF-8 whatever the file names and texts contain."""
    text = json.dumps(_json_safe(data), ensure_ascii=False, indent=2) + "\n"
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _json_safe(data: Any) -> Any:
    if isinstance(data, str):
        return _utf8(data)
    if isinstance(data, dict):
        return {_json_safe(k): _json_safe(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_json_safe(v) for v in data]
    if isinstance(data, Path):
        return _json_safe(str(data))
    return data


def print_error(message: str) -> None:
    """The one line a user sees for an error."""
    err.print(Text.assemble(("error:", "red"), " ", literal(message)))


def print_warning(message: str) -> None:
    err.print(Text.assemble(("warning:", "yellow"), " ", literal(message)))


def snippet(text: str, width: int = 160) -> str:
    """One line of a chunk for display."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def print_ingest_report(report: IngestReport) -> None:
    summary = Table(
        title=Text.assemble("Ingested into ", literal(report.index)), show_header=True, header_style="bold"
    )
    for column in ("ingested", "unchanged", "skipped", "failed", "removed", "chunks embedded", "seconds"):
        summary.add_column(column, justify="right")
    summary.add_row(
        *(str(report.count(s)) for s in ("ingested", "unchanged", "skipped", "failed", "removed")),
        str(report.chunks_embedded),
        f"{sum(report.seconds.values()):.1f}",
    )
    out.print(summary)
    listed = [f for f in report.files if f.status in ("skipped", "failed", "removed") or f.notes]
    if listed:
        table = Table(show_header=True, header_style="bold", title="Files not ingested, and notes")
        table.add_column("file", overflow="fold")
        table.add_column("outcome")
        table.add_column("reason", overflow="fold")
        for f in listed[:_LISTED]:
            style = {"failed": "red", "skipped": "yellow"}.get(f.status, "")
            reason = f.reason or "; ".join(f.notes)
            table.add_row(literal(f.path), Text(f.status, style=style), literal(reason))
        out.print(table)
        if len(listed) > _LISTED:
            out.print(f"… and {len(listed) - _LISTED} more (use --json for the full report)")
    if report.rechunked:
        out.print("[yellow]Chunk settings changed: every file was chunked and embedded again.[/]")
    for warning in getattr(report, "warnings", None) or []:  # IngestReport.warnings, where it exists
        out.print(Text.assemble(("warning:", "yellow"), " ", literal(warning)))


def print_hits(query: str, hits: list[Hit]) -> None:
    if not hits:
        out.print(Text.assemble("No match for ", literal(repr(query)), "."))
        return
    for rank, hit in enumerate(hits, 1):
        chunk = hit.chunk
        line = Text.assemble((f"{rank}. ", "bold"), literal(chunk.label, "bold"), f"  score {hit.score:.4f}")
        if chunk.section:
            line.append_text(Text.assemble("  ", literal(f"({chunk.section})", "dim")))
        out.print(line)
        out.print(Text.assemble("   ", literal(snippet(chunk.text))))


_VERDICT_LINES = {
    "not supported": (
        "Not supported: no cited passage supports this answer; treat it with care",
        "bold red",
    ),
    "partly supported": (
        "Partly supported: some of its sentences have no supporting citation; check them",
        "yellow",
    ),
}


def print_citations(answer: Answer) -> None:
    """Below a streamed answer: its verdict when it is not to be trusted, then the numbered
    citations (span, support, quote), then the sentences removed from it and why."""
    verdict = getattr(answer, "verdict", None)  # Answer.verdict, where it exists
    if answer.refused:
        out.print("[yellow]The documents do not contain the answer.[/]")
    else:
        if getattr(answer, "short", ""):
            out.print(Text.assemble(("In short: ", "bold"), literal(answer.short)))
        if verdict in _VERDICT_LINES:
            line, style = _VERDICT_LINES[verdict]
            out.print(Text(line, style=style))
        if not answer.citations:
            out.print("[yellow]No citations: the answer is not backed by any shown source.[/]")
        else:
            out.print("\n[bold]Citations[/]")
        for citation in answer.citations:
            if citation.support is None:
                judged = Text("not checked", style="dim")
            elif citation.supported:
                judged = Text.assemble(("supported", "green"), f" ({citation.support:.2f})")
            else:
                judged = Text.assemble(("not supported", "red"), f" ({citation.support:.2f})")
            out.print(
                Text.assemble(
                    "  ", (f"[S{citation.marker}]", "bold"), " ", literal(citation.label), "  ", judged
                )
            )
            out.print(Text.assemble("      “", literal(snippet(citation.quote, 220)), "”"))
    if answer.removed_sentences:
        heading = (
            "Removed: they follow an instruction found in a document"
            if followed_instruction(answer)
            else "Removed as unsupported (--strict)"
        )
        out.print(Text("\n" + heading, style="bold"))
        for sentence in answer.removed_sentences:
            out.print(Text.assemble("  - ", literal(sentence)))


def followed_instruction(answer: Answer) -> bool:
    """Whether the trace says sentences were removed for following an instruction in a document."""
    return any("instruction" in event.lower() for event in answer.trace.events)


def print_trace(answer: Answer) -> None:
    """How the answer was made: the router's decision, estimates, each call, notes."""
    trace = answer.trace
    made = label(answer.strategy)
    made = made if made == answer.strategy else f"{made} ({answer.strategy})"
    out.print(Text.assemble(("\nHow this answer was made", "bold"), ": ", literal(made)))
    out.print(Text.assemble("  decision: ", literal(trace.decision), " — ", literal(trace.reason)))
    if trace.estimates:
        table = Table(title="Router estimates", header_style="bold")
        columns = (
            "strategy",
            "calls",
            "prompt tokens",
            "cached",
            "completion tokens",
            "seconds",
            "fits window",
        )
        for column in columns:
            table.add_column(column, justify="right" if column != "strategy" else "left")
        for name, e in trace.estimates.items():
            table.add_row(
                literal(name),
                str(e.calls),
                str(e.prompt_tokens),
                str(e.cached_tokens),
                str(e.completion_tokens),
                f"{e.seconds:.1f}",
                "yes" if e.fits else "no",
            )
        out.print(table)
    calls = Table(title="Model calls", header_style="bold")
    call_columns = (
        "#",
        "role",
        "prompt tokens",
        "cached",
        "completion tokens",
        "seconds",
        "estimated s",
        "first token s",
    )
    for column in call_columns:
        calls.add_column(column, justify="right" if column not in ("role",) else "left")
    for i, call in enumerate(trace.calls, 1):
        calls.add_row(
            str(i),
            literal(call.role),
            str(call.prompt_tokens),
            str(call.cached_tokens),
            str(call.completion_tokens),
            f"{call.seconds:.1f}",
            f"{call.estimated_seconds:.1f}" if call.estimated_seconds is not None else "",
            f"{call.first_token_seconds:.1f}" if call.first_token_seconds is not None else "",
        )
    calls.add_row(
        "",
        "total",
        str(trace.prompt_tokens),
        "",
        str(trace.completion_tokens),
        f"{trace.seconds:.1f}",
        "",
        "",
    )
    out.print(calls)
    for i, call in enumerate(trace.calls, 1):
        if call.note:
            out.print(Text.assemble(f"  call {i}: ", literal(call.note)))
    for event in trace.events:
        out.print(Text.assemble("  • ", literal(event)))
    for i, notes in enumerate(trace.notes, 1):
        out.print(Text.assemble("  ", (f"worker {i} notes:", "dim"), " ", literal(snippet(notes, 400))))


def print_eval_summary(folder: Path) -> None:
    """The per-strategy table of a finished report, and where the files are."""
    text = (folder / "report.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), None)
    if start is not None:
        end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
        for line in lines[start:end]:
            out.print(literal(line))
    out.print(
        literal(
            f"\nreport: {folder / 'report.md'} (tables), {folder / 'report.json'} (every answer), "
            f"plots in {folder}"
        )
    )


def print_warm_report(report: WarmReport) -> None:
    """What ``longqa warm`` read and stored, part by part, and the totals."""
    table = Table(title="Prefix states", header_style="bold")
    for column in ("part", "starts at", "tokens", "status", "seconds", "MB"):
        table.add_column(column, justify="left" if column in ("part", "starts at", "status") else "right")
    for part in report.parts:
        table.add_row(
            literal(part.part),
            literal(part.label),
            str(part.tokens),
            literal(part.status),
            f"{part.seconds:.1f}",
            f"{part.bytes / 1e6:.0f}" if part.bytes else "",
        )
    out.print(table)
    out.print(
        f"prefilled {report.prefilled:,} tokens, stored {report.stored_bytes / 1e6:,.0f} MB "
        f"in {report.seconds:.0f} s"
    )
