/** The recorded iptables-save vectors are re-checked against the installed iptables-nft. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { packagePath } from '../../src/common/paths.js';
import { labUnavailable } from './kernel-lab.js';

function unavailable(): string | undefined {
  const lab = labUnavailable();
  if (lab) return lab;
  const v = spawnSync('iptables-nft', ['-V'], { encoding: 'utf8' }).stdout.trim();
  if (!v.includes('v1.8.9'))
    return `vectors were recorded with iptables v1.8.9 (nf_tables); installed: ${v || 'none'}`;
  return undefined;
}

test('save-vectors.txt is still what the installed iptables-nft prints', { skip: unavailable() }, () => {
  const r = spawnSync(
    packagePath('test/netfilter/probe-iptables.sh'),
    [packagePath('test/fixtures/netfilter/save-vectors.input')],
    { encoding: 'utf8', maxBuffer: 16 << 20 },
  );
  assert.equal(r.status, 0, r.stderr);
  const body = (text: string) => text.split('\n').filter((l) => !l.startsWith('#'));
  const recorded = readFileSync(packagePath('test/fixtures/netfilter/save-vectors.txt'), 'utf8');
  assert.deepEqual(body(r.stdout), body(recorded));
});
