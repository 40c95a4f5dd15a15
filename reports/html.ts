import type { PageBundle } from './bundle.ts';
import type { ReportData } from './data.ts';

/**
 * JSON that is safe inside `<script type="application/json">`: no `<` (so no `</script>` or
 * `<!--`), and U+2028/U+2029 escaped as well (they end lines in older JS parsers).
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Escapes text for an HTML text or attribute context. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The whole page. The Content-Security-Policy allows only the one script whose hash it names, so
 * even a markup bug could not run an injected script or load anything from the network.
 */
export function renderHtml(data: ReportData, page: PageBundle): string {
  const csp = [
    "default-src 'none'",
    // vega compiles its expressions with Function(): 'unsafe-eval' is needed, inline scripts are not.
    `script-src 'sha256-${page.sha256}' 'unsafe-eval'`,
    "style-src 'unsafe-inline'",
    'img-src data: blob:',
    "font-src 'none'",
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.title)}</title>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    `<script type="application/json" id="detbench-data">${safeJson(data)}</script>`,
    `<script>${page.code}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
