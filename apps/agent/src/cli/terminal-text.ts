/**
 * Process arguments, paths and names are attacker-controlled. Printed raw, an escape sequence
 * in them could rewrite the terminal (move the cursor, hide a line, set the title). Control
 * characters are therefore shown as \xNN escapes.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
