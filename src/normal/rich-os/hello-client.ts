/**
 * The hello client: what `rampart demo hello` shows. Opens a session on the hello trusted application,
 * invokes it with value parameters, with a temporary memory reference, with allocated and with registered
 * shared memory, and logs each step as one `demo:` JSON line the CLI reads back.
 */
import { log } from '../../kernel/abi/sys.js';
import { encodeUtf8, decodeUtf8 } from '../../common/utf8.js';
import { TeeContext, TeeError, TeeOperation } from '../tee-client/client.js';
import { HELLO_UUID, HelloCommand } from '../../apps/hello/protocol.js';

function step(what: string, data: Record<string, unknown>): void {
  log(`demo: ${JSON.stringify({ step: what, ...data })}`);
}

export function helloClient(): void {
  const context = TeeContext.initialize();
  try {
    const session = context.openSession(HELLO_UUID);
    step('open-session', { uuid: HELLO_UUID, session: session.id });

    const value = new TeeOperation({ type: 'value', direction: 'inout', a: 41, b: 0 });
    session.invoke(HelloCommand.INC_VALUE, value);
    const v = value.params[0] as { a: number };
    step('invoke-value', { command: 'INC_VALUE', sent: 41, received: v.a });

    const text = encodeUtf8('hello, secure world');
    const temp = new TeeOperation({
      type: 'temp',
      direction: 'inout',
      buffer: text.slice(),
      size: text.length,
    });
    session.invoke(HelloCommand.REVERSE, temp);
    step('invoke-temp-memref', {
      command: 'REVERSE',
      sent: decodeUtf8(text),
      received: decodeUtf8((temp.params[0] as { buffer: Uint8Array }).buffer),
    });

    const shm = context.allocateSharedMemory(HELLO_UUID, 4096);
    const data = encodeUtf8('shared memory, copied in before it is checked');
    shm.buffer.set(data);
    const shared = new TeeOperation({
      type: 'shared',
      memory: shm,
      part: { direction: 'inout', offset: 0, size: data.length },
    });
    session.invoke(HelloCommand.REVERSE, shared);
    step('invoke-shared-memory', {
      command: 'REVERSE',
      region: shm.region,
      sent: decodeUtf8(data),
      received: decodeUtf8(shm.buffer.subarray(0, data.length)),
    });

    const sum = new TeeOperation(
      { type: 'shared', memory: shm, part: { direction: 'in', offset: 0, size: data.length } },
      { type: 'value', direction: 'out', a: 0, b: 0 },
    );
    session.invoke(HelloCommand.SUM, sum);
    const s = sum.params[1] as { a: number; b: number };
    step('invoke-sum', { command: 'SUM', bytes: s.a, sum: s.b });
    shm.release();

    const mine = encodeUtf8('registered client buffer');
    const registered = context.registerSharedMemory(HELLO_UUID, mine);
    session.invoke(HelloCommand.REVERSE, new TeeOperation({ type: 'shared', memory: registered }));
    step('invoke-registered-memory', { command: 'REVERSE', received: decodeUtf8(mine) });
    registered.release();

    const cancelled = new TeeOperation({ type: 'value', direction: 'inout', a: 1, b: 0 });
    cancelled.requestCancellation();
    try {
      session.invoke(HelloCommand.INC_VALUE, cancelled);
      step('cancel-before-start', { error: 'not cancelled' });
    } catch (e) {
      step('cancel-before-start', { result: (e as TeeError).message });
    }

    try {
      session.invoke(0x7777);
    } catch (e) {
      step('invoke-unknown-command', { result: (e as TeeError).message });
    }
    session.close();
    step('close-session', { session: session.id });
  } catch (e) {
    step('error', { message: e instanceof TeeError ? e.message : String(e) });
  } finally {
    context.finalize();
  }
}
