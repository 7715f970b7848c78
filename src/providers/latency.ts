/**
 * Measured time to first token per model, smoothed, for the "fastest" routing strategy.
 * One tracker per process, shared by its sessions.
 */
export class LatencyTracker {
  private readonly smoothed = new Map<string, number>();

  record(modelRef: string, milliseconds: number): void {
    const previous = this.smoothed.get(modelRef);
    this.smoothed.set(modelRef, previous === undefined ? milliseconds : previous * 0.7 + milliseconds * 0.3);
  }

  get(modelRef: string): number | undefined {
    return this.smoothed.get(modelRef);
  }

  /** The measurements, to keep between processes. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.smoothed);
  }

  /** Takes earlier measurements (this process's own ones win). */
  restore(saved: Record<string, number>): void {
    for (const [ref, value] of Object.entries(saved)) {
      if (!this.smoothed.has(ref) && Number.isFinite(value) && value >= 0) this.smoothed.set(ref, value);
    }
  }
}

export const processLatency = new LatencyTracker();
