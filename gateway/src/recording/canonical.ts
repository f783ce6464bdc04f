/**
 * Canonical JSON for session records: RFC 8785 (JSON Canonicalization
 * Scheme) for the values a record holds. Object keys sorted by UTF-16 code
 * units (JavaScript's default string order, as RFC 8785 says), no
 * whitespace, strings and numbers exactly as ECMAScript's JSON.stringify
 * writes them. `undefined` members are left out (as JSON.stringify does);
 * non-finite numbers and lone surrogates are refused, so every record line
 * is valid I-JSON any RFC 8785 implementation reproduces byte for byte.
 */

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Strings without these are written as they are, between quotes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly these
const NEEDS_WORK = /["\\\u0000-\u001f\uD800-\uDFFF]/;
/** The cheap test first: almost no text has surrogates at all. */
const hasLoneSurrogate = (s: string) => SURROGATE.test(s) && LONE_SURROGATE.test(s);

export class CanonicalJsonError extends Error {}

export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      if (!NEEDS_WORK.test(value)) return `"${value}"`;
      if (hasLoneSurrogate(value)) throw new CanonicalJsonError('string with a lone surrogate');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`non-finite number ${value}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value))
        return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(obj).sort()) {
        const v = obj[key];
        if (v === undefined) continue;
        parts.push(`${canonicalJson(key)}:${canonicalJson(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(`cannot canonicalise a ${typeof value}`);
  }
}

/** Replaces lone surrogates with U+FFFD, so text from a client can always be recorded. */
export function wellFormed(s: string): string {
  return hasLoneSurrogate(s)
    ? s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    : s;
}
