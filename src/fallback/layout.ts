import { escapeHtml } from '../html.js';
import type { ResolvedLanguage, ResolvedPageContent, ShownText } from './page-options.js';
import { PLACEHOLDER_PATTERN, type Placeholder } from './texts/types.js';

/**
 * The frame both built-in pages share. It must display in IE 6 on Windows XP: HTML 4-era markup,
 * inline CSS, no script, no external resource. The charset is declared by the first element of <head>,
 * in ASCII, well inside the 1024 bytes browsers scan for it, so the page decodes right even when a
 * proxy drops the header's charset. The style sheet alone keeps every page over the 512 bytes below
 * which IE replaces an error response with its own "friendly" page.
 */
export function renderDocument(language: ResolvedLanguage, title: string, body: string): string {
  const [start, end] = language.dir === 'rtl' ? ['right', 'left'] : ['left', 'right'];
  return `<!DOCTYPE html>
<html lang="${escapeHtml(language.lang)}" dir="${language.dir}">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style type="text/css">
body { margin: 0; padding: 0; background: #f4f4f4; color: #222; font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5; }
.box { max-width: 40em; margin: 2em auto; padding: 1.5em 2em; background: #fff; border: 1px solid #ccc; }
h1 { font-size: 1.5em; margin: 0 0 0.5em 0; }
h2 { font-size: 1.15em; margin: 1.2em 0 0.4em 0; }
ul { margin-${end}: 0; padding-${end}: 0; padding-${start}: 1.2em; }
li { margin: 0.3em 0; }
a { color: #0645ad; }
.org { margin: 0 0 0.4em 0; color: #555; font-weight: bold; }
.note { padding: 0.6em 0.8em; background: #fff8e1; border-${start}: 4px solid #f0b400; }
.continue { margin: 1.5em 0; }
.continue a { padding: 0.5em 1em; background: #0645ad; color: #fff; font-weight: bold; text-decoration: none; }
.small { color: #555; font-size: 0.9em; }
</style>
</head>
<body>
<div class="box">
${body}</div>
</body>
</html>
`;
}

/** HTML fragments for the placeholders a text may hold. */
export type PlaceholderValues = Partial<Record<Placeholder, string>>;

/**
 * A text as HTML: every character of it escaped, line breaks as <br>, and each `{placeholder}` replaced
 * by its fragment (already HTML). Owner texts therefore cannot carry markup of their own.
 */
export function fillHtml(template: string, values: PlaceholderValues): string {
  let html = '';
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER_PATTERN)) {
    html += lines(template.slice(last, match.index));
    const fragment = values[match[1] as Placeholder];
    html += fragment ?? lines(match[0]);
    last = match.index + match[0].length;
  }
  return html + lines(template.slice(last));
}

/** A text as plain text (for <title>): placeholders replaced by plain text, line breaks as spaces. */
export function fillText(template: string, values: PlaceholderValues): string {
  return template.replace(PLACEHOLDER_PATTERN, (whole, name: string) => values[name as Placeholder] ?? whole).replace(/\s*\n\s*/g, ' ');
}

/** Escaped text with its line breaks kept. */
export function lines(text: string): string {
  return text.split('\n').map(escapeHtml).join('<br>\n');
}

/** A shown owner value as HTML, marked with its language when it is not the page's. */
export function shownHtml(shown: ShownText, element = 'span'): string {
  return shown.lang === undefined ? lines(shown.text) : `<${element} lang="${escapeHtml(shown.lang)}">${lines(shown.text)}</${element}>`;
}

/** The organisation above the heading, if there is one. */
export function organisationLine(page: ResolvedPageContent, language: ResolvedLanguage): string {
  const organisation = page.organisation(language);
  return organisation ? `<p class="org">${shownHtml(organisation)}</p>\n` : '';
}

/** The values `{organisation}` takes in this language: HTML for the body, text for the title. */
export function organisationValues(page: ResolvedPageContent, language: ResolvedLanguage): { html: PlaceholderValues; text: PlaceholderValues } {
  const organisation = page.organisation(language);
  if (!organisation) return { html: {}, text: {} };
  return { html: { organisation: shownHtml(organisation) }, text: { organisation: organisation.text.replace(/\s*\n\s*/g, ' ') } };
}

/** Whether this language's page gives any way to reach the owner: an e-mail, a phone number or an address. */
export function reachable(page: ResolvedPageContent, language: ResolvedLanguage): boolean {
  return page.email !== undefined || page.phone !== undefined || page.address(language) !== undefined;
}

/**
 * The contact list items. E-mail addresses and phone numbers are marked left-to-right: in a
 * right-to-left page a leading "+" or a trailing domain would otherwise be moved around.
 */
export function contactItems(page: ResolvedPageContent, language: ResolvedLanguage, extra: PlaceholderValues): string[] {
  const { texts } = language;
  const items: string[] = [];
  const item = (template: string, values: PlaceholderValues) => {
    if (template.trim() !== '') items.push(`<li>${fillHtml(template, { ...extra, ...values })}</li>`);
  };
  if (page.email !== undefined) {
    const email = escapeHtml(page.email);
    item(texts.contactEmail, { email: `<a href="mailto:${email}" dir="ltr">${email}</a>` });
  }
  if (page.phone !== undefined) {
    const tel = escapeHtml(page.phone.replace(/[^+0-9]/g, ''));
    item(texts.contactPhone, { phone: `<a href="tel:${tel}" dir="ltr">${escapeHtml(page.phone)}</a>` });
  }
  const address = page.address(language);
  if (address) item(texts.contactAddress, { address: shownHtml(address) });
  const hours = page.hours(language);
  if (hours) item(texts.contactHours, { hours: shownHtml(hours) });
  return items;
}

/** A paragraph, or nothing when the owner emptied its text. */
export function paragraph(template: string, values: PlaceholderValues, className?: string): string {
  if (template.trim() === '') return '';
  return `<p${className ? ` class="${className}"` : ''}>${fillHtml(template, values)}</p>\n`;
}

/** A second-level heading, or nothing when the owner emptied its text. */
export function subheading(template: string, values: PlaceholderValues): string {
  return template.trim() === '' ? '' : `<h2>${fillHtml(template, values)}</h2>\n`;
}
