/**
 * Typed readers for JSON bodies that fail the way the hosted Go services do: a value of the wrong
 * JSON type is a 400 `json: cannot unmarshal <type> into Go struct field <Struct>.<field> of type
 * <gotype>`, and `null` means "absent". Clients get the same errors locally as in production.
 */

import type { JsonObject } from './http.js';
import { goTypeName, httpError } from './http.js';

function unmarshalError(value: unknown, struct: string, field: string, goType: string): Error {
  return httpError(400, `json: cannot unmarshal ${goTypeName(value)} into Go struct field ${struct}.${field} of type ${goType}`);
}

export function optString(body: JsonObject, field: string, struct: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw unmarshalError(value, struct, field, 'string');
  return value;
}

export function optInt(body: JsonObject, field: string, struct: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw unmarshalError(value, struct, field, 'int');
  return value;
}

export function optBool(body: JsonObject, field: string, struct: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw unmarshalError(value, struct, field, 'bool');
  return value;
}

export function optStringMap(body: JsonObject, field: string, struct: string): Record<string, string> | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw unmarshalError(value, struct, field, 'map[string]string');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw unmarshalError(v, struct, `${field}`, 'string');
    out[k] = v;
  }
  return out;
}

export function optStringArray(body: JsonObject, field: string, struct: string): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw unmarshalError(value, struct, field, '[]string');
  for (const item of value) if (typeof item !== 'string') throw unmarshalError(item, struct, field, 'string');
  return value as string[];
}

export function optArray(body: JsonObject, field: string, struct: string): unknown[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw unmarshalError(value, struct, field, '[]interface {}');
  return value;
}

export const ENVIRONMENTS = ['production', 'staging'] as const;

/** `environment` is optional everywhere; production is the default target (spec decision 5). */
export function environmentOf(body: JsonObject, struct: string): string {
  const env = optString(body, 'environment', struct);
  if (env === undefined || env === '') return 'production';
  if (!(ENVIRONMENTS as readonly string[]).includes(env)) {
    throw httpError(400, `invalid environment "${env}": must be production or staging`);
  }
  return env;
}

/** DNS label: lowercase alphanumerics and hyphens, no leading/trailing hyphen, at most 63 chars. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
