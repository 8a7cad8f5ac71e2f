/**
 * Packet capture files: classic libpcap and pcapng, read and write.
 *
 * Formats: draft-ietf-opsawg-pcap (libpcap file format) and draft-ietf-opsawg-pcapng (PCAP Next
 * Generation). Timestamps are carried as integer nanoseconds since the Unix epoch (`bigint`), whatever
 * the file's own resolution. Readers accept both byte orders, microsecond and nanosecond pcap, and any
 * pcapng timestamp resolution; malformed files throw an `InputError` naming the byte offset.
 */
import { InputError, assert } from '../../common/errors.js';

/** Link-layer header types (tcpdump.org/linktypes.html). */
export const LinkType = {
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
} as const;

/** One captured frame as an emulated tap produces it: `timeNs` is nanoseconds since the Unix epoch. */
export interface TapRecord {
  readonly timeNs: bigint | number;
  readonly frame: Uint8Array;
}

/** One record read from a capture file. */
export interface CaptureRecord {
  readonly timeNs: bigint;
  /** The captured bytes (possibly fewer than `originalLength` when the capture was truncated by snaplen). */
  readonly frame: Uint8Array;
  readonly originalLength: number;
  /** Index into `Capture.interfaces` (always 0 for classic pcap). */
  readonly interfaceIndex: number;
  /** Byte offset of the record (pcap record header / pcapng block) in the file. */
  readonly offset: number;
}

export interface CaptureInterface {
  readonly linkType: number;
  readonly snapLength: number;
  readonly name?: string;
  /** Timestamp units per second in the file (1e6 for µs pcap, 1e9 for ns, any for pcapng). */
  readonly ticksPerSecond: bigint;
}

export interface Capture {
  readonly format: 'pcap' | 'pcapng';
  readonly littleEndian: boolean;
  readonly interfaces: readonly CaptureInterface[];
  readonly records: readonly CaptureRecord[];
}

export interface PcapWriteOptions {
  /** Link type of every frame; default Ethernet (1). */
  readonly linkType?: number;
  readonly snapLength?: number;
  /** Timestamp resolution of the file; default nanoseconds. */
  readonly resolution?: 'ns' | 'us';
}

export interface PcapngInterfaceOptions {
  readonly linkType: number;
  readonly name?: string;
  readonly snapLength?: number;
}

export interface PcapngRecord extends TapRecord {
  /** Index into the interfaces given to the writer; default 0. */
  readonly interfaceIndex?: number;
}

export interface PcapngWriteOptions {
  /** Default: one Ethernet interface. */
  readonly interfaces?: readonly PcapngInterfaceOptions[];
  /** Written as the section header's shb_userappl option. */
  readonly application?: string;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 0x00000001;
const BLOCK_OBSOLETE_PACKET = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const OPT_END = 0;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const OPT_SHB_USERAPPL = 4;
const DEFAULT_SNAPLEN = 262144;
/** Largest record we accept; libpcap's own ceiling for any link type. */
const MAX_RECORD = 0x4000000;
const NS_PER_S = 1_000_000_000n;

/** Reads a pcap or pcapng file, recognised by its magic number. */
export function readCapture(bytes: Uint8Array, file?: string): Capture {
  if (bytes.length < 4) throw bad('PCAP_TRUNCATED', 'file too short for a capture header', 0, file);
  const view = viewOf(bytes);
  const magic = view.getUint32(0, false);
  if (magic === PCAPNG_SHB) return readPcapng(bytes, file);
  return readPcap(bytes, file);
}

/** Reads a classic libpcap file (µs or ns magic, either byte order). */
export function readPcap(bytes: Uint8Array, file?: string): Capture {
  const view = viewOf(bytes);
  if (bytes.length < 24) throw bad('PCAP_TRUNCATED', 'file too short for the 24-byte pcap header', 0, file);
  let little: boolean;
  let ticksPerSecond: bigint;
  const magicLE = view.getUint32(0, true);
  const magicBE = view.getUint32(0, false);
  if (magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS) {
    little = true;
    ticksPerSecond = magicLE === PCAP_MAGIC_NS ? NS_PER_S : 1_000_000n;
  } else if (magicBE === PCAP_MAGIC_US || magicBE === PCAP_MAGIC_NS) {
    little = false;
    ticksPerSecond = magicBE === PCAP_MAGIC_NS ? NS_PER_S : 1_000_000n;
  } else {
    throw bad('PCAP_BAD_MAGIC', `not a pcap file (magic 0x${hex32(magicBE)})`, 0, file);
  }
  const major = view.getUint16(4, little);
  if (major !== 2) throw bad('PCAP_BAD_VERSION', `unsupported pcap version ${major}`, 4, file);
  const snapLength = view.getUint32(16, little);
  if (snapLength === 0) throw bad('PCAP_BAD_HEADER', 'snaplen 0', 16, file);
  // The upper bits of the link-type field carry FCS information (pcap draft §4); the type is the low 16 bits.
  const linkType = view.getUint32(20, little) & 0xffff;
  const records: CaptureRecord[] = [];
  let off = 24;
  while (off < bytes.length) {
    if (bytes.length - off < 16)
      throw bad('PCAP_TRUNCATED', `record header needs 16 bytes, ${bytes.length - off} left`, off, file);
    const sec = view.getUint32(off, little);
    const frac = view.getUint32(off + 4, little);
    const capLen = view.getUint32(off + 8, little);
    const origLen = view.getUint32(off + 12, little);
    if (BigInt(frac) >= ticksPerSecond)
      throw bad('PCAP_BAD_RECORD', `sub-second timestamp ${frac} out of range`, off + 4, file);
    if (capLen > MAX_RECORD)
      throw bad('PCAP_BAD_RECORD', `captured length ${capLen} exceeds ${MAX_RECORD}`, off + 8, file);
    if (capLen > snapLength)
      throw bad(
        'PCAP_BAD_RECORD',
        `captured length ${capLen} exceeds the snaplen ${snapLength}`,
        off + 8,
        file,
      );
    if (bytes.length - off - 16 < capLen)
      throw bad(
        'PCAP_TRUNCATED',
        `record data needs ${capLen} bytes, ${bytes.length - off - 16} left`,
        off + 16,
        file,
      );
    const timeNs = BigInt(sec) * NS_PER_S + (BigInt(frac) * NS_PER_S) / ticksPerSecond;
    records.push({
      timeNs,
      frame: bytes.slice(off + 16, off + 16 + capLen),
      originalLength: Math.max(origLen, capLen),
      interfaceIndex: 0,
      offset: off,
    });
    off += 16 + capLen;
  }
  return {
    format: 'pcap',
    littleEndian: little,
    interfaces: [{ linkType, snapLength, ticksPerSecond }],
    records,
  };
}

/** Reads a pcapng file: every section, interface description and packet block; other blocks are skipped. */
export function readPcapng(bytes: Uint8Array, file?: string): Capture {
  const view = viewOf(bytes);
  const interfaces: CaptureInterface[] = [];
  /** Per section: global interface index of the section's interface ids, and their time offsets. */
  let sectionIfaces: { index: number; ticks: bigint; offsetS: bigint }[] = [];
  const records: CaptureRecord[] = [];
  let little = true;
  let firstLittle: boolean | undefined;
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < 12)
      throw bad('PCAPNG_TRUNCATED', `block header needs 12 bytes, ${bytes.length - off} left`, off, file);
    const typeRaw = view.getUint32(off, false);
    if (typeRaw === PCAPNG_SHB) {
      if (bytes.length - off < 28)
        throw bad('PCAPNG_TRUNCATED', 'section header block needs 28 bytes', off, file);
      const bom = view.getUint32(off + 8, true);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) little = true;
      else if (view.getUint32(off + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) little = false;
      else throw bad('PCAPNG_BAD_MAGIC', `bad byte-order magic 0x${hex32(bom)}`, off + 8, file);
      firstLittle ??= little;
      const major = view.getUint16(off + 12, little);
      if (major !== 1) throw bad('PCAPNG_BAD_VERSION', `unsupported pcapng version ${major}`, off + 12, file);
      sectionIfaces = [];
    } else if (off === 0) {
      throw bad('PCAPNG_BAD_MAGIC', 'a pcapng file starts with a section header block', 0, file);
    }
    const type = view.getUint32(off, little);
    const total = view.getUint32(off + 4, little);
    if (total < 12 || total % 4 !== 0)
      throw bad(
        'PCAPNG_BAD_BLOCK',
        `block length ${total} is not a multiple of 4 of at least 12`,
        off + 4,
        file,
      );
    if (total > bytes.length - off)
      throw bad('PCAPNG_TRUNCATED', `block length ${total} runs past the end of the file`, off + 4, file);
    const trailer = view.getUint32(off + total - 4, little);
    if (trailer !== total)
      throw bad(
        'PCAPNG_BAD_BLOCK',
        `trailing block length ${trailer} differs from leading ${total}`,
        off + total - 4,
        file,
      );
    const body = off + 8;
    const bodyEnd = off + total - 4;
    switch (type) {
      case PCAPNG_SHB:
        break;
      case BLOCK_IDB: {
        if (bodyEnd - body < 8)
          throw bad('PCAPNG_BAD_BLOCK', 'interface description block too short', off, file);
        const linkType = view.getUint16(body, little);
        const snapLength = view.getUint32(body + 4, little);
        let ticks = 1_000_000n;
        let offsetS = 0n;
        let name: string | undefined;
        for (const opt of options(view, body + 8, bodyEnd, little, file)) {
          if (opt.code === OPT_IF_TSRESOL) {
            if (opt.length !== 1) throw bad('PCAPNG_BAD_OPTION', 'if_tsresol must be 1 byte', opt.at, file);
            const r = bytes[opt.value] ?? 0;
            const exp = BigInt(r & 0x7f);
            if ((r & 0x80 ? exp : exp * 4n) > 64n)
              throw bad('PCAPNG_BAD_OPTION', `if_tsresol ${r} is out of range`, opt.value, file);
            ticks = r & 0x80 ? 1n << exp : 10n ** exp;
          } else if (opt.code === OPT_IF_TSOFFSET) {
            if (opt.length !== 8) throw bad('PCAPNG_BAD_OPTION', 'if_tsoffset must be 8 bytes', opt.at, file);
            offsetS = view.getBigInt64(opt.value, little);
          } else if (opt.code === OPT_IF_NAME) {
            name = new TextDecoder().decode(bytes.subarray(opt.value, opt.value + opt.length));
          }
        }
        sectionIfaces.push({ index: interfaces.length, ticks, offsetS });
        interfaces.push(
          name === undefined
            ? { linkType, snapLength, ticksPerSecond: ticks }
            : { linkType, snapLength, name, ticksPerSecond: ticks },
        );
        break;
      }
      case BLOCK_EPB:
      case BLOCK_OBSOLETE_PACKET: {
        if (bodyEnd - body < 20) throw bad('PCAPNG_BAD_BLOCK', 'packet block too short', off, file);
        const ifId = type === BLOCK_EPB ? view.getUint32(body, little) : view.getUint16(body, little);
        const iface = sectionIfaces[ifId];
        if (!iface)
          throw bad('PCAPNG_BAD_BLOCK', `packet names interface ${ifId}, which is not described`, body, file);
        const ts =
          (BigInt(view.getUint32(body + 4, little)) << 32n) | BigInt(view.getUint32(body + 8, little));
        const capLen = view.getUint32(body + 12, little);
        const origLen = view.getUint32(body + 16, little);
        if (capLen > bodyEnd - body - 20)
          throw bad('PCAPNG_BAD_BLOCK', `captured length ${capLen} exceeds the block`, body + 12, file);
        // An interface's snaplen of 0 means no limit (pcapng draft §4.2); a record never exceeds a set one.
        const snap = interfaces[iface.index]?.snapLength ?? 0;
        if (snap !== 0 && capLen > snap)
          throw bad(
            'PCAPNG_BAD_BLOCK',
            `captured length ${capLen} exceeds the interface's snaplen ${snap}`,
            body + 12,
            file,
          );
        if (capLen > MAX_RECORD)
          throw bad('PCAPNG_BAD_BLOCK', `captured length ${capLen} exceeds ${MAX_RECORD}`, body + 12, file);
        records.push({
          timeNs: iface.offsetS * NS_PER_S + (ts * NS_PER_S) / iface.ticks,
          frame: bytes.slice(body + 20, body + 20 + capLen),
          originalLength: Math.max(origLen, capLen),
          interfaceIndex: iface.index,
          offset: off,
        });
        break;
      }
      case BLOCK_SPB: {
        if (bodyEnd - body < 4) throw bad('PCAPNG_BAD_BLOCK', 'simple packet block too short', off, file);
        const iface = sectionIfaces[0];
        if (!iface)
          throw bad('PCAPNG_BAD_BLOCK', 'simple packet block before any interface description', off, file);
        const origLen = view.getUint32(body, little);
        const snap = interfaces[iface.index]?.snapLength ?? 0;
        const capLen = Math.min(origLen, snap === 0 ? origLen : snap, bodyEnd - body - 4);
        records.push({
          timeNs: 0n,
          frame: bytes.slice(body + 4, body + 4 + capLen),
          originalLength: origLen,
          interfaceIndex: iface.index,
          offset: off,
        });
        break;
      }
      default:
        // Name resolution, statistics, custom and unknown blocks carry nothing a frame reader needs.
        break;
    }
    off += total;
  }
  return { format: 'pcapng', littleEndian: firstLittle ?? true, interfaces, records };
}

/** Writes a classic pcap file (little-endian, nanosecond magic unless `resolution: 'us'`). */
export function writePcap(records: Iterable<TapRecord>, options: PcapWriteOptions = {}): Uint8Array {
  const writer = new PcapWriter(options);
  for (const r of records) writer.add(r);
  return writer.finish();
}

/** Incremental pcap writer, for taps that produce frames one at a time. */
export class PcapWriter {
  private readonly chunks: Uint8Array[] = [];
  private readonly ns: boolean;
  private readonly snapLength: number;
  private size = 0;

  constructor(options: PcapWriteOptions = {}) {
    this.ns = (options.resolution ?? 'ns') === 'ns';
    this.snapLength = options.snapLength ?? DEFAULT_SNAPLEN;
    const linkType = options.linkType ?? LinkType.ETHERNET;
    assert(Number.isInteger(linkType) && linkType >= 0 && linkType <= 0xffff, `bad link type ${linkType}`);
    const header = new Uint8Array(24);
    const v = viewOf(header);
    v.setUint32(0, this.ns ? PCAP_MAGIC_NS : PCAP_MAGIC_US, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, this.snapLength, true);
    v.setUint32(20, linkType, true);
    this.push(header);
  }

  add(record: TapRecord): void {
    const ns = toNs(record.timeNs);
    const sec = ns / NS_PER_S;
    assert(sec <= 0xffffffffn, `timestamp ${ns} ns does not fit a pcap record`);
    const frac = this.ns ? ns % NS_PER_S : (ns % NS_PER_S) / 1000n;
    const capLen = Math.min(record.frame.length, this.snapLength);
    const header = new Uint8Array(16);
    const v = viewOf(header);
    v.setUint32(0, Number(sec), true);
    v.setUint32(4, Number(frac), true);
    v.setUint32(8, capLen, true);
    v.setUint32(12, record.frame.length, true);
    this.push(header);
    this.push(record.frame.slice(0, capLen));
  }

  finish(): Uint8Array {
    return concat(this.chunks, this.size);
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }
}

/** Writes a pcapng file: one section, the given interfaces (ns resolution), one enhanced packet block each. */
export function writePcapng(records: Iterable<PcapngRecord>, options: PcapngWriteOptions = {}): Uint8Array {
  const writer = new PcapngWriter(options);
  for (const r of records) writer.add(r);
  return writer.finish();
}

/** Incremental pcapng writer. */
export class PcapngWriter {
  private readonly chunks: Uint8Array[] = [];
  private readonly interfaceCount: number;
  private size = 0;

  constructor(options: PcapngWriteOptions = {}) {
    const interfaces = options.interfaces ?? [{ linkType: LinkType.ETHERNET }];
    assert(interfaces.length > 0, 'pcapng writer needs at least one interface');
    this.interfaceCount = interfaces.length;
    const shbOpts: Uint8Array[] = [];
    if (options.application !== undefined)
      shbOpts.push(option(OPT_SHB_USERAPPL, new TextEncoder().encode(options.application)));
    const shbBody = new Uint8Array(16);
    const sv = viewOf(shbBody);
    sv.setUint32(0, PCAPNG_BYTE_ORDER_MAGIC, true);
    sv.setUint16(4, 1, true);
    sv.setUint16(6, 0, true);
    sv.setBigInt64(8, -1n, true); // section length not specified
    this.push(block(PCAPNG_SHB, [shbBody, ...endOptions(shbOpts)]));
    for (const iface of interfaces) {
      assert(iface.linkType >= 0 && iface.linkType <= 0xffff, `bad link type ${iface.linkType}`);
      const b = new Uint8Array(8);
      const v = viewOf(b);
      v.setUint16(0, iface.linkType, true);
      v.setUint32(4, iface.snapLength ?? 0, true);
      const opts = [option(OPT_IF_TSRESOL, Uint8Array.of(9))];
      if (iface.name !== undefined) opts.unshift(option(OPT_IF_NAME, new TextEncoder().encode(iface.name)));
      this.push(block(BLOCK_IDB, [b, ...endOptions(opts)]));
    }
  }

  add(record: PcapngRecord): void {
    const ifId = record.interfaceIndex ?? 0;
    assert(
      Number.isInteger(ifId) && ifId >= 0 && ifId < this.interfaceCount,
      `interface index ${ifId} not declared`,
    );
    const ns = toNs(record.timeNs);
    assert(ns < 1n << 64n, `timestamp ${ns} ns does not fit 64 bits`);
    const head = new Uint8Array(20);
    const v = viewOf(head);
    v.setUint32(0, ifId, true);
    v.setUint32(4, Number(ns >> 32n), true);
    v.setUint32(8, Number(ns & 0xffffffffn), true);
    v.setUint32(12, record.frame.length, true);
    v.setUint32(16, record.frame.length, true);
    this.push(block(BLOCK_EPB, [head, padded(record.frame)]));
  }

  finish(): Uint8Array {
    return concat(this.chunks, this.size);
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }
}

function toNs(t: bigint | number): bigint {
  if (typeof t === 'bigint') {
    assert(t >= 0n, `negative timestamp ${t}`);
    return t;
  }
  assert(Number.isFinite(t) && t >= 0, `bad timestamp ${t}`);
  // Sub-nanosecond fractions cannot be represented in any capture format.
  return BigInt(Math.floor(t));
}

interface RawOption {
  code: number;
  length: number;
  /** Offset of the option value. */
  value: number;
  /** Offset of the option header. */
  at: number;
}

function* options(
  view: DataView,
  start: number,
  end: number,
  little: boolean,
  file: string | undefined,
): Generator<RawOption> {
  let off = start;
  while (off + 4 <= end) {
    const code = view.getUint16(off, little);
    const length = view.getUint16(off + 2, little);
    if (code === OPT_END) return;
    const next = off + 4 + ((length + 3) & ~3);
    if (next > end)
      throw bad('PCAPNG_BAD_OPTION', `option ${code} of length ${length} overruns its block`, off, file);
    yield { code, length, value: off + 4, at: off };
    off = next;
  }
}

function option(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + ((value.length + 3) & ~3));
  const v = viewOf(out);
  v.setUint16(0, code, true);
  v.setUint16(2, value.length, true);
  out.set(value, 4);
  return out;
}

function endOptions(opts: Uint8Array[]): Uint8Array[] {
  return opts.length === 0 ? [] : [...opts, new Uint8Array(4)];
}

function padded(b: Uint8Array): Uint8Array {
  const out = new Uint8Array((b.length + 3) & ~3);
  out.set(b);
  return out;
}

function block(type: number, parts: Uint8Array[]): Uint8Array {
  const bodyLen = parts.reduce((n, p) => n + p.length, 0);
  const total = 12 + bodyLen;
  const out = new Uint8Array(total);
  const v = viewOf(out);
  v.setUint32(0, type, true);
  v.setUint32(4, total, true);
  let off = 8;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  v.setUint32(total - 4, total, true);
  return out;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function bad(code: string, detail: string, offset: number, file: string | undefined): InputError {
  return new InputError(code, detail, file === undefined ? { offset } : { file, offset });
}
