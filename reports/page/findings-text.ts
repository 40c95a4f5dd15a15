/** Findings worded in English and German: one sentence per finding, built from its counts. */
import type { Finding } from '../data.ts';
import { diff, fixed, int, pct } from './format.ts';
import { lang, t } from './i18n.ts';

/** `precision fp32 → fp16` → ['fp32', 'fp16']. */
function fromTo(change: string | null): [string, string] | null {
  const m = /(\S+) → (\S+)/.exec(change ?? '');
  return m ? [m[1]!, m[2]!] : null;
}

/** What the finding changed, as the subject of its sentence. */
export function subject(f: Finding): string {
  const de = lang() === 'de';
  // A backend change that also changes an option (wasm-fp16) names both.
  const runner = f.runners.join(', ') + (['wasm', 'webgpu', 'cuda'].includes(f.kind) && f.change ? `, ${f.change}` : '');
  const ft = fromTo(f.change);
  switch (f.kind) {
    case 'repeat':
      return de ? `Derselbe Lauf zweimal (${runner})` : `Running ${runner} twice with the same settings`;
    case 'threads':
      return de ? `Zwei statt ein onnxruntime-Thread (${runner}, ${f.change})` : `Two onnxruntime threads instead of one (${runner}, ${f.change})`;
    case 'wasm':
      return de ? `WASM im Browser statt Node (${runner})` : `The browser’s WASM backend instead of Node (${runner})`;
    case 'webgpu':
      return de ? `WebGPU statt der CPU in Node (${runner})` : `WebGPU instead of Node’s CPU (${runner})`;
    case 'cuda':
      return de ? `CUDA statt der CPU (${runner})` : `CUDA instead of the CPU (${runner})`;
    case 'precision':
      return ft ? (de ? `${ft[1]} statt ${ft[0]} (${runner})` : `${ft[1]} instead of ${ft[0]} (${runner})`) : runner;
    case 'batch':
      return de
        ? `Ein Prompt im Batch mit anderen statt allein (${f.change ?? ''})`
        : `Running a prompt inside a batch with others instead of alone (${f.change ?? ''})`;
    case 'seed':
      return de ? 'Ein anderer Seed' : 'Another seed';
    case 'control':
      return de ? `Die Markov-Kontrolle (${runner}), wiederholt und im Batch` : `The Markov control (${runner}), repeated and batched`;
    default:
      return `${runner} ↔ ${f.reference ?? ''}${f.change ? ` (${f.change})` : ''}`;
  }
}

/** The finding as one sentence with its numbers. */
export function sentence(f: Finding): string {
  const de = lang() === 'de';
  if (f.kind === 'teacher' && f.teacher) {
    const p = {
      runner: f.runners.join(', '),
      ref: f.reference ?? '',
      argmax: pct(f.teacher.argmax),
      sampled: pct(f.teacher.sampled),
      steps: int(f.teacher.steps),
    };
    return de
      ? `Mit den Token von ${p.ref} gefüttert, war der beste Kandidat von ${p.runner} in ${p.argmax} von ${p.steps} Schritten derselbe wie bei der Referenz (Argmax-Übereinstimmung); seine eigene Wahl traf das Referenz-Token in ${p.sampled} (Übereinstimmung der gewählten Token, mit Losglück vermischt).`
      : `Fed ${p.ref}’s tokens, ${p.runner}’s best candidate matched the reference’s at ${p.argmax} of ${p.steps} steps (argmax agreement); its own choice matched the reference token at ${p.sampled} (sampled-choice agreement, which mixes in sampling luck).`;
  }
  const s = subject(f);
  const n = {
    changed: int(f.changed),
    pairs: int(f.pairs),
    median: fixed(f.medianFirst, f.medianFirst !== null && !Number.isInteger(f.medianFirst) ? 1 : 0),
    ties: int(f.nearTies),
    bitwise: pct(f.bitwise.share),
    max: diff(f.maxDiff),
  };
  if (f.changed > 0) {
    if (f.kind === 'seed') {
      return de
        ? `${s} änderte ${n.changed} von ${n.pairs} gesampelten Ausgaben, das erste andere Token im Median bei Token ${n.median}: eine andere Ziehung, keine andere Arithmetik.`
        : `${s} changed ${n.changed} of ${n.pairs} sampled completions, the first different token at token ${n.median} on median: a different draw, not different arithmetic.`;
    }
    return de
      ? `${s} änderte ${n.changed} von ${n.pairs} Ausgaben; das erste andere Token kam im Median bei Token ${n.median}; ${n.ties} von ${n.changed} Abzweigungen waren Beinahe-Gleichstände.`
      : `${s} changed ${n.changed} of ${n.pairs} completions; the first different token came at token ${n.median} on median; ${n.ties} of ${n.changed} splits were near-ties.`;
  }
  if (f.bitwise.share !== null && f.bitwise.share < 1) {
    return de
      ? `${s} änderte keine Ausgabe (${n.pairs} verglichen), aber die Logits waren nur in ${n.bitwise} der Schritte bitgleich (größte Differenz ${n.max}).`
      : `${s} changed no completion (${n.pairs} compared), but the logits were bitwise equal at only ${n.bitwise} of steps (largest difference ${n.max}).`;
  }
  if (f.kind === 'control') {
    return de
      ? `${s} ergab in ${n.pairs} von ${n.pairs} Paaren identische Ausgaben, mit bitgleichen Logits in jedem Schritt: Zählungen und ein Logarithmus ergeben bei jedem Lauf dasselbe.`
      : `${s} gave identical completions in ${n.pairs} of ${n.pairs} pairs, with bitwise-equal logits at every step: counts and a logarithm come out the same on every run.`;
  }
  return de
    ? `${s} änderte nichts: ${n.pairs} von ${n.pairs} Ausgaben identisch, die Logits in jedem verglichenen Schritt bitgleich.`
    : `${s} changed nothing: ${n.pairs} of ${n.pairs} completions identical, and the logits bitwise equal at every step compared.`;
}

/** How sure the finding is: an interval for a sampled share, "exact" for hash comparisons. */
export function sureness(f: Finding): string {
  if (f.kind === 'teacher' && f.teacher) return t('sure.teacher', { n: int(f.teacher.steps) });
  if (f.changed > 0 && f.interval) return t('sure.interval', { lo: pct(f.interval[0]), hi: pct(f.interval[1]), n: int(f.pairs) });
  return t('sure.exact', { n: int(f.bitwise.compared) });
}

/** The page's one-line answer above the findings, from the causes that changed completions. */
export function verdict(findings: readonly Finding[]): string {
  const de = lang() === 'de';
  const arithmetic = findings.filter((f) => !['seed', 'control', 'teacher', 'repeat'].includes(f.kind));
  const changed = arithmetic.filter((f) => f.changed > 0).map(subject);
  const repeat = findings.find((f) => f.kind === 'repeat');
  const same = repeat && repeat.changed === 0 ? (de ? 'Derselbe Lauf zweimal: identisch. ' : 'The same run twice: identical. ') : '';
  if (changed.length === 0) {
    return de ? `${same}In diesen Ergebnissen änderte keine Ursache eine Ausgabe.` : `${same}In these results no cause changed a completion.`;
  }
  if (de) return `${same}Nicht deterministisch, sobald sich die Arithmetik ändert: ${changed.join('; ')}.`;
  // Mid-sentence, "The browser’s ..." becomes "the browser’s ..."; "WebGPU", "fp16" stay.
  const mid = changed.map((c) => (/^[A-Z][a-z]/.test(c) ? c[0]!.toLowerCase() + c.slice(1) : c));
  return `${same}Not deterministic once the arithmetic changes: ${mid.join('; ')}.`;
}
