/** Bench Normal World: INC_VALUE invocations of the hello application, after a warm-up. */
import { log } from '../../src/kernel/abi/sys.js';
import { TeeContext, TeeOperation } from '../../src/normal/tee-client/client.js';
import { HELLO_UUID, HelloCommand } from '../../src/apps/hello/protocol.js';

declare const BENCH: { warmup: number; calls: number };
const session = TeeContext.initialize().openSession(HELLO_UUID);
const op = new TeeOperation({ type: 'value', direction: 'inout', a: 0, b: 0 });
for (let i = 0; i < BENCH.warmup; i++) session.invoke(HelloCommand.INC_VALUE, op);
log('bench:go');
for (let i = 0; i < BENCH.calls; i++) session.invoke(HelloCommand.INC_VALUE, op);
log(`bench:done:${(op.params[0] as { a: number }).a}`);
