/**
 * One-time-programmable fuse array. Programming only sets bits (a blown fuse stays blown), so a word can
 * only move towards all-ones; the LOCK fuse freezes the whole array. Fields:
 *   - ROTPK hash (32 bytes): SHA-256 of the root-of-trust public key, the only thing the boot ROM trusts;
 *   - hardware unique key (HUK, 32 bytes): fused at manufacture (derived from the machine seed), never
 *     programmable, readable by the secure world only — a non-secure read faults even if the TZPC has
 *     been misconfigured to make this peripheral non-secure;
 *   - 16 general-purpose words (e.g. secure-boot enable, debug disable);
 *   - CHIP_ID, a per-chip serial fused at manufacture.
 * A board may provision the ROTPK hash at manufacture (its `rotpkHash`): the factory fuses it and blows
 * the lock fuse before the chip leaves the factory, so the machine is built with it in place.
 * Programming and locking are secure-world operations. The array is non-volatile: it survives reset.
 *
 * Register map (words are little-endian slices of the byte fields):
 *   0x000 STATUS          R: bit 0 LOCKED.
 *   0x004 LOCK            W (secure): non-zero blows the lock fuse.
 *   0x010 CHIP_ID         R.
 *   0x100 + 4·i ROTPK[i]  R; W (secure, unlocked): OR into word i (i < 8).
 *   0x200 + 4·i HUK[i]    R (secure only) (i < 8).
 *   0x300 + 4·i GP[i]     R; W (secure, unlocked): OR into word i (i < 16).
 */
import { createHash } from 'node:crypto';
import { assert } from '../../common/errors.js';
import { DONE, denied, fromHex, setWord, toHex, value, wordOf } from '../device.js';
import type { Access, DeviceContext, Json, MmioDevice, MmioRead, MmioWrite } from '../device.js';

export const GP_WORDS = 16;

export interface OtpSnapshot {
  readonly rotpkHash: string;
  readonly huk: string;
  readonly gp: readonly number[];
  readonly chipId: number;
  readonly locked: boolean;
  readonly [key: string]: Json;
}

export class OtpFuses implements MmioDevice<OtpSnapshot> {
  readonly kind = 'otp-fuses';
  readonly windowSize = 0x1000;
  private rotpk: Uint8Array = new Uint8Array(32);
  private huk: Uint8Array;
  private gp: number[] = new Array<number>(GP_WORDS).fill(0);
  private chipId: number;
  private locked = false;

  /**
   * `manufactureSeed` identifies this chip's silicon: its HUK and chip id derive from it. `provisioned`
   * (hex) is the ROTPK hash the factory fuses, after which it locks the array.
   */
  constructor(
    readonly name: string,
    manufactureSeed: string,
    private readonly ctx: DeviceContext,
    provisioned?: { readonly rotpkHash: string },
  ) {
    this.huk = new Uint8Array(createHash('sha256').update(`rampart-huk\0${manufactureSeed}`).digest());
    this.chipId = createHash('sha256').update(`rampart-chip-id\0${manufactureSeed}`).digest().readUInt32LE(0);
    if (provisioned) {
      assert(/^[0-9a-f]{64}$/.test(provisioned.rotpkHash), 'a ROTPK hash is 64 lower-case hex digits');
      this.rotpk = fromHex(provisioned.rotpkHash);
      this.locked = true;
    }
  }

  get isLocked(): boolean {
    return this.locked;
  }

  /** Host view of the ROTPK hash fuses (for reports and the boot ROM model). */
  rotpkHash(): Uint8Array {
    return this.rotpk.slice();
  }

  /** Fuses survive reset. */
  reset(): void {}

  readRegister(offset: number, a: Access): MmioRead {
    if (offset === 0x000) return value(this.locked ? 1 : 0);
    if (offset === 0x010) return value(this.chipId);
    const field = fieldAt(offset);
    if (!field) return denied(`no OTP register at 0x${offset.toString(16)}`);
    switch (field.name) {
      case 'rotpk':
        return value(wordOf(this.rotpk, field.index));
      case 'huk':
        if (a.world !== 'secure')
          return denied('the hardware unique key is readable by the secure world only');
        return value(wordOf(this.huk, field.index));
      case 'gp':
        return value(this.gp[field.index] as number);
    }
  }

  writeRegister(offset: number, v: number, a: Access): MmioWrite {
    if (a.world !== 'secure') return denied('fuses are programmed by the secure world only');
    if (offset === 0x004) {
      if (v !== 0 && !this.locked) {
        this.locked = true;
        this.ctx.record('otp.lock', null);
      }
      return DONE;
    }
    const field = fieldAt(offset);
    if (!field || field.name === 'huk') return denied(`no programmable fuse at 0x${offset.toString(16)}`);
    if (this.locked) return denied('fuse array is locked');
    if (field.name === 'rotpk') {
      const next = (wordOf(this.rotpk, field.index) | v) >>> 0;
      setWord(this.rotpk, field.index, next);
      this.ctx.record('otp.program', { field: 'rotpk', index: field.index, word: next });
    } else {
      const next = ((this.gp[field.index] as number) | v) >>> 0;
      this.gp[field.index] = next;
      this.ctx.record('otp.program', { field: 'gp', index: field.index, word: next });
    }
    return DONE;
  }

  snapshot(): OtpSnapshot {
    return {
      rotpkHash: toHex(this.rotpk),
      huk: toHex(this.huk),
      gp: [...this.gp],
      chipId: this.chipId,
      locked: this.locked,
    };
  }

  restore(s: OtpSnapshot): void {
    assert(s.gp.length === GP_WORDS, 'OTP snapshot has the wrong number of GP words');
    this.rotpk = fromHex(s.rotpkHash);
    this.huk = fromHex(s.huk);
    this.gp = [...s.gp];
    this.chipId = s.chipId;
    this.locked = s.locked;
  }
}

function fieldAt(offset: number): { name: 'rotpk' | 'huk' | 'gp'; index: number } | undefined {
  const index = (offset & 0xff) / 4;
  if (offset >= 0x100 && offset < 0x120) return { name: 'rotpk', index };
  if (offset >= 0x200 && offset < 0x220) return { name: 'huk', index };
  if (offset >= 0x300 && offset < 0x300 + 4 * GP_WORDS) return { name: 'gp', index };
  return undefined;
}
