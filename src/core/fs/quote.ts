// Making a file name safe to print and to paste: one line, no terminal
// escapes, and, in a suggested command, exactly one word for a POSIX shell.

// C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals),
// and the Unicode line and paragraph separators some viewers break lines at.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g
const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e'}

/**
 * `text` with every control character written as an escape (`\n`, `\t`,
 * `\e`, `\x07`, `\u2028`), so that it stays on one line and cannot drive a
 * terminal. Everything else, backslashes included, is left as it is.
 */
export function escapeName(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16)}`))
}

/**
 * One POSIX shell word for `text`, in single quotes (`it's` becomes
 * `'it'\''s'`): nothing inside is expanded, so pasting it runs exactly the
 * command shown.
 */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}

/**
 * A path as a suggested command shows it: single-quoted, with control
 * characters escaped first so that the suggestion stays one line. A name
 * holding a control character then no longer names the same file when
 * pasted; it names none, which is safe.
 */
export function shellPath(p: string): string {
  return shellQuote(escapeName(p))
}
