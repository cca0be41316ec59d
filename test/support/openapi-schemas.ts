/**
 * Validates values against the schemas of the OpenAPI document with Ajv (JSON Schema
 * 2020-12, OpenAPI 3.1's dialect): the document's component schemas are loaded as one
 * schema, and `#/components/schemas/X` references point into it.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';

const BASE = 'https://browserfleet.invalid/openapi.json';

const rewriteRefs = <T>(value: T): T =>
  JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${BASE}#/$defs/`)) as T;

export interface DocumentValidator {
  /** The errors of `value` against `schema` (a schema of the document, refs and all); none when valid. */
  errors(schema: unknown, value: unknown): ErrorObject[];
  /** The errors of `value` against the document's component `name`. */
  componentErrors(name: string, value: unknown): ErrorObject[];
}

export const documentValidator = (document: {
  components?: { schemas?: Record<string, unknown> };
}): DocumentValidator => {
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
  // OpenAPI's own keywords beside JSON Schema's: annotations, nothing to check.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  ajv.addFormat('uri', { type: 'string', validate: (s: string) => URL.canParse(s) });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });
  ajv.addSchema({ $id: BASE, $defs: rewriteRefs(document.components?.schemas ?? {}) });
  const errors = (schema: unknown, value: unknown): ErrorObject[] => {
    const validate = ajv.compile(rewriteRefs(schema as object));
    return validate(value) ? [] : (validate.errors ?? []);
  };
  return {
    errors,
    componentErrors: (name, value) => errors({ $ref: `#/components/schemas/${name}` }, value),
  };
};
