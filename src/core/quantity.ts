/**
 * Kubernetes resource quantities ("500m", "2", "512Mi", "1Gi"): pure parsing shared by the client
 * (`opendeploy resize`) and the embedded local gateway. No I/O, no imports.
 */

/** Cores, or null when the string is not a CPU quantity. */
export function parseCpu(value: string): number | null {
  const match = /^(\d+(?:\.\d+)?|\.\d+)(m?)$/.exec(value.trim());
  if (!match) return null;
  const n = Number(match[1]);
  return match[2] === 'm' ? n / 1000 : n;
}

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Bytes, or null when the string is not a memory quantity. */
export function parseMemory(value: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(value.trim());
  if (!match) return null;
  const unit = MEMORY_UNITS[match[2] ?? ''];
  return unit === undefined ? null : Number(match[1]) * unit;
}
