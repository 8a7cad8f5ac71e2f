/** The retransmission timeout of RFC 6298: SRTT/RTTVAR estimation (§2), bounds (§2.4, §2.5), backoff (§5.5). */

export interface RtoOptions {
  /** RTO before the first measurement (RFC 6298 §2.1: 1 s). */
  readonly initialRtoNs?: number;
  /** Lower bound (RFC 6298 §2.4: 1 s; Linux uses 200 ms). */
  readonly minRtoNs?: number;
  /** Upper bound (RFC 6298 §2.5: at least 60 s). */
  readonly maxRtoNs?: number;
  /** Clock granularity G of §2 (default 1 ms). */
  readonly clockGranularityNs?: number;
}

export class RtoEstimator {
  srttNs: number | undefined = undefined;
  rttvarNs = 0;
  rtoNs: number;
  private readonly minNs: number;
  private readonly maxNs: number;
  private readonly granularityNs: number;

  constructor(options: RtoOptions = {}) {
    this.minNs = options.minRtoNs ?? 1e9;
    this.maxNs = options.maxRtoNs ?? 60e9;
    this.granularityNs = options.clockGranularityNs ?? 1e6;
    this.rtoNs = Math.min(Math.max(options.initialRtoNs ?? 1e9, this.minNs), this.maxNs);
  }

  /** Takes one RTT measurement R (RFC 6298 §2.2, §2.3; α = 1/8, β = 1/4, K = 4). */
  sample(rttNs: number): void {
    const r = Math.max(rttNs, 0);
    if (this.srttNs === undefined) {
      this.srttNs = r;
      this.rttvarNs = r / 2;
    } else {
      this.rttvarNs = 0.75 * this.rttvarNs + 0.25 * Math.abs(this.srttNs - r);
      this.srttNs = 0.875 * this.srttNs + 0.125 * r;
    }
    const rto = this.srttNs + Math.max(this.granularityNs, 4 * this.rttvarNs);
    this.rtoNs = Math.round(Math.min(Math.max(rto, this.minNs), this.maxNs));
  }

  /** RFC 6298 §5.5: the timer expired, back off. */
  backoff(): void {
    this.rtoNs = Math.min(this.rtoNs * 2, this.maxNs);
  }
}
