/** Edit distance (Levenshtein) between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The known name closest to a misspelt one ("Did you mean `http_ws_port`?"), or undefined when
 * nothing is close enough to be a likely typo.
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  if (lower.length > 100) return undefined;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    let score = distance(lower, k);
    // A name that contains the other (`port` in `http_ws_port`) is a strong hint too.
    if (lower.length >= 4 && (k.includes(lower) || lower.includes(k))) score = Math.min(score, 2);
    if (score < bestScore) {
      bestScore = score;
      best = k;
    }
  }
  const limit = Math.max(2, Math.floor(lower.length / 3));
  return bestScore <= limit ? best : undefined;
}
