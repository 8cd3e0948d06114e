/**
 * The JSON Schema of the config (for editors) and the table of docs/config-reference.md, both
 * derived from the zod schema so they cannot drift from what synth accepts.
 */
import { z } from 'zod';
import { configSchema } from './schema.ts';

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
};

/** The JSON Schema (draft-07), as committed in schema/cilium-cutover.schema.json. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }),
    $id: 'https://cilium-cutover.dev/schema/cilium-cutover.schema.json',
    title: 'cilium-cutover cluster config',
  };
}

function typeOf(s: JsonSchema): string {
  if (s.enum) {
    return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  }
  if (s.anyOf) {
    return s.anyOf.map(typeOf).join(' \\| ');
  }
  if (s.type === 'array') {
    return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  }
  if (s.type === 'integer' && s.minimum !== undefined && s.maximum !== undefined) {
    return `integer ${s.minimum}–${s.maximum}`;
  }
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

function rows(schema: JsonSchema, prefix: string, parentRequired: boolean): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const listed = (schema.required ?? []).includes(key) && child.default === undefined;
    const required = parentRequired && listed;
    const isObject = child.type === 'object' && child.properties;
    const isObjectList = child.type === 'array' && child.items?.type === 'object';
    const def =
      child.default !== undefined && !(typeof child.default === 'object' && !Array.isArray(child.default))
        ? `\`${JSON.stringify(child.default)}\``
        : required
          ? '**required**'
          : listed
            ? 'required in its section'
            : '';
    const description = (child.description ?? '').replace(/\|/g, '\\|');
    if (isObject) {
      if (description) {
        out.push(`| \`${path}\` | section | ${def} | ${description} |`);
      }
      out.push(...rows(child, path, required || child.default !== undefined));
    } else if (isObjectList) {
      out.push(`| \`${path}\` | list | ${def} | ${description} |`);
      out.push(...rows(child.items!, `${path}[]`, true));
    } else {
      out.push(`| \`${path}\` | ${typeOf(child)} | ${def} | ${description} |`);
    }
  }
  return out;
}

/** The Markdown table of every config field. */
export function configReference(): string {
  const schema = configJsonSchema() as JsonSchema;
  return ['| field | type | default | meaning |', '| --- | --- | --- | --- |', ...rows(schema, '', true)].join('\n');
}
