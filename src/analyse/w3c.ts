/**
 * W3C extended log files: CloudFront standard logs and IIS. The `#Fields:` directive names the columns
 * and may change within a file (IIS writes a new header when its configuration changes; concatenated
 * CloudFront files each start with theirs), so the layout is re-read at every `#Fields:` line.
 *
 * CloudFront: tab-separated, `date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem
 * sc-status cs(Referer) cs(User-Agent) … x-host-header … ssl-protocol ssl-cipher …`, values URL-encoded.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
 *
 * IIS: space-separated, spaces inside values written as `+`, `crypt-protocol` a hexadecimal Schannel
 * protocol flag (`400` = TLS 1.2) when the custom field is configured.
 * https://learn.microsoft.com/en-us/windows/win32/http/w3c-logging
 * https://www.microsoft.com/en-us/security/blog/2017/09/07/new-iis-functionality-to-help-identify-weak-tls-usage/
 */
import { decodeByteEscapes } from './escapes.js';
import type { LineParser } from './parser.js';
import { iisCipherName, normaliseIisCryptProtocol, normaliseLogProtocol } from './protocol.js';
import { makeRecord, parseStatus, pathOfTarget, present, RecentStrings } from './record.js';
import { parseW3cTime } from './time.js';
import type { LogProtocol, LogRecord } from './types.js';

interface Columns {
  date: number;
  time: number;
  address: number;
  userAgent: number;
  host: number;
  hostHeader: number;
  path: number;
  status: number;
  protocol: number;
  cipher: number;
  cryptProtocol: number;
  cryptCipher: number;
  count: number;
}

export const W3C_LAYOUTS = { cloudfront: 'standard log (W3C)', iis: 'W3C extended log' } as const;

export class W3cParser implements LineParser {
  #family: 'cloudfront' | 'iis';
  /** `null`: told by the first #Fields: header (CloudFront names x-edge-* fields). */
  readonly #fixed: boolean;
  hasProtocol = false;
  hasUserAgent = false;
  readonly #recent = new RecentStrings(32);
  #columns: Columns | null = null;
  #lastDate = '';
  #lastTime = '';
  #lastValue = Number.NaN;

  constructor(family: 'cloudfront' | 'iis' | null) {
    this.#family = family ?? 'iis';
    this.#fixed = family !== null;
  }

  get family(): 'cloudfront' | 'iis' {
    return this.#family;
  }

  get layout(): string {
    return W3C_LAYOUTS[this.#family];
  }

  parse(line: string): LogRecord | string | null {
    if (line.charCodeAt(0) === 35) {
      if (line.startsWith('#Fields:')) this.#readFields(line.slice(8));
      return null;
    }
    const columns = this.#columns;
    if (columns === null) return 'no #Fields: header before this line';
    // CloudFront separates with tabs; IIS with spaces (and writes spaces inside values as `+`).
    const values = line.split(line.includes('\t') ? '\t' : ' ');
    if (values.length < columns.count) return `${values.length} fields where #Fields: names ${columns.count}`;
    const time = this.#time(values[columns.date] ?? '', values[columns.time] ?? '');
    if (Number.isNaN(time)) return 'the date and time are not readable';
    let protocol: LogProtocol | null = null;
    let cipher: string | null = null;
    if (columns.protocol >= 0) {
      protocol = normaliseLogProtocol(values[columns.protocol]);
      const value = values[columns.cipher] ?? '-';
      cipher = columns.cipher >= 0 && present(value) ? this.#recent.get(value) : null;
    } else if (columns.cryptProtocol >= 0) {
      protocol = normaliseIisCryptProtocol(values[columns.cryptProtocol]);
      cipher = columns.cryptCipher >= 0 ? iisCipherName(values[columns.cryptCipher]) : null;
    }
    return makeRecord(
      'request',
      time,
      protocol,
      cipher,
      this.#userAgent(columns.userAgent >= 0 ? values[columns.userAgent] : undefined),
      this.#value(columns.address >= 0 ? values[columns.address] : undefined),
      this.#host(columns.hostHeader >= 0 ? values[columns.hostHeader] : undefined, columns.host >= 0 ? values[columns.host] : undefined),
      this.#path(columns.path >= 0 ? values[columns.path] : undefined),
      columns.status >= 0 ? parseStatus(values[columns.status] ?? '') : null,
    );
  }

  #time(date: string, time: string): number {
    if (date === this.#lastDate && time === this.#lastTime) return this.#lastValue;
    this.#lastDate = date;
    this.#lastTime = time;
    this.#lastValue = parseW3cTime(date, time);
    return this.#lastValue;
  }

  #decode(value: string): string {
    return this.#family === 'cloudfront' ? decodeByteEscapes(value, '%') : value.replaceAll('+', ' ');
  }

  #value(value: string | undefined): string | null {
    return value !== undefined && present(value) ? value : null;
  }

  #userAgent(value: string | undefined): string | null {
    return value !== undefined && present(value) ? this.#decode(value) : null;
  }

  /** Kept as logged (still percent-encoded), as the other formats keep it. */
  #path(value: string | undefined): string | null {
    return value !== undefined && present(value) ? pathOfTarget(value) : null;
  }

  /** CloudFront's `cs(Host)` is the distribution's name; `x-host-header` is what the viewer asked for. */
  #host(hostHeader: string | undefined, host: string | undefined): string | null {
    const value = this.#value(hostHeader) ?? this.#value(host);
    return value === null ? null : this.#recent.get(value);
  }

  #readFields(list: string): void {
    const names = list.trim().split(/\s+/);
    if (!this.#fixed) this.#family = names.some((name) => name.startsWith('x-edge-')) ? 'cloudfront' : 'iis';
    const index = (...candidates: string[]) => {
      for (const candidate of candidates) {
        const at = names.indexOf(candidate);
        if (at !== -1) return at;
      }
      return -1;
    };
    this.#columns = {
      date: index('date'),
      time: index('time'),
      address: index('c-ip'),
      userAgent: index('cs(User-Agent)', 'cs-user-agent'),
      host: index('cs(Host)', 'cs-host'),
      hostHeader: index('x-host-header'),
      path: index('cs-uri-stem'),
      status: index('sc-status'),
      protocol: index('ssl-protocol'),
      cipher: index('ssl-cipher'),
      cryptProtocol: index('crypt-protocol'),
      cryptCipher: index('crypt-cipher'),
      count: names.length,
    };
    if (this.#columns.protocol >= 0 || this.#columns.cryptProtocol >= 0) this.hasProtocol = true;
    if (this.#columns.userAgent >= 0) this.hasUserAgent = true;
  }
}
