/** The page's stylesheet, injected by the renderer (no external CSS). */
export const STYLES = `
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc; --card:#fff; --a:#0d9488; --a-bg:#ccfbf1; --b:#e11d48; --b-bg:#ffe4e6; --accent:#4f46e5; --tie:#f59e0b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header.top { padding: 28px 40px 8px; }
header.top h1 { margin: 0; font-size: 26px; letter-spacing: -0.02em; }
header.top .meta { color: var(--muted); font-size: 13px; }
nav.toc { padding: 0 40px 8px; display: flex; gap: 14px; flex-wrap: wrap; font-size: 13px; }
nav.toc a { color: var(--accent); text-decoration: none; }
main { padding: 0 40px 60px; max-width: 1500px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 18px 22px; margin: 18px 0; box-shadow: 0 1px 2px rgba(15,23,42,.04); }
h2 { margin: 0 0 6px; font-size: 18px; }
h3 { margin: 0 0 4px; font-size: 15px; }
.note, .sub { color: var(--muted); font-size: 12.5px; margin: 4px 0 10px; }
.empty { color: var(--muted); font-style: italic; }
.warn { background: #fffbeb; border: 1px solid #fde68a; border-radius: 8px; padding: 8px 12px; margin: 10px 0; font-size: 13px; }
.headline { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 12px 0; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
.stat-value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; word-break: break-word; }
.stat-label { color: var(--muted); font-size: 12px; }
.stat-sub { color: var(--ink); font-size: 12px; margin-top: 2px; }
.scroll { overflow-x: auto; }
.scroll.short { max-height: 360px; overflow-y: auto; }
table.grid { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
table.grid th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 6px 10px; white-space: nowrap; position: sticky; top: 0; background: var(--card); }
table.grid td { border-bottom: 1px solid #f1f5f9; padding: 6px 10px; vertical-align: top; }
td.num { text-align: right; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
.runner { font-weight: 600; }
.ref-tag { margin-left: 6px; font-size: 11px; font-weight: 600; color: var(--accent); background: #eef2ff; border-radius: 999px; padding: 1px 7px; }
.problems .reason { color: var(--muted); font-size: 12px; }
.status.errored { color: var(--b); font-weight: 600; } .status.skipped { color: var(--tie); font-weight: 600; }
.chart { width: 100%; margin: 8px 0 14px; }
.charts-row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.pickers { display: flex; gap: 16px; flex-wrap: wrap; margin-bottom: 12px; }
.pickers select { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 8px; background: #fff; max-width: 560px; }
blockquote.prompt { margin: 0 0 14px; padding: 8px 14px; border-left: 3px solid var(--line); color: #334155; background: #f8fafc; white-space: pre-wrap; font-size: 13px; }
.lanes { display: grid; gap: 10px; }
.lane { border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; }
.lane-a { border-left: 4px solid var(--a); } .lane-b { border-left: 4px solid var(--b); }
.lane-head { font-size: 13px; color: var(--muted); margin-bottom: 6px; } .lane-head strong { color: var(--ink); margin-right: 4px; }
.badge { display: inline-block; width: 20px; height: 20px; line-height: 20px; text-align: center; border-radius: 6px; color: #fff; font-weight: 700; font-size: 11px; margin-right: 8px; }
.badge-a { background: var(--a); } .badge-b { background: var(--b); }
.tokens { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; line-height: 1.9; display: flex; flex-wrap: wrap; gap: 2px 1px; }
.tok { white-space: pre; border-radius: 4px; padding: 1px 2px; }
.tok.same { background: #f1f5f9; }
.tok.after { color: #94a3b8; }
.tok.split { font-weight: 700; outline: 2px solid; outline-offset: 0; }
.tok.split-a { background: var(--a-bg); outline-color: var(--a); color: #134e4a; }
.tok.split-b { background: var(--b-bg); outline-color: var(--b); color: #881337; }
.tok.ended { font-style: italic; font-weight: 400; }
.elided { color: var(--muted); font-style: italic; font-size: 12px; padding: 0 6px; }
.split-stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 10px; margin: 14px 0; }
.cand-pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 16px; }
.cands { border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; }
.cands-head { display: flex; align-items: center; gap: 6px; flex-wrap: wrap; margin-bottom: 6px; }
.margin { margin-left: auto; font-family: ui-monospace, monospace; font-size: 12px; padding: 2px 8px; border-radius: 999px; background: #f1f5f9; }
.margin.tie { background: #fef3c7; color: #92400e; font-weight: 700; }
.cand-table td { padding: 3px 8px; }
.cand-table td.delta { color: #7c3aed; }
.cand-table .rank { color: var(--muted); width: 24px; }
.cand-table tr.chosen td { background: #f0fdfa; }
.cands-b .cand-table tr.chosen td { background: #fff1f2; }
.cand-table tr.other-choice td:nth-child(2) .tok { outline: 2px dashed #94a3b8; }
.tok.cand { background: #f1f5f9; font-family: ui-monospace, monospace; }
.tid { color: #94a3b8; font-size: 11px; margin-left: 6px; }
.bar-cell { width: 34%; white-space: nowrap; }
.pbar { display: inline-block; height: 9px; border-radius: 3px; vertical-align: middle; margin-right: 6px; }
.pbar-a { background: var(--a); } .pbar-b { background: var(--b); }
.pval { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 14px; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; font-size: 12.5px; margin: 6px 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; word-break: break-word; font-family: ui-monospace, monospace; }
.env { margin: 8px 0; font-size: 12.5px; }
details summary { cursor: pointer; color: var(--accent); font-size: 13px; margin-top: 6px; }
code { font-family: ui-monospace, monospace; font-size: 12px; background: #f1f5f9; padding: 1px 4px; border-radius: 4px; }
footer { color: var(--muted); font-size: 12px; padding: 0 40px 30px; }
`;
