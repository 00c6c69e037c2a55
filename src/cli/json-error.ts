/** Where a JSON text first goes wrong, in the terms of an editor: 1-based line and column. */
export interface JsonErrorLocation {
  /** Offset in UTF-16 code units, as `text.slice` counts. */
  offset: number;
  line: number;
  /** In characters (code points) from the start of the line. */
  column: number;
  /** What is wrong there, worded for someone editing a config file by hand. */
  reason: string;
}

type Expect = 'value' | 'first-value-or-end' | 'key' | 'first-key-or-end' | 'colon' | 'comma-or-end' | 'done';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_$][\w$-]*/y;

/**
 * The first error in `text` by the JSON grammar (RFC 8259), or undefined when it is valid JSON.
 * Node 20's `JSON.parse` gives a position for some errors and none for others ("Unexpected end of JSON
 * input", "Unexpected token … is not valid JSON"), never a line: a config file needs the line. The scan
 * keeps its own stack instead of recursing, so no nesting depth can overflow the call stack.
 */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  const stack: ('{' | '[')[] = [];
  let expect: Expect = 'value';
  let i = 0;
  const at = (offset: number, reason: string): JsonErrorLocation => ({ offset, ...lineAndColumn(text, offset), reason });
  const afterValue = (): Expect => (stack.length === 0 ? 'done' : 'comma-or-end');

  for (;;) {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
    if (i >= text.length) {
      if (expect === 'done') return undefined;
      const open = stack.at(-1);
      return at(text.length, open === undefined ? 'the file is empty' : `the file ends inside ${open === '{' ? 'an object' : 'an array'}: a '${open === '{' ? '}' : ']'}' is missing`);
    }
    const c = text[i]!;
    if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) return at(i, 'comments are not allowed in JSON');

    switch (expect) {
      case 'done':
        return at(i, 'unexpected text after the end of the JSON value');
      case 'colon':
        if (c !== ':') return at(i, "expected ':' after the property name");
        i++;
        expect = 'value';
        continue;
      case 'comma-or-end': {
        const close = stack.at(-1) === '{' ? '}' : ']';
        if (c === ',') {
          i++;
          expect = close === '}' ? 'key' : 'value';
        } else if (c === close) {
          i++;
          stack.pop();
          expect = afterValue();
        } else if (c === '"' && close === '}') {
          return at(i, "expected ',' between two properties");
        } else {
          return at(i, `expected ',' or '${close}' after the ${close === '}' ? 'property value' : 'array element'}`);
        }
        continue;
      }
      case 'first-key-or-end':
      case 'key':
        if (c === '}') {
          if (expect === 'key') return at(i, "a comma before '}': JSON allows no trailing comma");
          i++;
          stack.pop();
          expect = afterValue();
          continue;
        }
        if (c === '"') {
          const end = scanString(text, i);
          if (typeof end !== 'number') return at(end.offset, end.reason);
          i = end;
          expect = 'colon';
          continue;
        }
        if (c === ',') return at(i, 'a comma too many: a property is missing before it');
        return at(i, c === "'" ? 'property names need double quotes, not single quotes' : 'expected a property name in double quotes');
      case 'first-value-or-end':
      case 'value': {
        if (c === ']' && expect === 'first-value-or-end') {
          i++;
          stack.pop();
          expect = afterValue();
          continue;
        }
        if (c === '{' || c === '[') {
          stack.push(c);
          i++;
          expect = c === '{' ? 'first-key-or-end' : 'first-value-or-end';
          continue;
        }
        if (c === '"') {
          const end = scanString(text, i);
          if (typeof end !== 'number') return at(end.offset, end.reason);
          i = end;
          expect = afterValue();
          continue;
        }
        if (c === '-' || (c >= '0' && c <= '9')) {
          NUMBER.lastIndex = i;
          const match = NUMBER.exec(text);
          if (!match) return at(i, 'not a valid number');
          i += match[0].length;
          expect = afterValue();
          continue;
        }
        WORD.lastIndex = i;
        const word = WORD.exec(text)?.[0];
        if (word === 'true' || word === 'false' || word === 'null') {
          i += word.length;
          expect = afterValue();
          continue;
        }
        if (c === ']' && stack.at(-1) === '[') return at(i, "a comma before ']': JSON allows no trailing comma");
        if (c === ',') return at(i, 'a comma too many: a value is missing before it');
        if (c === "'") return at(i, 'strings need double quotes, not single quotes');
        // The word is not quoted back: it may be a secret someone forgot to put in quotes.
        if (word !== undefined) return at(i, 'a bare word is not a JSON value: text goes in double quotes; the only bare words are true, false and null');
        return at(i, `expected a value, found ${JSON.stringify(c)}`);
      }
    }
  }
}

/** The offset just after the closing quote of the string opening at `start`, or what is wrong with it. */
function scanString(text: string, start: number): number | { offset: number; reason: string } {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return { offset: i, reason: c === 0x0a ? 'a line break inside a string: close the string, or write \\n' : 'a control character inside a string: write it as an escape such as \\t' };
    if (c === 0x5c) {
      const next = text[i + 1];
      if (next === 'u') {
        if (!/^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) return { offset: i, reason: '\\u must be followed by four hexadecimal digits' };
        i += 6;
        continue;
      }
      if (next === undefined || !ESCAPES.has(next)) return { offset: i, reason: 'not a valid escape: a backslash in a string is written \\\\ (Windows paths too)' };
      i += 2;
      continue;
    }
    i++;
  }
  return { offset: start, reason: 'this string is never closed' };
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: [...text.slice(lineStart, offset)].length + 1 };
}
