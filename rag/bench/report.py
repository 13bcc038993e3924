"""The benchmark table: every row beside its floor and its target."""

from __future__ import annotations

from typing import Any

from .ingest import ingest_row
from .measure import TARGETS
from .stages import chart


def table(result: dict[str, Any]) -> str:
    """The Markdown table printed at the end and pasted into the README."""
    # Over 60 lines: the rows in the order the README shows them, one block each.
    lines = [
        "| measurement | value | floor / reference | ratio or target |",
        "| --- | --- | --- | --- |",
    ]
    for key, label in (("warm_ask", "warm ask"), ("warm_ask_trees", "warm ask, trees alone")):
        warm = result[key]
        lines.append(
            f"| {label} p50 / p95, bundled corpus ({warm['questions']} q) | "
            f"{warm['ask']['p50_ms']:.1f} / {warm['ask']['p95_ms']:.1f} ms | torch path "
            f"{warm['ask_torch']['p50_ms']:.1f} / {warm['ask_torch']['p95_ms']:.1f} ms; "
            f"sentence-transformers embeds 1 question in {warm['floor']['p50_ms']:.1f} / "
            f"{warm['floor']['p95_ms']:.1f} ms | {warm['ask_p50_over_floor']:.2f}x / "
            f"{warm['ask_p95_over_floor']:.2f}x the embedding (target <= {warm['target']}x"
            f"{f' / {p95}x' if (p95 := warm.get('target_p95')) else ''}), "
            f"{warm['ask_p50_over_torch']:.2f}x the "
            f"torch path (target <= 1) {_mark(warm['target_met'])} |"
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
            f"| cold start, `rag ask` to its answer | {c['first_answer_s']:.2f} s, peak "
            f"{c['first_answer_peak_rss_mb']:.0f} MB | sentence-transformers to one embedding "
            f"{c['floor_s']:.2f} s, peak {c['floor_peak_rss_mb']:.0f} MB | {c['over_floor']:.2f}x "
            f"(target <= 1.5 s and <= 0.25x) {_mark(c['target_met'])} |"
        )
    d, t = result["build"], result["build_torch"]
    lines.append(
        f"| index build, {d['passages']:,} passages ({d['texts_encoded']:,} texts), "
        f"median of {d['runs']} | "
        f"{d['passages_per_s']:.1f} passages/s, peak {d['peak_rss_mb']:.0f} MB | "
        f"raw encode {d['encode_passages_per_s']:.1f} passages/s; torch path "
        f"{t['passages_per_s']:.1f} passages/s | "
        f"{d['build_over_encode']:.0%} (target >= 90%) {_mark(d['target_met'])}; "
        f"{d['passages_per_s'] / t['passages_per_s']:.2f}x torch (target >= 1) |"
    )
    lines += _served_rows(result["served"])
    if "ingest" in result:
        lines.append(ingest_row(result["ingest"]))
    lines += [line for row in result["figures"] for line in _figures_rows(row)]
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
    if "stages" in result:  # the chart below the table, as the report prints it
        lines += ["", "```text", chart(result["stages"]), "```"]
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


def _served_rows(served: dict[str, Any]) -> list[str]:
    if served.get("skipped"):
        return ["| `rag serve` under load | skipped | | |"]
    rows = [
        f"| `rag serve` peak RSS, both loads | {served['peak_rss_mb']:.0f} MB | ready in "
        f"{served['ready_s']:.1f} s | target <= 350 MB {_mark(served['rss_target_met'])} |"
    ]
    for api, label in (("json", "JSON API"), ("gradio", "gradio /ask")):
        load = served[api]
        what = f"{load['clients']} clients x {load['questions_each']} requests"
        ok = load["latency"]["ok"]
        refused = "; ".join(
            f"{kind} {v['p50_ms']:.0f}/{v['p95_ms']:.0f}"
            for kind, v in load["latency"].items()
            if kind != "ok"
        )
        goal = ">= 50/s, ok p95 <= 300 ms, 0 failed" if api == "json" else "0 failed"
        rows.append(
            f"| {label}, {what}: ok p50 / p95 | {ok['p50_ms']:.0f} / {ok['p95_ms']:.0f} ms | "
            f"{load['requests_per_s']:.1f} requests/s; refused p50/p95 ms: {refused} | "
            f"{load['failures']} of {load['requests']} failed, server "
            f"{'up' if load['still_up'] else 'DOWN'} (target {goal}) "
            f"{_mark(load['target_met'])} |"
        )
    return rows


def _figures_rows(row: dict[str, Any]) -> list[str]:
    build, load = row["build"], row["served"]
    what = f"{row['corpus']}, {build['articles']} articles, {build['figures']:,} figures"
    lines = [
        f"| figures table, {what}: its part of the index build | {build['table_s']:.2f} s of "
        f"{build['build_s']:.1f} s | {build['annotated']} articles annotated | "
        f"{build['share']:.1%} (target < {TARGETS['figures_build_share']:.0%}) "
        f"{_mark(build['target_met'])} |"
    ]
    if load.get("skipped"):
        return [*lines, f"| GET /api/figures, {row['corpus']} | skipped | | |"]
    every = load["latency"]["all"]
    kinds = "; ".join(
        f"{kind} {v['p95_ms']:.0f}" for kind, v in load["latency"].items() if kind != "all"
    )
    return [
        *lines,
        f"| GET /api/figures, {row['corpus']}, {load['clients']} clients x "
        f"{load['questions_each']} requests: p50 / p95 | {every['p50_ms']:.1f} / "
        f"{every['p95_ms']:.1f} ms | {load['requests_per_s']:.1f} requests/s; first request "
        f"{load['first_request_ms']:.0f} ms; p95 ms by filter: {kinds} | {load['failures']} of "
        f"{load['requests']} failed, server {'up' if load['still_up'] else 'DOWN'} (target "
        f"p95 <= {TARGETS['figures_p95_ms']:.0f} ms, 0 failed) {_mark(load['target_met'])} |",
    ]


def _mark(met: bool) -> str:
    return "met" if met else "NOT met"
