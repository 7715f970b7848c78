/** A connection URL fit for printing: the password, if any, replaced by `***`. */
export function maskDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL we can parse: show nothing of it rather than risk showing a password.
    return '(unparseable database URL)';
  }
}
