"""The markdown tables of ``bench_scale.py``'s figures."""

from __future__ import annotations

from typing import Any


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _ms(figures: dict[str, Any], mode: str) -> str:
    timing = figures.get(mode)
    return f"{timing['p50_ms']:.1f} / {timing['p95_ms']:.1f}" if timing else "-"


def _get(step: dict[str, Any], *keys: str, fmt: str = "{:.1f}") -> str:
    value: Any = step
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return "-"
        value = value[key]
    return fmt.format(value)


def main_table(results: dict[str, Any]) -> list[str]:
    out = [
        _row(
            "chunks", "FAISS", "build s (rows + search files)", "disk MB", "open + load s",
            "peak RSS build / search MB", "hybrid p50 / p95 ms", "dense", "lexical", "embed",
            "hybrid with model",
            "recall@10 / @50", "re-ingest unchanged s (first / third)", "re-ingest 1% s",
        ),
        _row(*["---"] * 14),
    ]  # fmt: skip
    for size, steps in results["sizes"].items():
        build, search, reingest = steps.get("build", {}), steps.get("search", {}), steps.get("reingest", {})
        disk = sum(build["disk_mb"].values()) if build else None
        out.append(
            _row(
                f"{int(size):,}",
                build.get("faiss", "-"),
                f"{_get(build, 'build_s')} ({_get(build, 'write_rows_s')} + {_get(build, 'search_files_s')})",
                f"{disk:,.0f}" if disk is not None else "-",
                _get(search, "open_and_load_s", fmt="{:.2f}"),
                f"{_get(build, 'peak_rss_mb', fmt='{:,.0f}')} / {_get(search, 'peak_rss_mb', fmt='{:,.0f}')}",
                *(_ms(search, mode) for mode in ("hybrid", "dense", "lexical", "embed", "hybrid_with_model")),
                f"{_get(search, 'recall@10', fmt='{:.3f}')} / {_get(search, 'recall@50', fmt='{:.3f}')}",
                f"{_get(reingest, 'unchanged', 'wall_s')} / {_get(reingest, 'unchanged_third', 'wall_s')}",
                _get(reingest, "changed_1pct", "wall_s"),
            )
        )
    return out


def faiss_table(results: dict[str, Any]) -> list[str]:
    out = [
        _row(
            "chunks",
            "index",
            "search knob",
            "build s",
            "MB",
            "load s",
            "p50 / p95 ms",
            "recall@10",
            "recall@50",
        ),
        _row(*["---"] * 9),
    ]
    for size, steps in results["sizes"].items():
        for v in steps.get("faiss", {}).get("variants", []):
            out.append(
                _row(
                    f"{int(size):,}", v["index"], v["knob"] or "-", f"{v['build_s']:.1f}",
                    f"{v['bytes'] / 2**20:,.0f}", f"{v['load_s']:.2f}",
                    f"{v['p50_ms']:.2f} / {v['p95_ms']:.2f}",
                    f"{v['recall@10']:.3f}", f"{v['recall@50']:.3f}",
                )
            )  # fmt: skip
    return out


def before_after_table(results: dict[str, Any]) -> list[str]:
    """Figures of the code before and after a change, where the results record them."""
    rows = results.get("before_after", [])
    if not rows:
        return []
    out = ["", "Before and after (same machine, same collections):", ""]
    out += [_row("what", "before", "after", "measured by"), _row(*["---"] * 4)]
    out += [_row(r["what"], r["before"], r["after"], r["how"]) for r in rows]
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"`{results['command']}`",
        "",
        f"Vectors: {results['vectors']} ({results['anchors']} real chunks of examples/ as anchors). "
        f"Search times are p50 / p95 of {results['queries']} queries one at a time through "
        "HybridSearcher.search, the "
        "query vectors embedded beforehand by the packaged model (the index's own time); 'embed' "
        "is the model's time for one query, 'hybrid with model' the whole search.",
        "",
        *main_table(results),
        "",
        "FAISS index types on the same vectors (one query at a time, k = 50; recall against exact search):",
        "",
        *faiss_table(results),
        *before_after_table(results),
        *results.get("notes", []),
    ]
    return "\n".join(lines)
