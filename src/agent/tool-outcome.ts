/** A tool call's result as the loop uses it. */
export interface ToolOutcome {
  /** What the model reads. */
  text: string;
  /** A screenshot to show the model, if it can see and the display changed. */
  png?: Buffer;
  /** One line for logs and the events table. */
  summary: string;
  isError: boolean;
}
