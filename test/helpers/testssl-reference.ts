import { readFileSync } from 'node:fs';

/**
 * What `ALL_CLIENTS=true testssl -c` (testssl.sh 3.0.8) reported against a plain Node 20.20.2 server
 * (`minVersion: 'TLSv1'`, `DEFAULT:@SECLEVEL=0`, RSA-2048 self-signed), copied from the project's shared
 * reference data: per client, testssl's `highest_protocol` and its finding ("TLSv1.2 ECDHE-RSA-…" or
 * "No connection").
 */
export interface ReferenceResult {
  id: string;
  name: string;
  highestOffered: number;
  finding: string;
}

export function readReferenceResults(): Map<string, ReferenceResult> {
  const text = readFileSync(new URL('../fixtures/testssl-clients-results.tsv', import.meta.url), 'utf8');
  const [header, ...lines] = text.trim().split('\n');
  if (header !== 'short\tname\thighest_offered\ttestssl_finding') throw new Error(`unexpected reference header: ${header}`);
  return new Map(
    lines.map((line) => {
      const [id = '', name = '', highest = '', finding = ''] = line.split('\t');
      return [id, { id, name, highestOffered: Number.parseInt(highest, 16), finding }];
    }),
  );
}
