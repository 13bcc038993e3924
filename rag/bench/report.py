"""The benchmark table: every row beside its floor and its target."""

from __future__ import annotations

from typing import Any

from .measure import TARGETS


def table(result: dict[str, Any]) -> str:
    """The Markdown table printed at the end and pasted into the README."""
    # Over 60 lines: the rows in the order the README shows them, one block each.
    lines = [
        "| measurement | value | floor / reference | ratio or target |",
        "| --- | --- | --- | --- |",
    ]
    for key, label in (("warm_ask", "warm ask"), ("warm_ask_reader", "warm ask with the reader")):
        warm = result[key]
        lines.append(
            f"| {label} p50 / p95, bundled corpus ({warm['questions']} q) | "
            f"{warm['ask']['p50_ms']:.1f} / {warm['ask']['p95_ms']:.1f} ms | "
            f"embed 1 question {warm['floor']['p50_ms']:.1f} / {warm['floor']['p95_ms']:.1f}"
            f" ms | {warm['ask_p50_over_floor']:.2f}x (target <= {warm['target']}x) "
            f"{_mark(warm['target_met'])} |"
        )
    b = result["batch"]
    lines.append(
        f"| ask_many throughput (batches of {b['batch_size']}) | "
        f"{b['questions_per_s']:.0f} q/s | embed only {b['floor_questions_per_s']:.0f} "
        f"q/s | {b['questions_per_s'] / b['floor_questions_per_s']:.2f}x |"
    )
    c = result["cold_start"]
    if c.get("skipped"):
        lines.append("| cold start | skipped | | |")
    else:
        lines.append(
            f"| cold start to first answer | {c['first_answer_s']:.2f} s | bare model "
            f"first embedding {c['floor_s']:.2f} s | +{c['above_floor_s']:.2f} s "
            f"(target <= +1 s) {_mark(c['target_met'])} |"
        )
    d = result["build"]
    lines.append(
        f"| index build, {d['passages']:,} passages ({d['texts_encoded']:,} texts), "
        f"median of {d['runs']} | "
        f"{d['passages_per_s']:.1f} passages/s, peak {d['peak_rss_mb']:.0f} MB | "
        f"raw encode {d['encode_passages_per_s']:.1f} passages/s | "
        f"{d['build_over_encode']:.0%} (target >= 90%) {_mark(d['target_met'])} |"
    )
    lines += _load_rows(result["load"])
    for row in result["sizes"]:
        n = f"{row['passages']:,}"
        lines.append(
            f"| {n}: sparse / dense ({row['dense_kind']}) / fusion p95 | "
            f"{row['sparse']['p95_ms']:.1f} / {row['dense']['p95_ms']:.1f} / "
            f"{row['fusion']['p95_ms']:.2f} ms | "
            + (f"rank-bm25 p50 {row['rank_bm25']['p50_ms']:.1f} ms" if "rank_bm25" in row else "")
            + " | |"
        )
        lines.append(
            f"| {n}: embed + retrieval p50 / p95 | "
            f"{row['embed_plus_retrieval']['p50_ms']:.1f} / "
            f"{row['embed_plus_retrieval']['p95_ms']:.1f} ms | retrieval alone "
            f"{row['retrieval']['p95_ms']:.1f} ms p95 | |"
        )
        lines.append(
            f"| {n}: BM25 build, faiss build | {row['sparse_passages_per_s']:,.0f} "
            f"passages/s, {row['dense_build_s']:.1f} s | | |"
        )
        if "ivf" in row:
            v = row["ivf"]
            lines.append(
                f"| {n}: IVF ({v['cells']} cells, nprobe {v['nprobe']}) p50 / p95 | "
                f"{v['p50_ms']:.2f} / {v['p95_ms']:.2f} ms, build {v['build_s']:.1f} s | "
                f"flat {v['flat']['p50_ms']:.1f} / {v['flat']['p95_ms']:.1f} ms | recall@10 "
                f"{v['recall_at_10']:.3f} (target >= 0.98) {_mark(v['target_met'])} |"
            )
    lines += [line for row in result["assistant_sizes"] for line in _assistant_rows(row)]
    return "\n".join(lines)


def _assistant_rows(row: dict[str, Any]) -> list[str]:
    size, build, serve = row["target_passages"], row["build"], row["serve"]
    add = serve["add_article"]
    n = f"{build['passages']:,} passages"
    latency, memory = row.get("latency_target_met"), row.get("memory_target_met")
    ask_goal = f"p95 < {TARGETS['ask_p95_ms'].get(size, 0):.0f} ms"
    memory_goal = f"< {TARGETS['peak_rss_mb'].get(size, 0):.0f} MB"
    return [
        f"| {n}: Assistant.ask p50 / p95 ({build['dense_kind']}) | "
        f"{serve['ask']['p50_ms']:.1f} / {serve['ask']['p95_ms']:.1f} ms | embed 1 question "
        f"{serve['floor']['p50_ms']:.1f} / {serve['floor']['p95_ms']:.1f} ms | "
        f"{_target(latency, ask_goal)} |",
        f"| {n}: peak RSS building / serving / adding an article | "
        f"{build['peak_rss_mb']:.0f} / {serve['serving_peak_rss_mb']:.0f} / "
        f"{add['peak_rss_mb']:.0f} MB | model loaded alone {build['model_rss_mb']:.0f} MB | "
        f"{_target(memory, memory_goal)} |",
        f"| {n}: add one article; load; build | {add['seconds']:.1f} s ({add['encoded']} texts "
        f"embedded, {add['reused']:,} reused); {serve['load_s']:.1f} s; "
        f"{build['build_s']:.1f} s | build with precomputed vectors | |",
    ]


def _target(met: bool | None, goal: str) -> str:
    """'p95 < 50 ms met' for a size with a target; '' for a size without one (met is None)."""
    return "" if met is None else f"{goal} {_mark(met)}"


def _load_rows(load: dict[str, Any]) -> list[str]:
    if load.get("skipped"):
        return ["| web server under load | skipped | | |"]
    what = f"{load['clients']} clients x {load['questions_each']} requests"
    ok, empty, huge = (load["latency"][kind] for kind in ("ok", "empty", "huge"))
    return [
        f"| {what}, web server: ok p50 / p95 | {ok['p50_ms'] / 1000:.2f} / "
        f"{ok['p95_ms'] / 1000:.2f} s | {load['requests_per_s']:.1f} requests/s, concurrency "
        f"limit {load['concurrency_limit']} | {load['failures']} of {load['requests']} failed, "
        f"server {'up' if load['still_up'] else 'DOWN'} (target 0 failed) "
        f"{_mark(load['target_met'])} |",
        f"| {what}: refused p50 / p95, empty; 1 MB | {empty['p50_ms'] / 1000:.2f} / "
        f"{empty['p95_ms'] / 1000:.2f} s; {huge['p50_ms'] / 1000:.2f} / "
        f"{huge['p95_ms'] / 1000:.2f} s | ok p50 {ok['p50_ms'] / 1000:.2f} s | |",
    ]


def _mark(met: bool) -> str:
    return "met" if met else "NOT met"


