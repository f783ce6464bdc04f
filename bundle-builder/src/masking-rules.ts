import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import YAML from 'yaml';
import { WardenError } from '../../gateway/src/errors.js';
import { oneOf, validator } from '../../gateway/src/validation.js';

export const VALUE_DETECTORS = [
  'email',
  'us_ssn',
  'phone',
  'payment_card',
  'iban',
  'jwt',
  'aws_access_key',
  'private_key',
  'high_entropy_secret',
] as const;

const Rule = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]*$' }),
    category: oneOf(['pii', 'financial', 'secret']),
    description: Type.Optional(Type.String()),
    columns: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    values: Type.Array(oneOf(VALUE_DETECTORS), { default: [] }),
    masker: Type.Object(
      {
        type: oneOf(['redact', 'keep_last', 'format_preserving', 'token', 'null']),
        n: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const RuleFile = Type.Object(
  { version: Type.Literal(1), rules: Type.Array(Rule) },
  { additionalProperties: false },
);

const validateFile = validator(RuleFile, 'bundle.build');

export type MaskingRule = (typeof Rule)['static'];

/**
 * Reads and validates every rule file (YAML or JSON) in `dir`. A file that
 * does not validate stops the build with a message naming it and the problem.
 */
export async function loadMaskingRules(dir: string, label = dir): Promise<MaskingRule[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  } catch {
    return [];
  }
  const rules: MaskingRule[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const where = `${label}/${name}`;
    let doc: unknown;
    try {
      doc = YAML.parse(await readFile(join(dir, name), 'utf8'));
    } catch (err) {
      throw new WardenError('bundle.build', `${where}: not valid YAML: ${(err as Error).message}`);
    }
    for (const [i, rule] of validateFile(doc, where).rules.entries()) {
      const problem = seen.has(rule.id)
        ? `duplicate rule id ${rule.id} (also in ${seen.get(rule.id)})`
        : rule.columns.length === 0 && rule.values.length === 0
          ? 'needs at least one column pattern or value detector'
          : rule.masker.type === 'keep_last' && rule.masker.n === undefined
            ? 'masker keep_last needs n'
            : null;
      if (problem) throw new WardenError('bundle.build', `${where}: rules[${i}]: ${problem}`);
      seen.set(rule.id, where);
      rules.push(rule);
    }
  }
  return rules;
}
