import { escapeHtml } from '../html.js';
import type { FallbackPageContent } from '../options.js';

/**
 * The built-in fallback page. It must display in IE 6 on Windows XP: plain HTML 4-era markup, inline CSS,
 * no script, no external resource, UTF-8 declared in a meta tag as well as the header. The body is always
 * well over 512 bytes, below which IE swaps an error response for its own "friendly" page.
 */
export function renderFallbackPage(content: FallbackPageContent = {}): string {
  const organisation = content.organisation?.trim() || 'this site';
  const org = escapeHtml(organisation);
  const contacts = contactItems(content);
  const contactBlock = contacts.length > 0
    ? `<h2>How to reach ${org}</h2>\n<ul>\n${contacts.join('\n')}\n</ul>`
    : `<p>Please contact ${org} by telephone, by post or in person, or visit again from a newer device.</p>`;
  const message = content.message ? `<p class="note">${lines(content.message)}</p>\n` : '';
  return `<!DOCTYPE html>
<html lang="${escapeHtml(content.lang ?? 'en')}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Your browser cannot connect securely to ${org}</title>
<style type="text/css">
body { margin: 0; padding: 0; background: #f4f4f4; color: #222; font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5; }
.box { max-width: 40em; margin: 2em auto; padding: 1.5em 2em; background: #fff; border: 1px solid #ccc; }
h1 { font-size: 1.5em; margin: 0 0 0.5em 0; }
h2 { font-size: 1.15em; margin: 1.2em 0 0.4em 0; }
ul { padding-left: 1.2em; }
li { margin: 0.3em 0; }
a { color: #0645ad; }
.note { padding: 0.6em 0.8em; background: #fff8e1; border-left: 4px solid #f0b400; }
.small { color: #555; font-size: 0.9em; }
</style>
</head>
<body>
<div class="box">
<h1>Your browser or device is too old to connect securely</h1>
<p>To protect your information, ${org} only accepts secure connections made with modern encryption (TLS 1.2 or newer). The browser or operating system you are using cannot make such a connection, so we cannot show you the rest of the site.</p>
<p>This is not a fault on your side and nothing is wrong with your device. We still want to hear from you.</p>
${message}${contactBlock}
<h2>To use the whole site</h2>
<p>Update your browser or operating system, or use another, newer device: any current version of Chrome, Edge, Firefox or Safari will work.</p>
<p class="small">You see this page because of the age of your software, not because of anything you did. No information about you has been sent to ${org} beyond what your browser sends with every page.</p>
</div>
</body>
</html>
`;
}

function contactItems(content: FallbackPageContent): string[] {
  const items: string[] = [];
  if (content.email) {
    const email = escapeHtml(content.email);
    items.push(`<li>By e-mail: <a href="mailto:${email}">${email}</a></li>`);
  }
  if (content.phone) {
    const tel = escapeHtml(content.phone.replace(/[^+0-9]/g, ''));
    items.push(`<li>By telephone: <a href="tel:${tel}">${escapeHtml(content.phone)}</a></li>`);
  }
  if (content.address) items.push(`<li>By post or in person:<br>${lines(content.address)}</li>`);
  if (content.hours) items.push(`<li>Opening hours: ${lines(content.hours)}</li>`);
  return items;
}

function lines(text: string): string {
  return text.split(/\r?\n/).map(escapeHtml).join('<br>\n');
}
