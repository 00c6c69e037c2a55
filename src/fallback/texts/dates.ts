const FORMATS = new Map<string, Intl.DateTimeFormat>();

// UTC: the switch-off date is a calendar day; in a server west of Greenwich 2027-03-01T00:00Z is still 28 February.
function format(locale: string): Intl.DateTimeFormat {
  let dateFormat = FORMATS.get(locale);
  if (!dateFormat) {
    dateFormat = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
    FORMATS.set(locale, dateFormat);
  }
  return dateFormat;
}

/** The day, month name and year, as `locale` writes them in running text (`1 March 2027`, `2027年3月1日`). */
export function longDate(date: Date, locale: string): string {
  return format(locale).format(date);
}

/** The same, part by part, for languages that adjust a part (an ordinal day, a dropped suffix). */
export function longDateParts(date: Date, locale: string): Intl.DateTimeFormatPart[] {
  return format(locale).formatToParts(date);
}

/** `longDate` with the first day of a month written as an ordinal: `1er` (fr), `1º` (pt-BR). */
export function withFirstOrdinal(date: Date, locale: string, ordinal: string): string {
  return longDateParts(date, locale)
    .map((part) => (part.type === 'day' && part.value === '1' ? ordinal : part.value))
    .join('');
}
