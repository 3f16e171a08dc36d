#!/usr/bin/python3
"""dashboard_check.py DASHBOARD.json METRICS.txt - every metric name the Grafana dashboard's
queries use (panel targets and template variables) must be a sample name on the scraped
/metrics, and every label they group or filter by must be one of that metric's labels
(or a label Prometheus adds to a target: instance, job). No series on /metrics may carry
`instance` or `job` itself (Prometheus would rename it exported_*). Prints what it checked; exits 1 naming what is missing."""
import json, re, sys

# PromQL words that are not metric names.
WORDS = {"sum", "avg", "min", "max", "count", "rate", "irate", "increase", "delta",
         "histogram_quantile", "label_values", "by", "without", "on", "ignoring",
         "group_left", "group_right", "and", "or", "unless", "topk", "bottomk", "abs",
         "clamp_min", "clamp_max", "time", "vector", "scalar", "offset", "bool"}
TARGET_LABELS = {"instance", "job"}


def exprs(dash):
    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    yield p.get("title", "?"), t["expr"]
            yield from walk(p.get("panels", []))
    yield from walk(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if v.get("type") == "query" and q:
            yield "variable " + v["name"], q


def parse(expr):
    """(metric names, label names per metric, labels grouped by) of one query."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\[[^\]]*\]", "", e)
    used = {}
    for m in re.finditer(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}", e):
        used.setdefault(m.group(1), set()).update(
            x.split("=")[0].strip(" !~") for x in m.group(2).split(",") if x.strip())
    e = re.sub(r"\{[^}]*\}", "", e)
    grouped = set()
    for m in re.finditer(r"\b(?:by|without)\s*\(([^)]*)\)", e):
        grouped |= {x.strip() for x in m.group(1).split(",") if x.strip()}
    e = re.sub(r"\b(?:by|without)\s*\([^)]*\)", "", e)
    lv = re.match(r"\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*(\w+)\s*\)\s*$", e)
    if lv:
        used.setdefault(lv.group(1), set()).add(lv.group(2))
        return {lv.group(1)}, used, set()
    names = {w for w in re.findall(r"(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*", e) if w not in WORDS}
    return names, used, grouped


def scraped(path):
    labels = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s", line)
        if not m:
            continue
        s = labels.setdefault(m.group(1), set())
        s.update(re.findall(r'(\w+)="', m.group(2) or ""))
    return labels


def main():
    dash = json.load(open(sys.argv[1]))
    have = scraped(sys.argv[2])
    bad, checked = [], set()
    for where, expr in exprs(dash):
        names, used, grouped = parse(expr)
        for n in names:
            checked.add(n)
            if n not in have:
                bad.append(f"{where}: metric {n} is not on /metrics")
                continue
            own = have[n] | TARGET_LABELS
            for lab in (used.get(n, set()) | grouped) - {"le"} - own:
                # a label grouped by must belong to every metric of the query
                bad.append(f"{where}: metric {n} has no label {lab}")
            if "le" in grouped and not n.endswith("_bucket"):
                bad.append(f"{where}: {n} grouped by le but not a histogram bucket")
    for n in sorted(have):
        for lab in sorted(have[n] & TARGET_LABELS):
            bad.append(f"/metrics: {n} carries the scrape target's label {lab}")
    for b in bad:
        print("MISSING:", b)
    print(f"{len(checked)} metric names in the dashboard's queries: {' '.join(sorted(checked))}")
    return 1 if bad or not checked else 0


sys.exit(main())
