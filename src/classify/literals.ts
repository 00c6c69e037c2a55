/**
 * Finding many literal strings in one pass, and the literal a regular expression cannot match without.
 *
 * A regular expression of a few hundred alternatives (isbot's, ua-parser-js's lists) is tried at every
 * position of its input, so its cost grows with the number of alternatives times the input length. A
 * scanner for the literals those alternatives need costs one table lookup per character, whatever
 * their number: when it finds none, none of the alternatives can match.
 */

/** Finds whether any of a fixed set of ASCII literals occurs in a lower-cased text (Aho-Corasick). */
export class LiteralScanner {
  /** Character code (< 128) → column of `next`; 0 for characters no literal contains. */
  private readonly columns = new Uint8Array(128);
  /**
   * Deterministic automaton, rows of `width` entries: from the row starting at `offset`, a character
   * of column `column` leads to the row starting at `next[offset + column]`; -1 where a literal ends
   * (the scan stops at the first one, so those states need no transitions of their own).
   */
  private readonly next: Int32Array;

  constructor(literals: Iterable<string>) {
    const words = [...new Set(literals)];
    let width = 1;
    for (const word of words) {
      if (word === '' || word !== word.toLowerCase()) throw new TypeError(`LiteralScanner: ${JSON.stringify(word)} is not a non-empty lower-case literal`);
      for (let i = 0; i < word.length; i++) {
        const code = word.charCodeAt(i);
        if (code >= 128) throw new TypeError(`LiteralScanner: ${JSON.stringify(word)} is not ASCII`);
        if (this.columns[code] === 0) this.columns[code] = width++;
      }
    }

    // The trie of the literals.
    const children: number[][] = [[]];
    const ends: boolean[] = [false];
    for (const word of words) {
      let state = 0;
      for (let i = 0; i < word.length; i++) {
        const column = this.columns[word.charCodeAt(i)] as number;
        let child = children[state]?.[column];
        if (child === undefined) {
          child = children.length;
          children.push([]);
          ends.push(false);
          (children[state] as number[])[column] = child;
        }
        state = child;
      }
      ends[state] = true;
    }

    // Breadth-first: each state's transitions are those of its trie node, completed by those of the
    // longest proper suffix that is also a trie node (its failure state), so the scan never backs up.
    const states = children.length;
    const next = new Int32Array(states * width);
    const accepting = new Uint8Array(states);
    const failure = new Uint32Array(states);
    const queue: number[] = [0];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      if (ends[state] || accepting[failure[state] as number]) accepting[state] = 1;
      for (let column = 0; column < width; column++) {
        const child = children[state]?.[column];
        const fallback = state === 0 ? 0 : (next[(failure[state] as number) * width + column] as number);
        if (child === undefined) {
          next[state * width + column] = fallback;
        } else {
          failure[child] = fallback;
          next[state * width + column] = child;
          queue.push(child);
        }
      }
    }
    // Rows were built from the rows of shallower states, which had to keep their plain targets until
    // now: from here on they become row offsets, and transitions into accepting states the stop mark.
    for (let i = 0; i < next.length; i++) {
      const target = next[i] as number;
      next[i] = accepting[target] === 1 ? -1 : target * width;
    }
    this.next = next;
  }

  /**
   * Whether a literal occurs in `text` between `start` and `end`. `text` must be lower-cased; characters
   * outside ASCII never take part in a match.
   */
  find(text: string, start = 0, end = text.length): boolean {
    const { columns, next } = this;
    let row = 0;
    for (let i = start; i < end; i++) {
      const code = text.charCodeAt(i);
      row = next[row + (code < 128 ? (columns[code] as number) : 0)] as number;
      if (row < 0) return true;
    }
    return false;
  }
}

/** Text that every match of a regular expression contains: anywhere (`within`), or as its last characters (`suffix`). */
export type RequiredText = { within: string } | { suffix: string };

/**
 * The longest run of literal characters that every match of `source` (a regular expression without
 * the `u` or `v` flag, matched case-insensitively) must contain, lower-cased; when the expression ends
 * with `$`, the literal run right before it, which every input it matches must end with. `null` when
 * no such text is found or the source uses syntax this reader does not follow (alternation at the top
 * level, `\x41`-style escapes, back-references): the caller must then always run the expression.
 *
 * Groups, lookarounds and character classes are skipped as a whole; a quantifier that allows zero
 * repetitions removes the character before it from the run.
 */
export function requiredText(source: string): RequiredText | null {
  const runs: string[] = [];
  let run = '';
  const flush = (): void => {
    if (run !== '') runs.push(run);
    run = '';
  };
  for (let i = 0; i < source.length; ) {
    const char = source[i] as string;
    switch (char) {
      case '\\': {
        const escaped = source[i + 1];
        if (escaped === undefined) return null;
        if ('bBdDwWsS'.includes(escaped)) flush();
        else if (/[\dA-Za-z]/.test(escaped) || escaped.charCodeAt(0) >= 128) return null;
        else run += escaped;
        i += 2;
        continue;
      }
      case '[': {
        const end = classEnd(source, i);
        if (end < 0) return null;
        flush();
        i = end + 1;
        continue;
      }
      case '(': {
        const end = groupEnd(source, i);
        if (end < 0) return null;
        flush();
        i = end + 1;
        continue;
      }
      case ')':
      case '|':
        return null;
      case '$':
        if (i === source.length - 1 && run !== '') return { suffix: run };
        flush();
        i++;
        continue;
      case '^':
      case '.':
      case '+':
        flush();
        i++;
        continue;
      case '?':
      case '*':
        run = run.slice(0, -1);
        flush();
        i++;
        continue;
      case '{': {
        const quantifier = /^\{(\d+)(?:,\d*)?\}/.exec(source.slice(i, i + 24));
        if (quantifier === null) return null;
        if (Number(quantifier[1]) === 0) run = run.slice(0, -1);
        flush();
        i += quantifier[0].length;
        continue;
      }
      default:
        if (char.charCodeAt(0) >= 128) return null;
        run += char.toLowerCase();
        i++;
    }
  }
  flush();
  let longest = '';
  for (const candidate of runs) if (candidate.length > longest.length) longest = candidate;
  return longest === '' ? null : { within: longest };
}

/** Index of the `]` that closes the class opened at `start`, or -1. */
function classEnd(source: string, start: number): number {
  for (let i = start + 1; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ']') return i;
  }
  return -1;
}

/** Index of the `)` that closes the group opened at `start`, or -1. */
function groupEnd(source: string, start: number): number {
  let depth = 0;
  for (let i = start; i < source.length; i++) {
    const char = source[i];
    if (char === '\\') i++;
    else if (char === '[') {
      i = classEnd(source, i);
      if (i < 0) return -1;
    } else if (char === '(') depth++;
    else if (char === ')' && --depth === 0) return i;
  }
  return -1;
}
