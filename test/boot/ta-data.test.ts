/**
 * `ta-data` components: a trusted application's signed data (the firewall's ruleset). Owned by an
 * application of the bundle, hash-checked and measured (PCR 1, after the application's code) before the
 * application starts, handed over with it; a tampered one stops the boot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseImage, type ComponentInput } from '../../src/boot/format.js';
import { PCR } from '../../src/boot/measured-boot.js';
import { coldBoot, type RunningOutcome } from '../../src/boot/rom.js';
import { signImage } from '../../src/boot/sign.js';
import { provisionDevice } from '../../src/boot/update.js';
import { buildRecipe, imagesAreCurrent, recipeInputsDigest } from '../../src/boot/recipe.js';
import { packagePath } from '../../src/common/paths.js';
import { memoryDevice } from './fakes.js';
import {
  bundleComponents,
  bundleSpec,
  ERASE_BLOCK,
  FLASH_SIZE,
  normalSpec,
  policy,
  rootKey,
  rootKeyHash,
} from './images.js';

const text = (s: string) => new TextEncoder().encode(s);
const rules: ComponentInput = { kind: 'ta-data', name: 'hello/rules.v4', bytes: text('*filter\nCOMMIT\n') };

function withData(components: ComponentInput[]) {
  return signImage({ ...bundleSpec(), components }, rootKey);
}

test('a ta-data component must name a trusted application of the bundle', () => {
  assert.equal(parseImage(withData([...bundleComponents(), rules])).ok, true);
  // The signer refuses to build such a bundle, and the parser refuses one built anyway.
  for (const name of ['nobody/rules.v4', 'hello', 'hello/', '/rules.v4'])
    assert.throws(
      () => withData([...bundleComponents(), { ...rules, name }]),
      /does not name a trusted application/,
    );
  const good = withData([...bundleComponents(), rules]);
  const at = Buffer.from(good).indexOf('hello/rules.v4');
  const forged = good.slice();
  forged.set(text('nobod'), at); // "nobod/rules.v4": no such application
  const r = parseImage(forged);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.fault.code, 'INVALID_BUNDLE');
  assert.throws(() => signImage({ ...normalSpec(), components: [rules] }, rootKey), /nw-code/);
});

test('the kernel measures a trusted application’s data after its code and hands it over with it', async () => {
  const d = memoryDevice({ rotpkHash: rootKeyHash, flashSize: FLASH_SIZE, eraseBlockSize: ERASE_BLOCK });
  provisionDevice(d.flash, policy.layout, {
    secureBundle: withData([...bundleComponents(), rules]),
    normalWorld: signImage(normalSpec(), rootKey),
  });
  d.powerCycle();
  const o = (await coldBoot(d, policy)) as RunningOutcome;
  assert.equal(o.status, 'running');
  const pcr1 = o.events.filter((e) => e.pcr === PCR.TRUSTED_APPLICATIONS).map((e) => e.name);
  assert.deepEqual(pcr1, [
    'ta-manifest:hello',
    'ta-code:hello',
    'ta-data:hello/rules.v4',
    'ta-manifest:storage',
    'ta-code:storage',
  ]);
  const hello = d.secureWorld.apps.find((a) => a.name === 'hello');
  assert.deepEqual(
    hello?.data.map((c) => [c.name, new TextDecoder().decode(c.bytes)]),
    [['hello/rules.v4', '*filter\nCOMMIT\n']],
  );
  assert.deepEqual(d.secureWorld.apps.find((a) => a.name === 'storage')?.data, []);
});

test('images built from other inputs than the recipe’s current ones are stale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-recipe-'));
  cpSync(packagePath('images', 'iot-gateway'), join(dir, 'images', 'iot-gateway'), { recursive: true });
  cpSync(packagePath('images', 'iot-gateway.yaml'), join(dir, 'images', 'iot-gateway.yaml'));
  cpSync(packagePath('dist', 'partitions'), join(dir, 'dist', 'partitions'), { recursive: true });
  const recipe = join(dir, 'images', 'iot-gateway.yaml');
  const out = join(dir, 'out');
  assert.equal(imagesAreCurrent(out, 'iot-gateway', recipe), false, 'nothing built yet');
  buildRecipe(recipe, out, 'iot-gateway');
  assert.equal(imagesAreCurrent(out, 'iot-gateway', recipe), true);
  const before = recipeInputsDigest(recipe);
  // A changed ruleset (a component's bytes) makes them stale; so does a changed recipe.
  writeFileSync(
    join(dir, 'images', 'iot-gateway', 'firewall.rules'),
    '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n',
  );
  assert.notEqual(recipeInputsDigest(recipe), before);
  assert.equal(imagesAreCurrent(out, 'iot-gateway', recipe), false);
  buildRecipe(recipe, out, 'iot-gateway');
  assert.equal(imagesAreCurrent(out, 'iot-gateway', recipe), true);
  writeFileSync(join(dir, 'dist', 'partitions', 'ta', 'firewall.js'), '/* another build */');
  assert.equal(imagesAreCurrent(out, 'iot-gateway', recipe), false);
});
