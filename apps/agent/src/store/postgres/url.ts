/**
 * PostgreSQL URLs as logs and messages show them. Apart from the store, so that naming a
 * store costs a command none of the driver's memory.
 */

/** The URL with its password replaced, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(a PostgreSQL URL that does not parse)';
  }
}
