import { describe, expect, it } from 'vitest';
import { renderFallbackPage } from '../src/fallback/page.js';
import type { FallbackPageContent } from '../src/options.js';

const FULL: FallbackPageContent = {
  organisation: 'Acme Ltd',
  email: 'help@example.com',
  phone: '+44 (0)20 7946-0000',
  address: '1 High Street\nLittle Town\r\nAB1 2CD',
  hours: 'Mon-Fri 9:00-17:00\nSat 10:00-12:00',
  message: 'Our shop is open as usual.\nCall us any time.',
  lang: 'en-GB',
};

// Elements without an end tag in HTML.
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

interface Tag {
  name: string;
  closing: boolean;
  attributes: string;
}

/**
 * A tolerant tokenizer, good enough for the page we generate: skips the doctype and comments, treats
 * <style> and <title> content as raw text, and returns every start and end tag in order. Attribute
 * values may contain '>' only inside quotes.
 */
function tokenize(html: string): Tag[] {
  const tags: Tag[] = [];
  const tagPattern = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/gi;
  let match: RegExpExecArray | null;
  let rawTextEnd: RegExp | null = null;
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
      rawTextEnd = new RegExp(`</${tag.name}\\s*>`, 'gi');
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
function expectBalanced(html: string): string[] {
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

function attributeValues(html: string, attribute: string): string[] {
  return [...html.matchAll(new RegExp(`\\s${attribute}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'gi'))].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

describe('renderFallbackPage: what IE 6 needs', () => {
  it.each<[string, FallbackPageContent | undefined]>([
    ['no argument', undefined],
    ['no options', {}],
    ['an empty organisation', { organisation: '' }],
    ['a blank organisation', { organisation: '   ' }],
  ])('is over 512 bytes of UTF-8 with %s', (_label, content) => {
    const html = renderFallbackPage(content);
    expect(Buffer.byteLength(html, 'utf8')).toBeGreaterThan(512);
  });

  it('falls back to "this site" for an empty organisation', () => {
    expect(renderFallbackPage({ organisation: '  ' })).toContain('Your browser cannot connect securely to this site</title>');
  });

  it('declares UTF-8 in a meta tag within the first 1024 bytes', () => {
    const html = renderFallbackPage();
    const at = html.indexOf('<meta charset="utf-8">');
    expect(at).toBeGreaterThan(-1);
    expect(Buffer.byteLength(html.slice(0, at))).toBeLessThan(1024);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it.each<[string, FallbackPageContent]>([['no options', {}], ['every option', FULL]])('has no script and no external resource (%s)', (_label, content) => {
    const html = renderFallbackPage(content);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/<(img|iframe|object|embed|form|frame|base)\b/i);
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/url\s*\(/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(attributeValues(html, 'src')).toEqual([]);
    expect(attributeValues(html, 'action')).toEqual([]);
    expect(html).not.toMatch(/(src|href|action)\s*=\s*["']?\s*(https?:|\/\/)/i);
    for (const href of attributeValues(html, 'href')) expect(href).toMatch(/^(mailto|tel):/);
  });

  it('uses only inline CSS in a <style> element', () => {
    const html = renderFallbackPage();
    expect(html.match(/<style\b/gi)).toHaveLength(1);
    expect(html.indexOf('<style')).toBeLessThan(html.indexOf('</head>'));
  });
});

describe('renderFallbackPage: structure', () => {
  it.each<[string, FallbackPageContent]>([
    ['no options', {}],
    ['every option', FULL],
    ['only an e-mail', { email: 'a@b.example' }],
    ['only an address', { address: 'one\ntwo' }],
    ['only a message', { message: 'hello' }],
  ])('balances its tags (%s)', (_label, content) => {
    const elements = expectBalanced(renderFallbackPage(content));
    expect(elements.slice(0, 2)).toEqual(['html', 'head']);
    for (const single of ['html', 'head', 'title', 'body', 'h1']) {
      expect(elements.filter((name) => name === single), `one <${single}>`).toHaveLength(1);
    }
    // <title> and <meta> in the head, everything visible in the body.
    expect(elements.indexOf('title')).toBeLessThan(elements.indexOf('body'));
    expect(elements.lastIndexOf('meta')).toBeLessThan(elements.indexOf('body'));
    expect(elements.indexOf('h1')).toBeGreaterThan(elements.indexOf('body'));
  });

  it('the balance check catches broken markup (so the tests above can fail)', () => {
    expect(() => expectBalanced('<html><body><p>text</body></html>')).toThrow();
    expect(() => expectBalanced('<html><body><ul><li>x</ul></li></body></html>')).toThrow();
    expect(() => expectBalanced('<html><body><p>x</p>')).toThrow();
    expect(() => expectBalanced('<html><title>x</html>')).toThrow();
    expect(() => expectBalanced('<html><body><p>1 < <b>2</b></p></body></html>')).not.toThrow();
    expect(() => expectBalanced('<html><body><p>a <img src=x onerror=alert(1)> b</p></body></html>')).not.toThrow();
    expect(expectBalanced('<html><body><p>a <img src=x onerror=alert(1)> b</p></body></html>')).toContain('img');
  });

  it('has the lang attribute, en by default', () => {
    expect(renderFallbackPage()).toMatch(/<html lang="en">/);
    expect(renderFallbackPage({ lang: 'fr-CA' })).toMatch(/<html lang="fr-CA">/);
  });

  it('lists the contacts with mailto: and tel: links', () => {
    const html = renderFallbackPage(FULL);
    expect(html).toContain('<a href="mailto:help@example.com">help@example.com</a>');
    expect(html).toContain('<a href="tel:+4402079460000">+44 (0)20 7946-0000</a>');
    expect(html).toContain('How to reach Acme Ltd');
    expect(html).toContain('Opening hours: Mon-Fri 9:00-17:00<br>\nSat 10:00-12:00');
  });

  it('says how to get in touch another way when no contact is given', () => {
    const html = renderFallbackPage({ organisation: 'Acme Ltd' });
    expect(html).not.toContain('<ul>');
    expect(html).toContain('Please contact Acme Ltd by telephone, by post or in person');
  });

  it('keeps the line breaks of the address and the message as <br>', () => {
    const html = renderFallbackPage(FULL);
    expect(html).toContain('1 High Street<br>\nLittle Town<br>\nAB1 2CD');
    expect(html).toContain('<p class="note">Our shop is open as usual.<br>\nCall us any time.</p>');
    expect(html).not.toContain('\r');
  });

  it('keeps non-ASCII text as UTF-8', () => {
    const html = renderFallbackPage({ organisation: 'Müller & Söhne', lang: 'de' });
    expect(html).toContain('Müller &amp; Söhne');
    expect(Buffer.from(html, 'utf8').toString('utf8')).toBe(html);
  });
});

describe('renderFallbackPage: every option value is HTML-escaped', () => {
  const HOSTILE = '<img src=x onerror=alert(1)>';

  it.each(['organisation', 'address', 'hours', 'message'] as const)('escapes %s', (key) => {
    const html = renderFallbackPage({ [key]: `${HOSTILE} "q" 'a' & </li></ul></div></body>` });
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &quot;q&quot; &#39;a&#39; &amp; &lt;/li&gt;&lt;/ul&gt;&lt;/div&gt;&lt;/body&gt;');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/onerror=alert\(1\)>/);
    expectBalanced(html);
  });

  it('escapes the organisation in the <title> too', () => {
    const html = renderFallbackPage({ organisation: `</title><script>alert(1)</script>` });
    expect(html).toContain('<title>Your browser cannot connect securely to &lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(html).not.toMatch(/<script/i);
  });

  it('escapes quotes in attributes: e-mail and lang cannot break out of href or lang', () => {
    const html = renderFallbackPage({ email: 'a"onmouseover="alert(1)@x.example', lang: 'en"><script>alert(1)</script>' });
    expect(html).toContain('<html lang="en&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">');
    expect(html).toContain('href="mailto:a&quot;onmouseover=&quot;alert(1)@x.example"');
    expect(html).not.toMatch(/\sonmouseover=/i);
    expect(html).not.toMatch(/<script/i);
    for (const href of attributeValues(html, 'href')) expect(href).toMatch(/^(mailto|tel):/);
    expectBalanced(html);
  });

  it('keeps only digits and + in the tel: link, and escapes the shown number', () => {
    const html = renderFallbackPage({ phone: '+1 <b>"555"</b> 0100' });
    expect(attributeValues(html, 'href')).toEqual(['tel:+15550100']);
    expect(html).toContain('&lt;b&gt;&quot;555&quot;&lt;/b&gt; 0100</a>');
    expectBalanced(html);
  });

  it('gives the same element structure for hostile and harmless values', () => {
    const structure = (content: FallbackPageContent) => expectBalanced(renderFallbackPage(content)).join(' ');
    const harmless = structure({ ...FULL, organisation: 'Acme', message: 'hello', address: 'street\ntown' });
    const hostile = structure({ ...FULL, organisation: HOSTILE, message: '<p><b>x</p>', address: '<br>street\n<hr>town' });
    expect(hostile).toBe(harmless);
  });
});
