/**
 * Where an image build reports what it is doing. The CLI's StepPrinter fits this shape;
 * library code does not depend on the CLI.
 */
export interface BuildProgress {
  step<T>(label: string, run: () => Promise<T>, describe?: (value: T) => string): Promise<T>;
  progress(detail: string): void;
  info(line: string): void;
}

/** Runs steps silently, for callers without a printer. */
export const silentProgress: BuildProgress = {
  step: (_label, run) => run(),
  progress: () => undefined,
  info: () => undefined,
};
