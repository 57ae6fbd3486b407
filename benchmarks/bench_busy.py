"""A cold full_context read on a machine made busy on purpose: CPU-bound processes beside it.

    python benchmarks/bench_busy.py DOC.pdf "QUESTION" [--burners 2] [--out FILE.json]

The document is ingested into a fresh index, the cache folder is a fresh one (no prefix state,
no measured speeds: the router's quiet priors), then ``--burners`` processes spin while the
default model answers with ``--strategy full``. Each status line is kept with its time, so the
ETA the status line gave can be set against when the prompt was read in fact.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _burn() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("doc", type=Path)
    parser.add_argument("question")
    parser.add_argument("--burners", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ["LONGQA_CACHE_DIR"] = tempfile.mkdtemp(prefix="longqa-busy-")  # nothing read ahead

    import longqa

    folder = Path(tempfile.mkdtemp(prefix="longqa-busy-ix-"))
    collection = longqa.Collection.open(folder, longqa.load_settings(strategy="full", verify=False))
    collection.add(args.doc)
    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(args.burners)]
    for burner in burners:
        burner.start()
    started = time.perf_counter()
    lines: list[tuple[float, str]] = []

    def status(text: str) -> None:
        lines.append((round(time.perf_counter() - started, 1), text))
        print(f"[{lines[-1][0]:7.1f}s] {text}", flush=True)

    try:
        answer = collection.ask(args.question, on_status=status)
    finally:
        for burner in burners:
            burner.terminate()
    result = {
        "doc": args.doc.name,
        "burners": args.burners,
        "seconds": round(time.perf_counter() - started, 1),
        "answer": answer.text,
        "calls": [vars(c) for c in answer.trace.calls],
        "status": lines,
    }
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
