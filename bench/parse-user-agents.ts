/**
 * In-process cost of `parseUserAgent` per request-stream shape of scenario 2 (user-agent-shapes.ts):
 * every parse gets a user agent it has never seen, as under the load generator, so nothing is served
 * from the cache. Prints a Markdown table: CPU µs per parse (this process's user + system time, so a
 * busy machine inflates it less than wall-clock time; median of the rounds) and how many of the
 * stream's user agents the fast path answered.
 *
 *   npx tsx bench/parse-user-agents.ts            # BENCH_PARSE_COUNT=20000 BENCH_PARSE_ROUNDS=7
 */
import { parseModernBrowser, parseUserAgent } from '../src/classify/user-agent.js';
import { median } from './report.js';
import { fillTemplate, userAgentShapes } from './user-agent-shapes.js';

const count = Number(process.env.BENCH_PARSE_COUNT ?? 20_000);
const rounds = Number(process.env.BENCH_PARSE_ROUNDS ?? 7);
// Numbers like the load generator's (9 digits), and never the same twice in a run.
let next = 100_000_000;

const cpuMicroseconds = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const lines = ['| Shape | CPU µs per parse | fast path | length |', '| --- | ---: | ---: | ---: |'];
for (const shape of userAgentShapes()) {
  const batch = (): string[] => Array.from({ length: count }, (_, i) => fillTemplate(shape.templates[i % shape.templates.length] as string, next++));
  const timings: number[] = [];
  let sink = 0;
  // One unmeasured round first: JIT warm-up.
  for (let round = 0; round <= rounds; round++) {
    const userAgents = batch();
    const started = cpuMicroseconds();
    for (const userAgent of userAgents) sink += parseUserAgent(userAgent).kind.length;
    if (round > 0) timings.push((cpuMicroseconds() - started) / count);
  }
  const sample = batch();
  const fast = sample.filter((userAgent) => parseModernBrowser(userAgent.slice(0, 512).trim()) !== null).length;
  const lengths = sample.map((userAgent) => userAgent.length);
  lines.push(
    `| ${shape.id} | ${median(timings).toFixed(2)} | ${((fast / count) * 100).toFixed(0)} % | ${Math.min(...lengths)}–${Math.max(...lengths)} |`,
  );
  if (sink === 0) console.error('unreachable: keeps the loop from being optimised away');
}
console.log(`${count} new user agents per round, median of ${rounds} rounds, Node ${process.version}\n`);
console.log(lines.join('\n'));
