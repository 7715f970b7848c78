/**
 * Tool output as the model receives it: wrapped in a `<tool-output>` element that the system
 * prompt describes as data from the workstation, never instructions. Screen text, files and
 * command output may be written by an attacker; the frame keeps them apart from what the user
 * and Nexora say. Text that imitates the frame's closing tag is defused, so output cannot
 * "end" the frame early and speak outside it.
 */
export function frameToolOutput(tool: string, text: string): string {
  const defused = text.replace(/<(\/?)(tool-output)/gi, '<$1\u200b$2');
  return `<tool-output tool="${tool}">\n${defused}\n</tool-output>`;
}
