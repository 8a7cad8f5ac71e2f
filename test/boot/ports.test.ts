/** The in-memory fakes meet the port contracts the ROM relies on (the same suites will run on the SoC adapters). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCounters, MemoryFlash, MemoryOtp, MemorySecurityControllers } from './fakes.js';
import {
  checkFlashMedium,
  checkMonotonicCounters,
  checkRootOfTrust,
  checkSecurityConfigurator,
} from './port-conformance.js';
import { policy, rootKeyHash } from './images.js';

test('MemoryFlash is a FlashMedium', () => checkFlashMedium(new MemoryFlash(16 * 1024, 4096)));
test('MemoryCounters are MonotonicCounters', () => checkMonotonicCounters(new MemoryCounters(4)));
test('MemoryOtp is a RootOfTrust', () => checkRootOfTrust(new MemoryOtp(rootKeyHash)));
test('MemorySecurityControllers are a SecurityConfigurator', () =>
  checkSecurityConfigurator(new MemorySecurityControllers([]), policy.security));

test('the conformance suites catch a broken implementation', () => {
  const counters = new MemoryCounters(4);
  counters.advanceTo = (i, v) => void (counters.values[i] = v); // lets a counter go back
  assert.throws(() => checkMonotonicCounters(counters), /never goes back/);
  const controllers = new MemorySecurityControllers([]);
  controllers.faulty = 'lock-does-not-stick';
  assert.throws(() => checkSecurityConfigurator(controllers, policy.security));
  const flash = new MemoryFlash(16 * 1024, 4096);
  flash.read = (offset, length) => flash.bytes.subarray(offset, offset + length); // a live view, not a copy
  assert.throws(() => checkFlashMedium(flash), /copy/);
  const otp = new MemoryOtp(rootKeyHash);
  otp.rotpkHash = () => otp.hash;
  assert.throws(() => checkRootOfTrust(otp), /copy/);
});
