import { Chain, Chord, Group } from './primitives';
import { signatureList, type OptValue, type Signature } from './signature';

/** Celery ≥5.3 strips the chord body copies from header tasks of execution copies. */
function clearChordOption(s: Signature): void {
  delete s.options.chord;
  if (s instanceof Group) for (const t of s.tasks) clearChordOption(t);
  else if (s instanceof Chain) {
    const last = s.tasks[s.tasks.length - 1];
    if (last) clearChordOption(last);
  } else if (s instanceof Chord && s.body) clearChordOption(s.body);
}

/** `_strip_chord_header_links` (`celery/canvas.py`, 5.7.0). */
export function stripChordHeaderLinks(s: Signature): void {
  if (s instanceof Chord) {
    const h = s.header;
    if (h instanceof Group) {
      clearChordOption(h);
      stripChordHeaderLinks(h);
    } else {
      for (const t of s.headerTasks) {
        clearChordOption(t);
        stripChordHeaderLinks(t);
      }
    }
    if (s.body) stripChordHeaderLinks(s.body);
  } else if (s instanceof Group || s instanceof Chain) {
    for (const t of s.tasks) stripChordHeaderLinks(t);
  }
}

/** `_chord._descend`: how many completions a header member contributes to the chord size. */
export function descend(s: Signature): number {
  if (s instanceof Group) return s.tasks.reduce((n, t) => n + descend(t), 0);
  if (s instanceof Chain) {
    for (const t of [...s.tasks].reverse()) {
      const n = descend(t);
      if (n > 0) return n;
    }
    return 0;
  }
  if (s instanceof Chord) return s.body ? descend(s.body) : 0;
  return 1;
}

/** `_chord._add_body_callbacks`: a chord's `link`/`link_error` go to its body. */
export function addBodyCallbacks(body: Signature, o: Record<string, OptValue>): Signature {
  const callbacks = signatureList(o.link);
  const errbacks = signatureList(o.link_error);
  Reflect.deleteProperty(o, 'link');
  Reflect.deleteProperty(o, 'link_error');
  if (callbacks.length === 0 && errbacks.length === 0) return body;
  const b = body.clone();
  for (const cb of callbacks) b.link(cb.clone());
  for (const eb of errbacks) {
    if (b instanceof Group) for (const t of b.tasks) t.linkError(eb.clone());
    else b.appendToListOption('link_error', eb);
  }
  return b;
}
