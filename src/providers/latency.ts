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
}

export const processLatency = new LatencyTracker();
