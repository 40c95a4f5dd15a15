/** Styles of the findings, the language switch, the sampling explorer and the presenter view. */
export const TALK_STYLES = `
.tools { float: right; display: flex; gap: 8px; }
.tools button, .sliders button { font: inherit; font-size: 13px; padding: 5px 12px; border: 1px solid var(--line); border-radius: 8px; background: #fff; cursor: pointer; }
.tools button.present { background: var(--accent); color: #fff; border-color: var(--accent); }
.verdict { font-size: 17px; font-weight: 600; margin: 6px 0 10px; }
ol.findings { margin: 0; padding-left: 22px; display: grid; gap: 10px; }
.finding { font-size: 15px; line-height: 1.45; }
.finding.diverged .finding-text { border-bottom: 2px solid var(--tie); }
.finding .evidence { font-size: 12.5px; color: var(--accent); margin-left: 4px; }
.finding-sure { color: var(--muted); font-size: 12.5px; }
.sliders { display: flex; flex-wrap: wrap; gap: 18px; align-items: center; margin: 6px 0 10px; }
.slider { display: grid; font-size: 13px; min-width: 180px; }
.slider-label { font-variant-numeric: tabular-nums; }
.draw-strip { position: relative; display: flex; height: 26px; border: 1px solid var(--line); border-radius: 6px; overflow: hidden; margin: 4px 0 8px; }
.draw-seg { background: #e0e7ff; border-right: 1px solid #fff; font: 11px ui-monospace, monospace; white-space: pre; overflow: hidden; line-height: 26px; padding-left: 3px; }
.draw-seg.picked { background: var(--accent); color: #fff; }
.draw-mark { position: absolute; top: -2px; bottom: -2px; width: 2px; background: #0f172a; }
.explorer-line { font-size: 13px; }
.explorer-line.approx { color: #92400e; }
.presenter { position: fixed; inset: 0; background: #0f172a; color: #f8fafc; z-index: 10; display: flex; flex-direction: column; justify-content: center; padding: 6vh 8vw; outline: none; }
.slide-title { font-size: 2.2vw; color: #a5b4fc; margin-bottom: 3vh; }
.slide-body { font-size: 4vw; line-height: 1.25; font-weight: 600; }
.slide-sub { font-size: 1.8vw; color: #cbd5e1; margin-top: 4vh; }
.presenter-hint { position: absolute; bottom: 2vh; right: 3vw; font-size: 13px; color: #94a3b8; }
`;
