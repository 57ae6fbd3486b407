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


def stores_table(stores: dict[str, Any]) -> list[str]:
    """The index folder and Milvus Lite side by side (``--store faiss,milvus``)."""
    out = [
        "",
        "## FAISS and Milvus side by side",
        "",
        f"`{stores['command']}`",
        "",
        "The same collection written into an index folder (FAISS + BM25 + SQLite) and into a Milvus "
        f"Lite file, on the same machine in one run. Search: p50 / p95 of {stores['queries']} queries "
        "one at a time through HybridSearcher.search (query vectors embedded beforehand); recall of "
        "each store's dense search against exact search over the same vectors; 8 searchers: hybrid "
        "searches a second with 8 threads searching at once, and p50 / p95 of each meanwhile.",
        "",
        _row(
            "chunks", "store", "build s", "disk MB", "peak RSS build MB", "open + load s",
            "hybrid p50 / p95 ms", "dense", "lexical", "Milvus RRF (one call)", "recall@10 / @50",
            "1 searcher /s", "8 searchers /s", "8 searchers p50 / p95 ms", "re-ingest unchanged s",
        ),
        _row(*["---"] * 15),
    ]  # fmt: skip
    for size, by_store in stores["sizes"].items():
        for store, steps in by_store.items():
            build, search = steps.get("build", {}), steps.get("search", {})
            load, reingest = steps.get("throughput", {}), steps.get("reingest", {})
            rss = _get(build, "peak_rss_mb", fmt="{:,.0f}")
            if "engine_peak_rss_mb" in build:
                rss += f" + {build['engine_peak_rss_mb']:,.0f} engine"
            out.append(
                _row(
                    f"{int(size):,}", store, _get(build, "build_s"),
                    _get(build, "disk_mb", fmt="{:,.0f}"), rss,
                    _get(search, "open_and_load_s", fmt="{:.2f}"),
                    *(_ms(search, mode) for mode in ("hybrid", "dense", "lexical", "milvus_rrf")),
                    f"{_get(search, 'recall@10', fmt='{:.3f}')} / {_get(search, 'recall@50', fmt='{:.3f}')}",
                    _get(load, "one_searcher_per_s", fmt="{:.0f}"),
                    _get(load, "searches_per_s", fmt="{:.0f}"),
                    _ms(load, "under_load"), _get(reingest, "unchanged_again", "wall_s"),
                )
            )  # fmt: skip
    quality = stores.get("quality", {})
    if quality:
        out += [
            "",
            "Recall@5 of gold evidence on examples/ (tests/retrieval/questions.jsonl, the quality test):",
            "",
        ]
        out += [
            _row("store", "hybrid (longqa's fusion)", "dense", "lexical", "Milvus RRF"),
            _row(*["---"] * 5),
        ]
        for store, modes in ((s, m) for s, m in quality.items() if isinstance(m, dict)):
            cells = [modes.get(m, {}).get("recall@5") for m in ("hybrid", "dense", "lexical", "milvus_rrf")]
            out.append(_row(store, *("-" if c is None else f"{c:.2f}" for c in cells)))
    return out + stores.get("notes", [])


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
        *(stores_table(results["stores"]) if "stores" in results else []),
    ]
    return "\n".join(lines)
