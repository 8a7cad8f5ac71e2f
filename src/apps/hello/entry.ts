/** The hello trusted application: GP entry points over the framework. */
import { runTrustedApplication, type TaParam } from '../../kernel/abi/ta.js';
import { log } from '../../kernel/abi/sys.js';
import { ParamType, TeeResult, packParamTypes } from '../../lib/tee/gp.js';
import { HelloCommand } from './protocol.js';

const VALUE_INOUT = packParamTypes(ParamType.VALUE_INOUT);
const isMemref = (t: number) => (t & 0xf) >= ParamType.MEMREF_TEMP_INPUT;

function memref(p: TaParam | undefined): { buffer: Uint8Array; size: number } | undefined {
  return p?.type === 'memref' ? p : undefined;
}

runTrustedApplication<{ invocations: number }>(
  {
    create() {
      log('hello: created');
      return TeeResult.SUCCESS;
    },
    openSession() {
      return { result: TeeResult.SUCCESS, session: { invocations: 0 } };
    },
    invokeCommand(session, command, paramTypes, params) {
      session.invocations++;
      switch (command) {
        case HelloCommand.INC_VALUE: {
          const p = params[0];
          if (paramTypes !== VALUE_INOUT || p?.type !== 'value') return TeeResult.ERROR_BAD_PARAMETERS;
          p.a = (p.a + 1) >>> 0;
          return TeeResult.SUCCESS;
        }
        case HelloCommand.REVERSE: {
          const m = memref(params[0]);
          if (!m || !isMemref(paramTypes)) return TeeResult.ERROR_BAD_PARAMETERS;
          m.buffer.reverse();
          return TeeResult.SUCCESS;
        }
        case HelloCommand.SUM: {
          const m = memref(params[0]);
          const v = params[1];
          if (!m || v?.type !== 'value') return TeeResult.ERROR_BAD_PARAMETERS;
          let sum = 0;
          for (const b of m.buffer) sum = (sum + b) >>> 0;
          v.a = m.buffer.length;
          v.b = sum;
          return TeeResult.SUCCESS;
        }
        default:
          return TeeResult.ERROR_NOT_SUPPORTED;
      }
    },
  },
  { endpointSlot: 0 },
);
