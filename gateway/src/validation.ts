import { type SchemaOptions, type Static, type TSchema, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { type ErrorCode, WardenError } from './errors.js';

/** A string from a fixed set, as a plain JSON Schema enum (so errors can list the choices). */
export const oneOf = <const T extends string>(values: readonly T[], options: SchemaOptions = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, coerceTypes: false });

/** `/rules/2/masker` → `rules[2].masker` */
function dotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function valueAt(data: unknown, pointer: string): unknown {
  let node = data;
  for (const p of pointer.split('/').slice(1))
    node = (node as Record<string, unknown> | undefined)?.[p];
  return node;
}

function describe(err: ErrorObject, data: unknown): string {
  const p = err.params as Record<string, unknown>;
  const at = (key: string) => [dotted(err.instancePath), key].filter(Boolean).join('.');
  switch (err.keyword) {
    case 'required':
      return `${at(String(p.missingProperty))}: is required but missing`;
    case 'additionalProperties':
      return `${at(String(p.additionalProperty))}: unknown key`;
    case 'enum':
      return `${at('')}: expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(valueAt(data, err.instancePath))}`;
    default:
      return `${at('') || '(top level)'}: expected a value that ${err.message ?? 'is valid'}, got ${JSON.stringify(valueAt(data, err.instancePath))}`;
  }
}

/** Drops the noise Ajv reports for union branches when a more specific error exists. */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter(
    (e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'const',
  );
  return specific.length > 0 ? specific : errors;
}

export type Validator<T extends TSchema> = (data: unknown, where: string) => Static<T>;

/** Compiles a schema once; the validator throws a WardenError listing every problem by key. */
export function validator<T extends TSchema>(
  schema: T,
  code: ErrorCode = 'config.invalid',
): Validator<T> {
  const check = ajv.compile(schema);
  return (data, where) => {
    if (check(data)) return data as Static<T>;
    const problems = [...new Set(relevant(check.errors ?? []).map((e) => describe(e, data)))];
    throw new WardenError(code, `${where}: ${problems.join('; ')}`, { problems });
  };
}
