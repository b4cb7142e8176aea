/**
 * Env template file names: `.env.example`, `.env.sample`, `.env.template` and their variants
 * (`.env.production.example`, `.env.example.local`). They hold names and placeholder values, never
 * secrets; the analysis reads them (env-vars.ts) and the source scan checks them for refusal markers
 * (scan.ts), by this one rule (the archive's rule in src/archive/rules.ts is the same).
 */
export const ENV_EXAMPLE_BASES = ['.env.example', '.env.sample', '.env.template'];

/** `.env.production.example`, `.env.example.local`, `.env.local.sample`: templates too. */
export const ENV_EXAMPLE_VARIANT = /^\.env\.(?:[\w-]+\.)+(?:example|sample|template)$|^\.env\.(?:example|sample|template)\.[\w.-]+$/i;

export function isEnvExampleName(base: string): boolean {
  return ENV_EXAMPLE_BASES.includes(base) || ENV_EXAMPLE_VARIANT.test(base);
}
