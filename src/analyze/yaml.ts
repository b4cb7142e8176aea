/**
 * The YAML parser, loaded on first use: most projects have no YAML file analysis reads, and the
 * parser costs about 35 ms of start-up to load. `yaml` is CommonJS under Node, so a synchronous
 * require keeps every caller synchronous.
 */
import type * as Yaml from 'yaml';
import { requireCjs } from '../core/cjs.js';

let loaded: typeof Yaml | undefined;

function yaml(): typeof Yaml {
  loaded ??= requireCjs('yaml') as typeof Yaml;
  return loaded;
}

export const parseYaml: typeof Yaml.parse = ((...args: Parameters<typeof Yaml.parse>) => yaml().parse(...args)) as typeof Yaml.parse;

export const parseAllDocuments: typeof Yaml.parseAllDocuments = ((...args: Parameters<typeof Yaml.parseAllDocuments>) =>
  yaml().parseAllDocuments(...args)) as typeof Yaml.parseAllDocuments;
