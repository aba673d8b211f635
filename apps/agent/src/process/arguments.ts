/**
 * Tetragon's `arguments`: argv[1..] joined by spaces, an argument that holds a space wrapped
 * in double quotes, without escaping. Lossy by design; kept identical so that queries written
 * for Tetragon exports match Proctrail's.
 */
export function tetragonArguments(argv: readonly string[]): string {
  return argv
    .slice(1)
    .map((arg) => (arg.includes(' ') ? `"${arg}"` : arg))
    .join(' ');
}
