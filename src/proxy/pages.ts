const REASONS = { 502: 'Bad Gateway', 504: 'Gateway Timeout' } as const;

/**
 * What a visitor sees when the site behind the proxy fails: a short page, no internals (no upstream
 * address, no error code), long enough (> 512 bytes) that old IE shows it instead of its own.
 */
export function errorPage(status: 502 | 504): { reason: string; body: string } {
  const reason = REASONS[status];
  const text = status === 504
    ? 'The site took too long to answer. Please try again in a moment.'
    : 'The site could not be reached just now. Please try again in a moment.';
  const body = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${status} ${reason}</title>
<style type="text/css">body { font-family: Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 36em; padding: 0 1em; color: #222; line-height: 1.5; }</style>
</head>
<body>
<h1>${reason}</h1>
<p>${text}</p>
<p>If this goes on, the people who run this site have been told by their own monitoring; there is nothing wrong with your browser or your connection.</p>
<!-- padding so that old Internet Explorer shows this page rather than its own "friendly" error page -->
</body>
</html>
`;
  return { reason, body };
}
