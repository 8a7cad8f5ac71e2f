/**
 * Runtime services: calls a partition makes that are not kernel-core calls. Either they carry data the
 * core does not model (log text, payload copies, register values) after an authority check that reads
 * the core's state (mappings, device ownership), or they concern the isolate itself (start, exit).
 * Numbers start at 200 so they never meet the core's call table (docs/kernel.md).
 */
export const services = {
  start: { number: 200, summary: 'the isolate is locked down and ready; the reply starts the partition' },
  exit: { number: 201, summary: "the partition's code returned (a0 = 0) or threw (a0 = 1)" },
  log: { number: 202, summary: "appends the payload (UTF-8 text) to the partition's console" },
  clock: { number: 203, summary: 'virtual time in nanoseconds: value = low 32 bits, label = high 32 bits' },
  mem_read: {
    number: 210,
    summary: 'copies length bytes at offset of a region the caller maps with R into the reply payload',
  },
  mem_write: {
    number: 211,
    summary: 'copies the request payload to offset of a region the caller maps with W',
  },
  region_info: {
    number: 212,
    summary: "a mapped region's size (value) and physical base (label), for DMA descriptors",
  },
  mmio_read: { number: 220, summary: 'reads a 32-bit register of a device the caller owns' },
  mmio_write: { number: 221, summary: 'writes a 32-bit register of a device the caller owns' },
  boot_info: {
    number: 230,
    summary: "the partition's public boot information (JSON in the reply payload): names, slots, directory",
  },
  ta_data: {
    number: 231,
    summary:
      "up to 4096 bytes at offset a0 of a data component of the caller's own trusted application, named by the payload (value = its size)",
  },
} as const;

export type ServiceName = keyof typeof services;

/** Layout of the eight result words of every reply. */
export const Result = {
  CODE: 0,
  VALUE: 1,
  LABEL: 2,
  BADGE: 3,
  MR0: 4,
} as const;

/** Codes of runtime services that fail (core calls return the core's codes, docs/kernel.md). */
export { E as codes } from '../core/errors.js';
