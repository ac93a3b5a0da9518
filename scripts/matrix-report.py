#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Render a kernel matrix (scripts/kernel-matrix.sh) as JSON, Markdown and HTML.

usage: matrix-report.py DIR

DIR/rows.tsv has one line per kernel, in order:
    PACKAGE <tab> RELEASE <tab> L0_EXIT <tab> VERDICT_JSON_PATH_OR_EMPTY <tab> NOTE <tab> SECONDS
DIR/meta.json holds {"arch": ..., "nestvmm_args": [...], "started": ...}.
Writes DIR/matrix.json, DIR/matrix.md and DIR/matrix.html (self-contained:
no scripts or styles from elsewhere, readable offline).
"""
import html
import json
import os
import sys

STATUS_COLOUR = {  # background, text
    "pass": ("#1b7f3b", "#ffffff"),
    "fail": ("#c62828", "#ffffff"),
    "skip": ("#f2b705", "#000000"),
    "error": ("#6a1b9a", "#ffffff"),
    "pending": ("#9e9e9e", "#000000"),
}


def load_rows(d):
    rows = []
    with open(os.path.join(d, "rows.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            pkg, release, l0_exit, verdict_path, note, seconds = (line.split("\t") + [""] * 6)[:6]
            row = {"package": pkg, "release": release, "l0_exit": int(l0_exit),
                   "seconds": float(seconds or 0), "note": note, "result": "error",
                   "host": {}, "stages": {}}
            verdict = None
            if verdict_path and os.path.exists(verdict_path):
                try:
                    with open(verdict_path, encoding="utf-8") as vf:
                        verdict = json.load(vf)
                except (OSError, ValueError) as e:
                    row["note"] = (note + "; " if note else "") + f"verdict unreadable: {e}"
            if verdict:
                row["result"] = verdict.get("result", "error").lower()
                row["host"] = {k: verdict.get("host", {}).get(k, "")
                               for k in ("kernel_release", "kvm_module", "kvm_build", "nested_param")}
                for s in verdict.get("stages", []):
                    row["stages"][s["name"]] = {"status": s["status"], "reason": s.get("reason", "")}
            rows.append(row)
    return rows


def stage_names(rows):
    names = []
    for r in rows:
        for n in r["stages"]:
            if n not in names:
                names.append(n)
    return names


def cell(row, name):
    """Status and reason of one test under one kernel; a run without a verdict is an error."""
    if name in row["stages"]:
        return row["stages"][name]["status"], row["stages"][name]["reason"]
    return "error", row["note"] or f"no verdict (L0 runner exit {row['l0_exit']})"


def write_json(d, meta, rows, names):
    out = {"arch": meta.get("arch"), "nestvmm_args": meta.get("nestvmm_args", []),
           "tests": names, "kernels": []}
    for r in rows:
        out["kernels"].append({
            "package": r["package"], "release": r["release"], "result": r["result"],
            "l0_exit": r["l0_exit"], "seconds": r["seconds"], "note": r["note"], "host": r["host"],
            "tests": {n: dict(zip(("status", "reason"), cell(r, n))) for n in names}})
    if meta.get("bisect"):
        out["bisect"] = meta["bisect"]
    with open(os.path.join(d, "matrix.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


def md_escape(s):
    return s.replace("|", "\\|").replace("\n", " ")


def write_md(d, meta, rows, names):
    lines = [f"# nestvmm kernel matrix ({meta.get('arch')})", ""]
    args = " ".join(meta.get("nestvmm_args", []))
    lines.append(f"nestvmm arguments: `{args or '(none)'}`; one emulated L0 boot per kernel.")
    lines.append("")
    lines.append("| kernel | release | result | " + " | ".join(names) + " |")
    lines.append("|---|---|---|" + "---|" * len(names))
    for r in rows:
        cells = [cell(r, n)[0] for n in names]
        lines.append(f"| {r['package']} | {r['release']} | {r['result']} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("## Reasons (fail, skip, error)")
    lines.append("")
    for r in rows:
        for n in names:
            st, reason = cell(r, n)
            if st != "pass":
                lines.append(f"- **{r['package']}** `{n}` {st}: {md_escape(reason)}")
    if meta.get("bisect"):
        b = meta["bisect"]
        lines += ["", "## Package bisection", "", md_escape(b["summary"])]
    with open(os.path.join(d, "matrix.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def write_html(d, meta, rows, names):
    e = html.escape
    css = "".join(
        f"td.{k}{{background:{bg};color:{fg}}}" for k, (bg, fg) in STATUS_COLOUR.items())
    head = "".join(f"<th>{e(n)}</th>" for n in names)
    body = []
    for i, r in enumerate(rows):
        tds = []
        for j, n in enumerate(names):
            st, reason = cell(r, n)
            tip = f"{r['package']} / {n}: {st}: {reason}"
            tds.append(f'<td class="{st}" id="c{i}-{j}" title="{e(tip)}" tabindex="0" '
                       f'data-reason="{e(tip)}">{e(st)}</td>')
        host = r["host"]
        info = f"{r['release']}; {host.get('kvm_build', '')}; {r['seconds']:.0f} s"
        body.append(f'<tr><th class="k" title="{e(info)}">{e(r["package"])}</th>'
                    f'<td class="res {e(r["result"])}">{e(r["result"])}</td>' + "".join(tds) + "</tr>")
    legend = " ".join(f'<span class="lg {k}">{k}</span>' for k in STATUS_COLOUR)
    bisect = ""
    if meta.get("bisect"):
        bisect = f'<h2>Package bisection</h2><p id="bisect">{e(meta["bisect"]["summary"])}</p>'
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nestvmm kernel matrix ({e(str(meta.get('arch')))})</title>
<style>
body{{font-family:sans-serif;margin:1em}}table{{border-collapse:collapse}}
th,td{{border:1px solid #444;padding:6px 10px;text-align:center}}th.k{{text-align:left}}
{css}td.res{{font-weight:bold}}td[tabindex]{{cursor:pointer}}td.selected{{outline:3px solid #000}}
span.lg{{padding:2px 8px;margin-right:4px}}{''.join(f'span.{k}{{background:{bg};color:{fg}}}' for k, (bg, fg) in STATUS_COLOUR.items())}
#reason{{margin-top:1em;padding:8px;border:1px solid #444;min-height:1.5em;white-space:pre-wrap}}
</style></head><body>
<h1>nestvmm kernel matrix ({e(str(meta.get('arch')))})</h1>
<p>nestvmm {e(' '.join(meta.get('nestvmm_args', [])) or '(no arguments)')} &mdash; one emulated L0 boot per kernel.
Hover over a cell for the reason, or click it to show the reason below. {legend}</p>
<table id="matrix"><thead><tr><th>kernel</th><th>result</th>{head}</tr></thead>
<tbody>{''.join(body)}</tbody></table>
<div id="reason">Click a cell to see its reason.</div>
{bisect}
<script>
function show(td) {{
  var old = document.querySelector('td.selected');
  if (old) old.classList.remove('selected');
  td.classList.add('selected');
  document.getElementById('reason').textContent = td.getAttribute('data-reason');
}}
document.getElementById('matrix').addEventListener('click', function (ev) {{
  var td = ev.target.closest('td[data-reason]');
  if (td) {{ show(td); history.replaceState(null, '', '#' + td.id); }}
}});
/* A link to matrix.html#cROW-COL opens with that cell's reason shown. */
var start = location.hash && document.getElementById(location.hash.slice(1));
if (start && start.hasAttribute('data-reason')) show(start);
</script>
</body></html>
"""
    with open(os.path.join(d, "matrix.html"), "w", encoding="utf-8") as f:
        f.write(page)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: matrix-report.py DIR")
    d = sys.argv[1]
    with open(os.path.join(d, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    rows = load_rows(d)
    names = stage_names(rows)
    write_json(d, meta, rows, names)
    write_md(d, meta, rows, names)
    write_html(d, meta, rows, names)


if __name__ == "__main__":
    main()
