/**
 * Checks a synthesized template's resources against CloudFormation's own resource schemas,
 * as `@aws-cdk/aws-service-spec` publishes them (the registry schemas CloudFormation
 * validates a deploy with): every resource type exists, every property name is one the
 * type has, every required property is there, and every value has the property's type
 * (string, number, boolean, list, map, nested structure, allowed values). A value that is
 * an intrinsic (`Ref`, `Fn::*`) is resolved only at deploy time and is accepted where any
 * value is; its shape is CloudFormation's to check.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { PropertyType, ResourceProperties, SpecDatabase } from '@aws-cdk/service-spec-types';

let db: SpecDatabase | undefined;
const spec = (): SpecDatabase => {
  db ??= loadAwsServiceSpecSync();
  return db;
};

/** Types CloudFormation handles itself, without a registry schema. */
const UNCHECKED_TYPES = /^(Custom::|AWS::CloudFormation::CustomResource$|AWS::CDK::Metadata$)/;

const isIntrinsic = (value: unknown): boolean => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0]?.startsWith('Fn::') ?? false));
};

const describe = (value: unknown): string =>
  Array.isArray(value)
    ? 'a list'
    : value === null
      ? 'null'
      : `${typeof value} ${JSON.stringify(value).slice(0, 60)}`;

/** The problems of `value` as a `type` at `path`; none when it fits. */
const check = (value: unknown, type: PropertyType, path: string): string[] => {
  if (isIntrinsic(value)) return [];
  switch (type.type) {
    case 'json':
      return [];
    case 'string':
    case 'date-time': {
      if (typeof value !== 'string' && typeof value !== 'number')
        return [`${path}: expected a string, got ${describe(value)}`];
      const allowed = type.type === 'string' ? type.allowedValues : undefined;
      return allowed !== undefined && allowed.length > 0 && !allowed.includes(String(value))
        ? [`${path}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`]
        : [];
    }
    case 'number':
    case 'integer': {
      // CloudFormation takes numbers as JSON numbers or numeric strings.
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || Number.isNaN(n))
        return [`${path}: expected a number, got ${describe(value)}`];
      if (type.type === 'integer' && !Number.isInteger(n)) return [`${path}: expected an integer, got ${n}`];
      return [];
    }
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false'
        ? []
        : [`${path}: expected a boolean, got ${describe(value)}`];
    case 'null':
      return value === null ? [] : [`${path}: expected null, got ${describe(value)}`];
    case 'tag':
      return checkObject(
        value,
        {
          Key: { type: { type: 'string' }, required: true },
          Value: { type: { type: 'string' }, required: true },
        },
        path,
      );
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected a list, got ${describe(value)}`];
      return value.flatMap((element, i) => check(element, type.element, `${path}[${i}]`));
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return [`${path}: expected a map, got ${describe(value)}`];
      }
      return Object.entries(value).flatMap(([key, element]) =>
        check(element, type.element, `${path}.${key}`),
      );
    case 'union': {
      const attempts = type.types.map((t) => check(value, t, path));
      return attempts.some((problems) => problems.length === 0)
        ? []
        : [`${path}: fits none of its types (${attempts.map((p) => p[0]).join('; ')})`];
    }
    case 'ref': {
      const definition = spec().get('typeDefinition', type.reference.$ref);
      return checkObject(value, definition.properties, path);
    }
  }
};

/** `value` as a structure with `properties`: names known, required ones present, each typed. */
const checkObject = (value: unknown, properties: ResourceProperties, path: string): string[] => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [`${path}: expected a structure, got ${describe(value)}`];
  }
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const [name, v] of Object.entries(record)) {
    const property = properties[name];
    if (property === undefined) {
      problems.push(
        `${path}.${name}: no such property (known: ${Object.keys(properties).sort().join(', ')})`,
      );
      continue;
    }
    // A property whose type changed is valid under any of its types.
    const types = [property.type, ...(property.previousTypes ?? [])];
    const attempts = types.map((t) => check(v, t, `${path}.${name}`));
    if (!attempts.some((p) => p.length === 0)) problems.push(...(attempts[0] ?? []));
  }
  for (const [name, property] of Object.entries(properties)) {
    if (property.required === true && !(name in record)) problems.push(`${path}.${name}: is required`);
  }
  return problems;
};

/** Every problem of every resource of `template` (a synthesized template's JSON). */
export const schemaProblems = (template: {
  Resources?: Record<string, { Type: string; Properties?: unknown }>;
}): string[] =>
  Object.entries(template.Resources ?? {}).flatMap(([id, resource]) => {
    if (UNCHECKED_TYPES.test(resource.Type)) return [];
    const [type] = spec().lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (type === undefined) return [`${id}: ${resource.Type} is not a CloudFormation resource type`];
    return checkObject(resource.Properties ?? {}, type.properties, `${id} (${resource.Type})`);
  });
