/**
 * Consistency rules of a board that a schema cannot state field by field: unique names, one interrupt
 * controller per chip and a TZASC/TZPC exactly on TrustZone chips, worlds declared exactly where they
 * mean something, no overlap in a chip's address map, each interrupt line used once, links that exist and
 * fit the device, SPI links with one master and one slave. Each problem names the field it is about.
 */
import {
  FABRIC_KINDS,
  LINK_OF,
  WINDOW_SIZE,
  type Board,
  type BootSpec,
  type ChipSpec,
  type DeviceSpec,
} from './schema.js';
import type { Issue } from '../../common/structured.js';
import { DIAG_ADDRESS } from '../../lib/can/vehicle-can.js';

export type BoardIssue = Issue;

const hex = (n: number) => `0x${n.toString(16)}`;

/** Limits of what is emulated: memories are allocated for real. */
export const MAX_REGION = 0x20000000;
export const MAX_CHIP_MEMORY = 0x40000000;

export function checkBoard(board: Board): BoardIssue[] {
  const issues: BoardIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path, message });

  unique(
    board.chips.map((c) => c.name),
    (i, n) => add(['chips', i, 'name'], `chip name '${n}' is used twice`),
  );
  unique(
    board.links.map((l) => l.name),
    (i, n) => add(['links', i, 'name'], `link name '${n}' is used twice`),
  );
  unique(
    board.nodes.map((n) => n.name),
    (i, n) => add(['nodes', i, 'name'], `node name '${n}' is used twice`),
  );

  board.chips.forEach((chip, c) => checkChip(chip, ['chips', c], add));

  // Links referenced by devices and nodes exist and are of the right kind.
  const links = new Map(board.links.map((l, i) => [l.name, { link: l, index: i }]));
  const users = new Map<string, { role?: string; chip?: string; path: (string | number)[] }[]>();
  const refer = (
    kind: string,
    link: string,
    path: (string | number)[],
    extra: { role?: string; chip?: string },
  ) => {
    const want = LINK_OF[kind as keyof typeof LINK_OF];
    const found = links.get(link);
    if (!found) return add([...path, 'link'], `no link named '${link}' (declare it under links)`);
    if (want && found.link.kind !== want)
      return add(
        [...path, 'link'],
        `link '${link}' is of kind ${found.link.kind}; a ${kind} needs a ${want}`,
      );
    const list = users.get(link) ?? [];
    list.push({ ...extra, path });
    users.set(link, list);
  };
  board.chips.forEach((chip, c) =>
    chip.devices.forEach((d, i) => {
      if ('link' in d)
        refer(d.kind, d.link, ['chips', c, 'devices', i], {
          chip: chip.name,
          ...('role' in d ? { role: d.role } : {}),
        });
    }),
  );
  board.nodes.forEach((n, i) => refer(n.kind, n.link, ['nodes', i], {}));

  board.links.forEach((l, i) => {
    if (l.kind !== 'spi-link') return;
    const ends = users.get(l.name) ?? [];
    const masters = ends.filter((e) => e.role === 'master');
    const slaves = ends.filter((e) => e.role === 'slave');
    if (masters.length !== 1 || slaves.length !== 1)
      add(
        ['links', i],
        `SPI link '${l.name}' needs exactly one master and one slave (has ${masters.length} and ${slaves.length})`,
      );
    else if (masters[0]?.chip === slaves[0]?.chip)
      add(['links', i], `SPI link '${l.name}' joins two controllers of the same chip '${masters[0]?.chip}'`);
  });

  // Addresses on links are unique.
  const macs = new Map<string, string>();
  const cellular = new Map<string, string>();
  board.chips.forEach((chip, c) =>
    chip.devices.forEach((d, i) => {
      if (d.kind === 'ethernet-nic' || d.kind === 'wifi-nic') {
        const other = macs.get(d.mac);
        if (other)
          add(['chips', c, 'devices', i, 'mac'], `MAC address ${d.mac} is already used by '${other}'`);
        else macs.set(d.mac, `${chip.name}/${d.name}`);
      }
      if (d.kind === 'cellular-modem') {
        const key = `${d.link} ${d.address}`;
        const other = cellular.get(key);
        if (other)
          add(['chips', c, 'devices', i, 'address'], `address ${d.address} is already used by '${other}'`);
        else cellular.set(key, `${chip.name}/${d.name}`);
      }
    }),
  );
  const diag = new Map<string, string>();
  board.nodes.forEach((n, i) => {
    const key = `${n.link} ${n.diagAddress ?? DIAG_ADDRESS[n.kind]}`;
    const other = diag.get(key);
    if (other)
      add(
        ['nodes', i, 'diagAddress'],
        `diagnostic address ${hex(n.diagAddress ?? DIAG_ADDRESS[n.kind])} is already used by '${other}' on '${n.link}'`,
      );
    else diag.set(key, n.name);
  });
  return issues;
}

function checkChip(
  chip: ChipSpec,
  at: (string | number)[],
  add: (path: (string | number)[], message: string) => void,
): void {
  const count = (kind: string) => chip.devices.filter((d) => d.kind === kind).length;
  const gics = count('gic');
  if (gics !== 1)
    add([...at, 'devices'], `chip '${chip.name}' needs exactly one interrupt controller (gic), has ${gics}`);
  for (const kind of ['tzasc', 'tzpc'] as const) {
    const n = count(kind);
    if (chip.trustzone && n !== 1)
      add([...at, 'devices'], `TrustZone chip '${chip.name}' needs exactly one ${kind}, has ${n}`);
    if (!chip.trustzone && n !== 0) {
      const i = chip.devices.findIndex((d) => d.kind === kind);
      add(
        [...at, 'devices', i, 'kind'],
        `chip '${chip.name}' has no TrustZone: a ${kind} means nothing there`,
      );
    }
  }
  if (count('mpu') > 1) add([...at, 'devices'], `chip '${chip.name}' has more than one MPU`);

  unique([...chip.memory.map((m) => m.name), ...chip.devices.map((d) => d.name)], (i, n) =>
    add(
      i < chip.memory.length
        ? [...at, 'memory', i, 'name']
        : [...at, 'devices', i - chip.memory.length, 'name'],
      `name '${n}' is used twice in chip '${chip.name}'`,
    ),
  );

  // Worlds where they mean something, and nowhere else.
  chip.memory.forEach((m, i) => {
    if (chip.trustzone && m.security === undefined)
      add(
        [...at, 'memory', i, 'security'],
        `region '${m.name}' of TrustZone chip '${chip.name}' needs a security attribute (secure or non-secure)`,
      );
    if (!chip.trustzone && m.security !== undefined)
      add(
        [...at, 'memory', i, 'security'],
        `chip '${chip.name}' has no TrustZone: regions have no security attribute`,
      );
  });
  chip.devices.forEach((d, i) => {
    const fabric = FABRIC_KINDS.has(d.kind);
    if (chip.trustzone && !fabric && d.world === undefined)
      add(
        [...at, 'devices', i, 'world'],
        `peripheral '${d.name}' of TrustZone chip '${chip.name}' needs a world (secure or non-secure)`,
      );
    if ((!chip.trustzone || fabric) && d.world !== undefined)
      add(
        [...at, 'devices', i, 'world'],
        fabric
          ? `a ${d.kind} is part of the security fabric and has no world`
          : `chip '${chip.name}' has no TrustZone: devices have no world`,
      );
    if (d.kind === 'nor-flash') {
      if (d.size % d.blockSize !== 0)
        add(
          [...at, 'devices', i, 'blockSize'],
          `flash size ${hex(d.size)} is not a multiple of the block size ${hex(d.blockSize)}`,
        );
      if (d.blockSize % d.pageSize !== 0)
        add(
          [...at, 'devices', i, 'pageSize'],
          `block size ${hex(d.blockSize)} is not a multiple of the page size ${hex(d.pageSize)}`,
        );
    }
  });

  // Emulated memory is really allocated: keep it within reason.
  let total = 0;
  chip.memory.forEach((m, i) => {
    total += m.size;
    if (m.size > MAX_REGION)
      add(
        [...at, 'memory', i, 'size'],
        `region '${m.name}' is ${hex(m.size)} bytes; an emulated region holds at most ${hex(MAX_REGION)}`,
      );
  });
  chip.devices.forEach((d, i) => {
    if (d.kind !== 'nor-flash') return;
    total += d.size;
    if (d.size > MAX_REGION)
      add(
        [...at, 'devices', i, 'size'],
        `flash '${d.name}' is ${hex(d.size)} bytes; an emulated flash holds at most ${hex(MAX_REGION)}`,
      );
  });
  if (total > MAX_CHIP_MEMORY)
    add(
      [...at, 'memory'],
      `chip '${chip.name}' declares ${hex(total)} bytes of memory and flash; at most ${hex(MAX_CHIP_MEMORY)} can be emulated`,
    );

  // The address map: 4 KiB aligned, inside 32 bits, no overlap.
  const entries = [
    ...chip.memory.map((m, i) => ({
      what: `region '${m.name}'`,
      base: m.base,
      end: m.base + m.size,
      path: [...at, 'memory', i],
    })),
    ...chip.devices.map((d, i) => ({
      what: `device '${d.name}'`,
      base: d.base,
      end: d.base + WINDOW_SIZE,
      path: [...at, 'devices', i],
    })),
  ];
  for (const e of entries) {
    if (e.base % 0x1000 !== 0) add([...e.path, 'base'], `${e.what} base ${hex(e.base)} is not 4 KiB aligned`);
    if (e.end > 2 ** 32)
      add([...e.path, 'size'], `${e.what} ends at ${hex(e.end)}, beyond the 32-bit address space`);
  }
  const sorted = entries
    .map((e, order) => ({ ...e, order }))
    .sort((a, b) => a.base - b.base || a.order - b.order);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (!prev || !cur || cur.base >= prev.end) continue;
    const [first, second] = prev.order < cur.order ? [prev, cur] : [cur, prev];
    add(
      [...second.path, 'base'],
      `${second.what} [${hex(second.base)}, ${hex(second.end)}) overlaps ${first.what} [${hex(first.base)}, ${hex(first.end)})`,
    );
  }

  if (chip.boot) checkBoot(chip, chip.boot, [...at, 'boot'], add);

  // Interrupts: a controller to route them, each line once, a CPU to target.
  const gic = chip.devices.find((d) => d.kind === 'gic');
  const used = new Map<number, string>();
  chip.devices.forEach((d, i) => {
    if (!d.irq) return;
    const path = [...at, 'devices', i, 'irq'];
    if (FABRIC_KINDS.has(d.kind)) return add(path, `a ${d.kind} raises no interrupt`);
    if (gic && gic.kind === 'gic' && d.irq.line >= gic.lines)
      add(path, `interrupt line ${d.irq.line} does not exist: '${gic.name}' has ${gic.lines} lines`);
    const other = used.get(d.irq.line);
    if (other !== undefined) add(path, `interrupt line ${d.irq.line} is already used by '${other}'`);
    else used.set(d.irq.line, d.name);
    if (d.irq.target >= chip.cpu.count)
      add(
        path,
        `interrupt target CPU ${d.irq.target} does not exist: chip '${chip.name}' has ${chip.cpu.count} CPUs`,
      );
  });
}

/**
 * The secure boot declaration names devices and memory of this chip of the right kind, in the secure
 * world, and a flash layout that fits: two boot-state blocks, then banks A and B, each a secure-bundle
 * slot and a Normal World slot (src/boot/flash-layout.ts lays it out the same way).
 */
function checkBoot(
  chip: ChipSpec,
  boot: BootSpec,
  at: (string | number)[],
  add: (path: (string | number)[], message: string) => void,
): void {
  if (!chip.trustzone) {
    add(at, `chip '${chip.name}' has no TrustZone: the secure boot chain needs a secure world`);
    return;
  }
  const device = <K extends DeviceSpec['kind']>(
    field: (string | number)[],
    name: string,
    kind: K,
  ): Extract<DeviceSpec, { kind: K }> | undefined => {
    const d = chip.devices.find((x) => x.name === name);
    let problem: string | undefined;
    if (!d) problem = `no device named '${name}' in chip '${chip.name}'`;
    else if (d.kind !== kind) problem = `'${name}' is a ${d.kind}; the boot chain needs a ${kind} here`;
    else if (d.world !== 'secure')
      problem = `'${name}' must be a secure peripheral: the boot chain relies on it`;
    if (problem === undefined) return d as Extract<DeviceSpec, { kind: K }>;
    add(field, problem);
    return undefined;
  };
  device([...at, 'fuses'], boot.fuses, 'otp-fuses');
  const nvc = device([...at, 'counters', 'device'], boot.counters.device, 'nv-counters');
  if (nvc) {
    for (const which of ['secureBundle', 'normalWorld'] as const)
      if (boot.counters[which] >= nvc.counters)
        add(
          [...at, 'counters', which],
          `counter ${boot.counters[which]} does not exist: '${nvc.name}' has ${nvc.counters}`,
        );
    if (boot.counters.secureBundle === boot.counters.normalWorld)
      add(
        [...at, 'counters', 'normalWorld'],
        `the two images need two different counters (both are ${boot.counters.normalWorld})`,
      );
  }
  const flash = device([...at, 'flash', 'device'], boot.flash.device, 'nor-flash');
  if (flash) {
    let whole = true;
    for (const slot of ['secureSlot', 'normalSlot'] as const)
      if (boot.flash[slot] % flash.blockSize !== 0) {
        whole = false;
        add(
          [...at, 'flash', slot],
          `slot size ${hex(boot.flash[slot])} is not a multiple of the flash block size ${hex(flash.blockSize)}`,
        );
      }
    const needed = 2 * flash.blockSize + 2 * (boot.flash.secureSlot + boot.flash.normalSlot);
    if (whole && needed > flash.size)
      add(
        [...at, 'flash'],
        `the boot layout (2 boot-state blocks, 2 banks of ${hex(boot.flash.secureSlot)} + ${hex(boot.flash.normalSlot)}) needs ${hex(needed)} bytes; flash '${flash.name}' has ${hex(flash.size)}`,
      );
  }
  const region = chip.memory.find((m) => m.name === boot.buffer.region);
  if (!region) add([...at, 'buffer', 'region'], `no memory region named '${boot.buffer.region}'`);
  else if (region.kind !== 'ram' || region.security !== 'secure')
    add(
      [...at, 'buffer', 'region'],
      `the boot buffer must be in secure RAM; '${region.name}' is ${region.security} ${region.kind}`,
    );
  else if (boot.buffer.offset + boot.buffer.size > region.size)
    add(
      [...at, 'buffer', 'size'],
      `the boot buffer [${hex(boot.buffer.offset)}, ${hex(boot.buffer.offset + boot.buffer.size)}) runs past region '${region.name}' (${hex(region.size)} bytes)`,
    );
  else if (flash && boot.buffer.size < flash.pageSize)
    add(
      [...at, 'buffer', 'size'],
      `the boot buffer (${hex(boot.buffer.size)} bytes) must hold at least one flash page (${hex(flash.pageSize)})`,
    );
}

function unique(names: readonly string[], onDuplicate: (index: number, name: string) => void): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) onDuplicate(i, n);
    seen.add(n);
  });
}
