/**
 * Request streams with a different user agent on every request, by shape: what a client (or an
 * attacker, who picks the slowest) can send. Each shape is a list of templates with one `%d`, which
 * the load generator replaces with a number unique to the request; the templates themselves are
 * drawn from a seeded generator, so every run sends the same streams.
 *
 * Used by the load generator (scenario 2 of scenarios.ts) and by parse-user-agents.ts (µs per parse).
 */

export interface UserAgentShape {
  /** Stable key: row ids, `--shape` of parse-user-agents.ts. */
  id: string;
  /** What the stream is, for the table. */
  title: string;
  /** Whether a modern browser token proves every user agent of the stream modern (the fast path's job). */
  modern: boolean;
  /** Templates with exactly one `%d`, used round-robin. */
  templates: readonly string[];
}

/** The template with `%d` replaced by `n`. */
export function fillTemplate(template: string, n: number): string {
  return template.replace('%d', String(n));
}

/** mulberry32: small, seeded, good enough to shuffle versions. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const int = (rnd: Random, min: number, max: number): number => min + Math.floor(rnd() * (max - min + 1));
const pick = <T>(rnd: Random, values: readonly T[]): T => values[Math.floor(rnd() * values.length)] as T;

const WINDOWS = ['Windows NT 10.0; Win64; x64', 'Windows NT 10.0', 'Windows NT 6.1; Win64; x64', 'Windows NT 6.3; WOW64'];
const MAC = ['10_15_7', '10_14_6', '13_6_4', '14_4_1'];
const ANDROID_MODELS = ['K', 'SM-S918B', 'Pixel 8', 'SM-A536B', 'Redmi Note 8 Pro', 'SAMSUNG SM-G991B', 'CPH2451', 'moto g power (2022)'];
const DESKTOP = (rnd: Random): string => pick(rnd, [...WINDOWS, `Macintosh; Intel Mac OS X ${pick(rnd, MAC)}`, 'X11; Linux x86_64']);
const ANDROID = (rnd: Random): string => `Linux; Android ${int(rnd, 10, 15)}; ${pick(rnd, ANDROID_MODELS)}`;
const IOS = (rnd: Random): [platform: string, major: number] => {
  const major = int(rnd, 15, 18);
  const minor = int(rnd, 0, 6);
  const device = pick(rnd, ['iPhone; CPU iPhone OS', 'iPad; CPU OS', 'iPhone; CPU iPhone OS']);
  return [`${device} ${major}_${minor} like Mac OS X`, major];
};
const chromeVersion = (rnd: Random, build: string): string => `${int(rnd, 100, 131)}.0.${build}.${int(rnd, 0, 200)}`;

/**
 * Current mainstream browsers as they send their user agents, with shuffled modern versions and
 * `%d` in a build or patch number.
 */
const REAL_WORLD: readonly ((rnd: Random) => string)[] = [
  (r) => `Mozilla/5.0 (${DESKTOP(r)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r, '%d')} Safari/537.36`,
  (r) => `Mozilla/5.0 (${ANDROID(r)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r, '%d')} Mobile Safari/537.36`,
  (r) => `Mozilla/5.0 (${ANDROID(r)}; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/${chromeVersion(r, '%d')} Mobile Safari/537.36`,
  (r) => `Mozilla/5.0 (${pick(r, WINDOWS)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r, '0')} Safari/537.36 Edg/${int(r, 100, 131)}.0.%d.${int(r, 0, 99)}`,
  (r) => `Mozilla/5.0 (${ANDROID(r)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r, '0')} Mobile Safari/537.36 EdgA/${int(r, 100, 131)}.0.%d.${int(r, 0, 99)}`,
  (r) => `Mozilla/5.0 (${ANDROID(r)}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/${int(r, 20, 26)}.%d Chrome/${chromeVersion(r, '0')} Mobile Safari/537.36`,
  (r) => `Mozilla/5.0 (${pick(r, WINDOWS)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r, '0')} Safari/537.36 OPR/${int(r, 90, 115)}.0.%d.${int(r, 0, 99)}`,
  (r) => `Mozilla/5.0 (${ANDROID(r)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeVersion(r, '0')} Mobile Safari/537.36 OPR/${int(r, 70, 85)}.%d.0`,
  (r) => {
    const v = int(r, 100, 133);
    const platform = pick(r, ['Windows NT 10.0; Win64; x64', `Macintosh; Intel Mac OS X 10.${int(r, 13, 15)}`, 'X11; Linux x86_64']);
    return `Mozilla/5.0 (${platform}; rv:${v}.0) Gecko/20100101 Firefox/${v}.%d`;
  },
  (r) => {
    const v = int(r, 100, 133);
    return `Mozilla/5.0 (Android ${int(r, 10, 15)}; ${pick(r, ['Mobile', 'Tablet'])}; rv:${v}.0) Gecko/${v}.0 Firefox/${v}.%d`;
  },
  (r) => `Mozilla/5.0 (Macintosh; Intel Mac OS X ${pick(r, MAC)}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${int(r, 15, 18)}.%d Safari/605.1.15`,
  (r) => {
    const [platform, major] = IOS(r);
    return `Mozilla/5.0 (${platform}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${major}.%d Mobile/15E148 Safari/604.1`;
  },
  (r) => `Mozilla/5.0 (${IOS(r)[0]}) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${chromeVersion(r, '%d')} Mobile/15E148 Safari/604.1`,
  (r) => `Mozilla/5.0 (${IOS(r)[0]}) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/${int(r, 100, 133)}.%d Mobile/15E148 Safari/605.1.15`,
  (r) => {
    const [platform, major] = IOS(r);
    return `Mozilla/5.0 (${platform}) AppleWebKit/605.1.15 (KHTML, like Gecko) EdgiOS/${int(r, 100, 131)}.0.%d.${int(r, 0, 99)} Version/${major}.0 Mobile/15E148 Safari/604.1`;
  },
];

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

// Names apps and extensions put in their user agents: none of them names a browser, an OS or a bot.
const APP_TOKENS = ['build', 'MyApp', 'Mattermost', 'AppId', 'NetType', 'Language', 'Channel', 'Theme', 'Locale', 'Device', 'Model', 'Process', 'Plugin', 'Release', 'Region', 'Profile', 'Trace'];

function templates(count: number, seed: number, make: (rnd: Random, i: number) => string): string[] {
  const rnd = random(seed);
  return Array.from({ length: count }, (_, i) => make(rnd, i));
}

/** Pads with app tokens to a length in [min, max] once `%d` is filled in (the load generator's numbers have 9 digits). */
function padded(rnd: Random, base: string, min: number, max: number): string {
  const target = int(rnd, min, max) - 7;
  let userAgent = base;
  for (;;) {
    const token = ` ${pick(rnd, APP_TOKENS)}/${int(rnd, 1, 99)}.${int(rnd, 0, 9)}`;
    if (userAgent.length + token.length + 4 > target) break;
    userAgent += token;
  }
  const rest = target - userAgent.length;
  return rest >= 4 ? `${userAgent} v/${'1'.repeat(rest - 3)}` : userAgent;
}

function randomCase(rnd: Random, template: string): string {
  const flip = (text: string): string => Array.from(text, (char) => (rnd() < 0.5 ? char.toLowerCase() : char.toUpperCase())).join('');
  return template.split('%d').map(flip).join('%d');
}

/** The shapes of scenario 2, in table order. */
export function userAgentShapes(): UserAgentShape[] {
  return [
    {
      id: 'chrome',
      title: 'modern Chrome, new build number (Chrome/131.0.N.0)',
      modern: true,
      templates: [CHROME.replace('131.0.0.0', '131.0.%d.0')],
    },
    {
      id: 'token-after',
      title: 'modern Chrome + one token after it (… Safari/537.36 build/N)',
      modern: true,
      templates: [`${CHROME} build/%d`],
    },
    {
      id: 'token-before',
      title: 'modern browsers + an app token before the product token (… App/N Chrome/…)',
      modern: true,
      templates: templates(64, 2, (r) =>
        pick(r, [
          `Mozilla/5.0 (${DESKTOP(r)}) AppleWebKit/537.36 (KHTML, like Gecko) ${pick(r, APP_TOKENS)}/%d Chrome/${chromeVersion(r, '0')} Safari/537.36`,
          `Mozilla/5.0 (${ANDROID(r)}) AppleWebKit/537.36 (KHTML, like Gecko) ${pick(r, APP_TOKENS)}/%d Chrome/${chromeVersion(r, '0')} Mobile Safari/537.36`,
          `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 ${pick(r, APP_TOKENS)}/%d Firefox/125.0`,
        ]),
      ),
    },
    {
      id: 'real-world',
      title: 'real-world browsers, shuffled versions (Chrome, Edge, Firefox, Safari, Samsung, Opera, webview, iOS)',
      modern: true,
      templates: templates(512, 3, (r, i) => (REAL_WORLD[i % REAL_WORLD.length] as (rnd: Random) => string)(r)),
    },
    {
      id: 'random-case',
      title: 'the real-world user agents in random letter case',
      modern: true,
      templates: templates(512, 4, (r, i) => randomCase(r, (REAL_WORLD[i % REAL_WORLD.length] as (rnd: Random) => string)(r))),
    },
    {
      id: 'long',
      title: 'real-world browsers padded with app tokens to 490-512 characters',
      modern: true,
      templates: templates(256, 5, (r, i) => padded(r, (REAL_WORLD[i % REAL_WORLD.length] as (rnd: Random) => string)(r), 490, 512)),
    },
    {
      id: 'full-parser',
      title: 'real-world browsers + a token that sends them to ua-parser-js (Version/N, Electron/N…): the full parser, a cache miss every time',
      modern: false,
      templates: templates(512, 6, (r, i) => {
        const userAgent = (REAL_WORLD[i % REAL_WORLD.length] as (rnd: Random) => string)(r).replace('%d', String(int(r, 1, 9999)));
        return `${userAgent} ${pick(r, ['Version', 'Electron', 'Instagram', 'Windows', 'Chromium', 'YaBrowser'])}/%d`;
      }),
    },
    {
      id: 'unknown',
      title: 'unknown product (Foo/N): the full parser, a cache miss every time',
      modern: false,
      templates: ['Mozilla/5.0 (X11; Linux) Foo/%d'],
    },
  ];
}
