/** The hello trusted application's commands, shared with its Normal World clients. */
export const HELLO_UUID = '8aaaf200-2450-11e4-abe2-0002a5d5c51b';

export const HelloCommand = {
  /** value in/out: a + 1 (the GP "hello world" of OP-TEE's examples). */
  INC_VALUE: 0,
  /** memref in/out: reverses the bytes in place. */
  REVERSE: 1,
  /** memref in, value out: a = byte count, b = sum of the bytes mod 2^32. */
  SUM: 2,
} as const;
