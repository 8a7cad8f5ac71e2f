/**
 * The kernel's result codes: one table, the single source of the numbers the core returns, the runtime
 * passes back to partitions, and the documentation lists. A call that fails returns one of these and
 * leaves the state unchanged (proven: the refinement obligations compare every failed call with the
 * specification, which keeps the state).
 */
export const kernelCodes = {
  OK: { code: 0, meaning: 'the call succeeded' },
  BLOCKED: {
    code: 1,
    meaning: 'the caller is now blocked; the result arrives in its registers when it is woken',
  },
  EINVAL: {
    code: 2,
    meaning: 'an argument is out of range (an index past its table, a right or bit that does not exist)',
  },
  ENOTRUNNING: { code: 3, meaning: 'the caller is not a runnable partition' },
  EPERM: {
    code: 4,
    meaning: 'the caller may not do this (not the admin authority, not the owner, not its domain)',
  },
  EWORLD: { code: 5, meaning: 'the call would let the Normal World reach into the Secure World' },
  ENOCAP: { code: 6, meaning: 'the slot holds no valid capability of the needed type' },
  ERIGHTS: { code: 7, meaning: 'the capability or the sharing grant lacks a right the call needs' },
  ESTATE: { code: 8, meaning: 'the target partition is not in the state the call needs' },
  EBUSY: { code: 9, meaning: 'the object is in use (allocated, waited on, mapped, owning objects)' },
  ENOENT: {
    code: 10,
    meaning: 'the object or mapping does not exist (not allocated, not mapped, empty slot)',
  },
  EEXIST: { code: 11, meaning: 'the destination slot already holds a valid capability' },
  ENORECV: { code: 12, meaning: 'no partition is waiting to receive on the endpoint (sends never queue)' },
  ENOREPLY: { code: 13, meaning: 'the caller holds no reply capability' },
  EOVERFLOW: {
    code: 14,
    meaning: "the object's generation is exhausted: it can no longer be revoked or freed",
  },
  ELIMIT: { code: 15, meaning: 'the partition already maps as many regions as the profile allows' },
  EMASKED: { code: 16, meaning: 'the interrupt line is masked, unbound or unowned: nothing was delivered' },
  ECANCELED: {
    code: 17,
    meaning: 'status register only: the object the partition waited on was destroyed, or its server stopped',
  },
  ENOSYS: {
    code: 18,
    meaning: 'no call has this number (decided by the generated dispatcher, before the core)',
  },
} as const;

export type KernelCodeName = keyof typeof kernelCodes;

/** Numeric value of each code, by name. */
export const E: { readonly [K in KernelCodeName]: (typeof kernelCodes)[K]['code'] } = Object.freeze(
  Object.fromEntries(Object.entries(kernelCodes).map(([k, v]) => [k, v.code])),
) as never;

const byNumber = new Map<number, KernelCodeName>(
  Object.entries(kernelCodes).map(([k, v]) => [v.code, k as KernelCodeName]),
);

/** The name of a numeric code (`undefined` for a number the kernel never returns). */
export function codeName(code: number): KernelCodeName | undefined {
  return byNumber.get(code);
}
