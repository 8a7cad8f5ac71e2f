/** What the SoC core files share, with no imports of their own: worlds, JSON data, bus masters and faults. */
/** TrustZone security state of a bus master, a memory region or a peripheral. */
export type World = 'secure' | 'non-secure';

/** Plain JSON data: what snapshots and scheduled events are made of. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** Anything that issues accesses on a bus: a CPU or a DMA-capable device. */
export interface BusMaster {
  readonly name: string;
  readonly kind: 'cpu' | 'dma';
  /** Security state of the next access. */
  readonly world: World;
  readonly privileged: boolean;
  /** CPU index on its chip, undefined for DMA. */
  readonly cpu: number | undefined;
}

export type AccessKind = 'read' | 'write';

export type BusFaultCode =
  'UNMAPPED' | 'TZASC_DENIED' | 'TZPC_DENIED' | 'MPU_DENIED' | 'READ_ONLY' | 'ALIGNMENT' | 'DEVICE_DENIED';

export interface BusFault {
  readonly ok: false;
  readonly code: BusFaultCode;
  readonly access: AccessKind;
  readonly address: number;
  readonly size: number;
  /** Name of the issuing master, e.g. `ap/cpu0` or `ap/eth0`. */
  readonly master: string;
  readonly world: World;
  /** The region or device the address falls in, if any. */
  readonly target: string | undefined;
  readonly reason: string;
  readonly timeNs: number;
}

export type BusResult<T> = { readonly ok: true; readonly value: T } | BusFault;
