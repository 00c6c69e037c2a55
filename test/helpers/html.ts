import { expect } from 'vitest';

// Elements without an end tag in HTML.
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

interface Tag {
  name: string;
  closing: boolean;
  attributes: string;
}

/**
 * A tolerant tokenizer, good enough for the pages we generate: skips the doctype and comments, treats
 * <style> and <title> content as raw text, and returns every start and end tag in order. Attribute
 * values may contain '>' only inside quotes.
 */
export function tokenize(html: string): Tag[] {
  const tags: Tag[] = [];
  const tagPattern = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/gi;
  let match: RegExpExecArray | null;
  let last = 0;
  while ((match = tagPattern.exec(html)) !== null) {
    const [whole, slash = '', name = '', attributes = ''] = match;
    // Text between tags must not contain a stray '<' that starts markup.
    expect(html.slice(last, match.index), `stray markup before ${whole}`).not.toMatch(/<[a-zA-Z/!]/);
    last = match.index + whole.length;
    if (!name) continue; // doctype or comment
    const tag = { name: name.toLowerCase(), closing: slash === '/', attributes };
    tags.push(tag);
    if (!tag.closing && (tag.name === 'style' || tag.name === 'title' || tag.name === 'script')) {
      const rawTextEnd = new RegExp(`</${tag.name}\\s*>`, 'gi');
      rawTextEnd.lastIndex = last;
      const end = rawTextEnd.exec(html);
      expect(end, `<${tag.name}> is closed`).not.toBeNull();
      tags.push({ name: tag.name, closing: true, attributes: '' });
      last = end!.index + end![0].length;
      tagPattern.lastIndex = last;
    }
  }
  expect(html.slice(last), 'stray markup after the last tag').not.toMatch(/<[a-zA-Z/!]/);
  return tags;
}

/** Checks that every non-void element is closed in order, and returns the element names in document order. */
export function expectBalanced(html: string): string[] {
  const stack: string[] = [];
  const opened: string[] = [];
  for (const tag of tokenize(html)) {
    if (VOID_ELEMENTS.has(tag.name)) {
      expect(tag.closing, `</${tag.name}> is not allowed`).toBe(false);
      opened.push(tag.name);
      continue;
    }
    if (!tag.closing) {
      stack.push(tag.name);
      opened.push(tag.name);
      continue;
    }
    expect(stack.at(-1), `</${tag.name}> closes the innermost open element (open: ${stack.join(' > ')})`).toBe(tag.name);
    stack.pop();
  }
  expect(stack, 'every element is closed').toEqual([]);
  return opened;
}

/** Every value of an attribute in the page, unescaped as far as `&quot;` and `&amp;` go. */
export function attributeValues(html: string, attribute: string): string[] {
  return [...html.matchAll(new RegExp(`\\s${attribute}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'gi'))].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** The start tags' attributes, as written, for each element name. */
export function startTagAttributes(html: string, name: string): string[] {
  return tokenize(html).filter((t) => t.name === name && !t.closing).map((t) => t.attributes.trim());
}

/** What IE 6 needs of a built-in page, checked on the bytes as they go on the wire. */
export function expectIe6Safe(html: string): void {
  const bytes = Buffer.from(html, 'utf8');
  // Valid UTF-8 (a lone surrogate would be replaced), no BOM, the doctype first.
  expect(new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toBe(html);
  expect([...bytes.subarray(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf]);
  expect(html.startsWith('<!DOCTYPE html>\n<html ')).toBe(true);
  expect(bytes.length, 'over 512 bytes, or IE shows its own "friendly" page').toBeGreaterThan(512);
  // The charset is declared within the first 1024 bytes, before any byte that is not ASCII.
  const meta = bytes.indexOf('<meta http-equiv="Content-Type" content="text/html; charset=utf-8">');
  expect(meta).toBeGreaterThan(-1);
  expect(meta + 70).toBeLessThan(1024);
  const firstNonAscii = bytes.findIndex((b) => b > 0x7f);
  if (firstNonAscii >= 0) expect(meta).toBeLessThan(firstNonAscii);
  // No script, nothing fetched.
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/<(link|img|iframe|object|embed|form|frame|base|input|button)\b/i);
  expect(html).not.toMatch(/@import|url\s*\(|javascript:|expression\s*\(/i);
  expectNoEventHandlers(html);
  expect(attributeValues(html, 'src')).toEqual([]);
  expect(html.match(/<style\b/gi)).toHaveLength(1);
  expect(html.indexOf('<style')).toBeLessThan(html.indexOf('</head>'));
}

/** No element carries an event-handler attribute (text that merely reads "onerror=" is fine). */
export function expectNoEventHandlers(html: string): void {
  for (const tag of tokenize(html)) expect(tag.attributes, `<${tag.name}> attributes`).not.toMatch(/(^|\s)on[a-z]+\s*=/i);
}
