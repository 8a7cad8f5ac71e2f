/**
 * The diagnostic server of an emulated ECU: Unified Diagnostic Services (ISO 14229-1) over ISO-TP
 * (ISO 15765-2) single frames, enough for the 2015 attack chains. Services: DiagnosticSessionControl
 * (0x10: default 0x01, extended 0x03), TesterPresent (0x3E), ReadDataByIdentifier (0x22),
 * RoutineControl (0x31, start 0x01) and InputOutputControlByIdentifier (0x2F) — the last two only in the
 * extended session. Anything but the default session and TesterPresent is refused with
 * conditionsNotCorrect (NRC 0x22) while the vehicle moves faster than the ECU's diagnostic speed limit.
 * The extended session falls back to default after S3 = 5 s without a request (ISO 14229-2 S3Server).
 */
import { NRC, SID } from '../../lib/can/uds.js';

export const S3_NS = 5_000_000_000;

export type Session = 'default' | 'extended';

/** What the ECU behind the server provides. */
export interface DiagnosticTarget {
  /** Current vehicle speed as the ECU knows it. */
  speedKmh(): number;
  readonly diagSpeedLimitKmh: number;
  /** ReadDataByIdentifier: up to 4 bytes, or undefined when the identifier is unknown. */
  readData(did: number): number[] | undefined;
  /** RoutineControl start: true when the routine exists (and ran). */
  startRoutine(routine: number): boolean;
  /** InputOutputControlByIdentifier: true when the identifier and option are supported (and applied). */
  ioControl(did: number, option: number, params: Uint8Array): boolean;
  /** The extended session ended: return every I/O the tester controlled to the ECU. */
  sessionEnded(): void;
}

export class DiagnosticServer {
  session: Session = 'default';
  lastRequestNs = 0;

  constructor(private readonly target: DiagnosticTarget) {}

  /** Applies the S3 timeout lazily, as of `nowNs`. */
  expire(nowNs: number): void {
    if (this.session === 'extended' && nowNs - this.lastRequestNs > S3_NS) this.endSession();
  }

  private endSession(): void {
    this.session = 'default';
    this.target.sessionEnded();
  }

  /** Handles one request payload (ISO-TP already removed); returns the response payload, if any. */
  handle(req: Uint8Array, nowNs: number): Uint8Array | undefined {
    this.expire(nowNs);
    this.lastRequestNs = nowNs;
    const sid = req[0];
    if (sid === undefined) return undefined;
    const negative = (nrc: number) => Uint8Array.of(0x7f, sid, nrc);
    const moving = this.target.speedKmh() > this.target.diagSpeedLimitKmh;
    switch (sid) {
      case SID.sessionControl: {
        if (req.length !== 2) return negative(NRC.incorrectLength);
        const sub = (req[1] as number) & 0x7f;
        if (sub === 0x01) {
          if (this.session !== 'default') this.endSession();
        } else if (sub === 0x03) {
          if (moving) return negative(NRC.conditionsNotCorrect);
          this.session = 'extended';
        } else return negative(NRC.subFunctionNotSupported);
        // P2 = 50 ms, P2* = 5000 ms (in 10 ms units), ISO 14229-2 §7.2
        return Uint8Array.of(0x50, sub, 0x00, 0x32, 0x01, 0xf4);
      }
      case SID.testerPresent:
        if (req.length !== 2) return negative(NRC.incorrectLength);
        if (((req[1] as number) & 0x7f) !== 0) return negative(NRC.subFunctionNotSupported);
        return (req[1] as number) & 0x80 ? undefined : Uint8Array.of(0x7e, 0x00);
      case SID.readDataByIdentifier: {
        if (req.length !== 3) return negative(NRC.incorrectLength);
        const did = ((req[1] as number) << 8) | (req[2] as number);
        const data = this.target.readData(did);
        if (!data) return negative(NRC.requestOutOfRange);
        return Uint8Array.of(0x62, req[1] as number, req[2] as number, ...data.slice(0, 4));
      }
      case SID.routineControl: {
        if (req.length < 4) return negative(NRC.incorrectLength);
        if (this.session !== 'extended') return negative(NRC.serviceNotSupportedInActiveSession);
        if (req[1] !== 0x01) return negative(NRC.subFunctionNotSupported);
        if (moving) return negative(NRC.conditionsNotCorrect);
        const routine = ((req[2] as number) << 8) | (req[3] as number);
        if (!this.target.startRoutine(routine)) return negative(NRC.requestOutOfRange);
        return Uint8Array.of(0x71, 0x01, req[2] as number, req[3] as number);
      }
      case SID.ioControl: {
        if (req.length < 4) return negative(NRC.incorrectLength);
        if (this.session !== 'extended') return negative(NRC.serviceNotSupportedInActiveSession);
        if (moving) return negative(NRC.conditionsNotCorrect);
        const did = ((req[1] as number) << 8) | (req[2] as number);
        if (!this.target.ioControl(did, req[3] as number, req.subarray(4)))
          return negative(NRC.requestOutOfRange);
        return Uint8Array.of(0x6f, req[1] as number, req[2] as number, req[3] as number);
      }
    }
    return negative(NRC.serviceNotSupported);
  }
}
