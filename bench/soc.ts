/**
 * Emulated SoC: cost of the checked bus against raw memory, event throughput of the virtual clock, packets
 * through the NIC rings, CAN frames, and bring-up time of the shipped boards.
 */
import { bringUp, encodeDescriptor, loadBoardByName, VirtualClock } from '../src/soc/index.js';
import { opsPerSecond, percentiles, type BenchSuite } from './suite.js';

export const socSuite: BenchSuite = {
  name: 'soc',
  async run() {
    const { board } = loadBoardByName('iot-gateway');
    const m = bringUp(board, { seed: 1 });
    const soc = m.chip('soc');
    const cpu = soc.cpus[0]!;
    const ram = soc.region('secure-dram');
    const words = new Uint32Array(ram.buffer, 0, 1024);

    // Baseline: raw typed-array word reads; then the same through the checked bus, and register reads.
    let sink = 0;
    const rawReads = opsPerSecond(() => {
      for (let i = 0; i < 1024; i++) sink ^= words[i] as number;
      return 1024;
    });
    const busReads = opsPerSecond(() => {
      for (let i = 0; i < 1024; i++) {
        const r = soc.bus.read(cpu, ram.base + 4 * i);
        if (r.ok) sink ^= r.value;
      }
      return 1024;
    });
    const uart = soc.baseOf('uart0');
    const registerReads = opsPerSecond(() => {
      for (let i = 0; i < 1024; i++) {
        const r = soc.bus.read(cpu, uart + 0x018);
        if (r.ok) sink ^= r.value;
      }
      return 1024;
    });
    const deniedPerSecond = (() => {
      const nsM = bringUp(board, { seed: 1 });
      const nsChip = nsM.chip('soc');
      const c = nsChip.cpus[0]!;
      nsChip.takeCpuControl().setWorld(c, 'non-secure');
      return opsPerSecond(() => {
        for (let i = 0; i < 256; i++) nsChip.bus.read(c, ram.base);
        return 256;
      });
    })();
    const blockBytesPerSecond = opsPerSecond(() => {
      for (let i = 0; i < 64; i++) soc.bus.readBytes(cpu, ram.base + 1514 * i, 1514);
      return 64 * 1514;
    });

    // Virtual clock: schedule and run events.
    const clock = new VirtualClock();
    clock.register('t', () => {});
    const clockEvents = opsPerSecond(() => {
      for (let i = 0; i < 1000; i++) clock.schedule((i * 7919) % 1000, 't', 'x');
      clock.runUntilIdle();
      return 1000;
    });

    // NIC: frames through the TX ring onto the WAN segment, picked up by a remote host.
    const nic = bringUp(board, { seed: 2 });
    const chip = nic.chip('soc');
    const c0 = chip.cpus[0]!;
    let delivered = 0;
    const host = nic.segment('wan').attach('host', { deliver: () => void delivered++ });
    if (!host.ok) throw new Error('attach');
    const ring = 0x0e000000;
    const size = 256;
    const write = (off: number, v: number) => chip.writeRegister(c0, 'eth0', off, v);
    write(0x010, ring);
    write(0x014, size);
    write(0x000, 7);
    const frame = new Uint8Array(1514).fill(0xab);
    for (let i = 0; i < size; i++) {
      chip.bus.writeBytes(c0, ring + 0x10000 + 2048 * i, frame);
      chip.bus.writeBytes(c0, ring + 16 * i, encodeDescriptor(ring + 0x10000 + 2048 * i, frame.length));
    }
    let tail = 0;
    const nicFrames = opsPerSecond(() => {
      tail = (tail + size - 1) % size;
      write(0x01c, tail);
      nic.runFor(10_000_000);
      nic.segment('wan').clearTap();
      return size - 1;
    });

    // CAN: the head unit's ECUs broadcasting, in virtual seconds per wall second.
    const hu = bringUp(loadBoardByName('uconnect-headunit').board, { seed: 3 });
    const t0 = performance.now();
    hu.runFor(60_000_000_000);
    const canWallMs = performance.now() - t0;

    const bringUpMs: Record<string, ReturnType<typeof percentiles>> = {};
    for (const name of ['iot-gateway', 'uconnect-headunit']) {
      const b = loadBoardByName(name).board;
      const samples: number[] = [];
      for (let i = 0; i < 15; i++) {
        const s = performance.now();
        bringUp(b, { seed: i });
        samples.push(performance.now() - s);
      }
      bringUpMs[name] = percentiles(samples);
    }

    return {
      rawWordReadsPerSecond: Math.round(rawReads),
      busWordReadsPerSecond: Math.round(busReads),
      busOverRaw: +(busReads / rawReads).toFixed(4),
      registerReadsPerSecond: Math.round(registerReads),
      deniedAccessesPerSecond: Math.round(deniedPerSecond),
      dmaBlockMegabytesPerSecond: +(blockBytesPerSecond / 1e6).toFixed(1),
      clockEventsPerSecond: Math.round(clockEvents),
      nicFramesPerSecond: Math.round(nicFrames),
      nicFramesDelivered: delivered,
      canVirtualSecondsPerWallSecond: +(60 / (canWallMs / 1000)).toFixed(1),
      canFramesIn60VirtualSeconds: hu.canBus('vehicle-can').framesCarried,
      bringUpMs,
      sink: sink & 1,
    };
  },
};
